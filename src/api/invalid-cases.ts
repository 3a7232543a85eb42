// Invalid TraceJob specs and who must reject them. Shared by the schema unit
// test and the e2e test against the real API server, so both prove the same table.
export interface InvalidCase {
  name: string;
  spec: unknown;
  /** 'crd': the API server refuses the object; 'operator': admitted, then marked Invalid. */
  rejectedBy: 'crd' | 'operator';
  /** A fragment the error message must contain (names the field or the rule). */
  expect: string;
}

const pod = { pod: { name: 'web-0' } };
const execs = { type: 'execs' };

export const INVALID_CASES: InvalidCase[] = [
  { name: 'no target', spec: { target: {}, probe: execs }, rejectedBy: 'crd', expect: 'exactly one of target.pod' },
  {
    name: 'two targets',
    spec: { target: { pod: { name: 'a' }, node: { name: 'n1' } }, probe: execs },
    rejectedBy: 'crd',
    expect: 'exactly one of target.pod',
  },
  {
    name: 'three targets',
    spec: { target: { pod: { name: 'a' }, node: { name: 'n' }, selector: { matchLabels: { a: 'b' } } }, probe: execs },
    rejectedBy: 'crd',
    expect: 'exactly one of target.pod',
  },
  { name: 'missing target', spec: { probe: execs }, rejectedBy: 'crd', expect: 'target' },
  { name: 'missing probe', spec: { target: pod }, rejectedBy: 'crd', expect: 'probe' },
  { name: 'unknown probe', spec: { target: pod, probe: { type: 'tcpMagic' } }, rejectedBy: 'crd', expect: 'probe.type' },
  { name: 'probe type not a string', spec: { target: pod, probe: { type: 7 } }, rejectedBy: 'crd', expect: 'probe.type' },
  { name: 'duration 0s', spec: { target: pod, probe: execs, duration: '0s' }, rejectedBy: 'crd', expect: 'between 1s and 1h' },
  { name: 'duration -5s', spec: { target: pod, probe: execs, duration: '-5s' }, rejectedBy: 'crd', expect: 'duration' },
  { name: 'duration 2h', spec: { target: pod, probe: execs, duration: '2h' }, rejectedBy: 'crd', expect: 'between 1s and 1h' },
  { name: 'duration abc', spec: { target: pod, probe: execs, duration: 'abc' }, rejectedBy: 'crd', expect: 'duration' },
  { name: 'duration 500ms', spec: { target: pod, probe: execs, duration: '500ms' }, rejectedBy: 'crd', expect: 'between 1s and 1h' },
  { name: 'duration number', spec: { target: pod, probe: execs, duration: 30 }, rejectedBy: 'crd', expect: 'duration' },
  {
    name: 'program on a catalog probe',
    spec: { target: pod, probe: { type: 'execs', program: 'BEGIN { exit(); }' } },
    rejectedBy: 'crd',
    expect: 'only allowed for custom probe types',
  },
  {
    name: 'custom bpftrace without program',
    spec: { target: pod, probe: { type: 'bpftrace' } },
    rejectedBy: 'crd',
    expect: 'program is required',
  },
  {
    name: 'pod name over 253 characters',
    spec: { target: { pod: { name: 'a'.repeat(254) } }, probe: execs },
    rejectedBy: 'crd',
    expect: 'name',
  },
  {
    name: 'pod name with uppercase',
    spec: { target: { pod: { name: 'Web-0' } }, probe: execs },
    rejectedBy: 'crd',
    expect: 'name',
  },
  {
    name: 'container name over 63 characters',
    spec: { target: { pod: { name: 'web-0', container: 'c'.repeat(64) } }, probe: execs },
    rejectedBy: 'crd',
    expect: 'container',
  },
  {
    name: 'namespace with underscore',
    spec: { target: { pod: { name: 'web-0', namespace: 'my_ns' } }, probe: execs },
    rejectedBy: 'crd',
    expect: 'namespace',
  },
  {
    name: 'empty selector',
    spec: { target: { selector: {} }, probe: execs },
    rejectedBy: 'crd',
    expect: 'selector must have at least one',
  },
  {
    name: 'selector with bad operator',
    spec: { target: { selector: { matchExpressions: [{ key: 'app', operator: 'Like' }] } }, probe: execs },
    rejectedBy: 'crd',
    expect: 'operator',
  },
  { name: 'unknown backend', spec: { target: pod, probe: execs, backend: 'dtrace' }, rejectedBy: 'crd', expect: 'backend' },
  { name: 'topN zero', spec: { target: pod, probe: execs, output: { topN: 0 } }, rejectedBy: 'crd', expect: 'topN' },
  { name: 'topN too large', spec: { target: pod, probe: execs, output: { topN: 5000 } }, rejectedBy: 'crd', expect: 'topN' },
  { name: 'maxEvents negative', spec: { target: pod, probe: execs, output: { maxEvents: -1 } }, rejectedBy: 'crd', expect: 'maxEvents' },
  {
    name: 'configMapName invalid',
    spec: { target: pod, probe: execs, output: { configMapName: 'Bad Name' } },
    rejectedBy: 'crd',
    expect: 'configMapName',
  },
  {
    name: 'negative ttl',
    spec: { target: pod, probe: execs, ttlSecondsAfterFinished: -1 },
    rejectedBy: 'crd',
    expect: 'ttlSecondsAfterFinished',
  },
  {
    name: 'program over 64 KiB',
    spec: { target: pod, probe: { type: 'bpftrace', program: 'x'.repeat(65537) } },
    rejectedBy: 'crd',
    expect: 'program',
  },
  // Rules the schema cannot express: per-probe params.
  {
    name: 'params of the wrong type',
    spec: { target: pod, probe: { type: 'syscallLatency', params: { syscalls: 'read' } } },
    rejectedBy: 'operator',
    expect: 'spec.probe.params.syscalls',
  },
  {
    name: 'unknown param',
    spec: { target: pod, probe: { type: 'execs', params: { bogus: 1 } } },
    rejectedBy: 'operator',
    expect: 'spec.probe.params',
  },
  {
    name: 'funcLatency function name injection',
    spec: {
      target: pod,
      probe: { type: 'funcLatency', params: { binary: '/usr/bin/app', function: 'f) { system("id"); }' } },
    },
    rejectedBy: 'operator',
    expect: 'spec.probe.params.function',
  },
  {
    name: 'node-only probe on a pod target',
    spec: { target: pod, probe: { type: 'interrupts' } },
    rejectedBy: 'operator',
    expect: 'node target',
  },
];
