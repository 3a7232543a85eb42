// The plugin's commands against a fake API client: output, exit codes, and the
// --wait loop on a simulated clock.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TraceJob, TraceJobStatus } from '../api/tracejob.js';
import { ApiError, AlreadyExistsError, ForbiddenError, InvalidError, NotFoundError } from '../k8s/errors.js';
import { runCli, type CliIO } from './app.js';
import type { AgentPod, TraceJobClient } from './client.js';
import { describeError, EXIT } from './errors.js';
import type { EventRow } from './format.js';
import { waitForTraceJob } from './wait.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
const cond = (type: string, status = 'True', reason = type, message = '') => ({ type, status: status as 'True', reason, message, lastTransitionTime: iso(0) });

/** A fake cluster: created TraceJobs advance through phases as the fake clock moves. */
class FakeClient implements TraceJobClient {
  readonly defaultNamespace = 'default';
  objects = new Map<string, TraceJob>();
  configMaps = new Map<string, Record<string, string>>();
  created: Array<Record<string, unknown>> = [];
  /** Status by elapsed ms since creation (applied on get). */
  script: Array<{ at: number; status: TraceJobStatus }> = [];
  createdAt = 0;
  failGet: Error | undefined;
  events_: EventRow[] = [];
  pods: AgentPod[] | Error = [];
  constructor(readonly clock: { now: number }) {}

  async create(tj: Record<string, unknown>): Promise<TraceJob> {
    const m = tj['metadata'] as { name: string; namespace: string };
    const key = `${m.namespace}/${m.name}`;
    if (this.objects.has(key)) throw new AlreadyExistsError(409, 'AlreadyExists', `tracejobs.tracing.tracejob.dev "${m.name}" already exists`);
    const obj = { ...(tj as unknown as TraceJob), metadata: { ...m, uid: 'uid-1', generation: 1, creationTimestamp: iso(this.clock.now - T0) } };
    this.objects.set(key, obj);
    this.created.push(tj);
    this.createdAt = this.clock.now;
    return obj;
  }
  async get(namespace: string, name: string): Promise<TraceJob> {
    if (this.failGet) throw this.failGet;
    const obj = this.objects.get(`${namespace}/${name}`);
    if (!obj) throw new NotFoundError(404, 'NotFound', `tracejobs.tracing.tracejob.dev "${name}" not found`);
    const step = [...this.script].reverse().find((s) => this.clock.now - this.createdAt >= s.at);
    return step ? { ...obj, status: step.status } : obj;
  }
  async list(namespace: string | undefined): Promise<TraceJob[]> {
    return [...this.objects.values()].filter((o) => namespace === undefined || o.metadata.namespace === namespace);
  }
  async delete(namespace: string, name: string): Promise<boolean> {
    return this.objects.delete(`${namespace}/${name}`);
  }
  async configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    return this.configMaps.get(`${namespace}/${name}`);
  }
  async events(): Promise<EventRow[]> {
    return this.events_;
  }
  async agentPods(): Promise<AgentPod[]> {
    if (this.pods instanceof Error) throw this.pods;
    return this.pods;
  }
  podLogText: string | undefined;
  async podLog(_ns: string, name: string): Promise<string> {
    return this.podLogText ?? `log of ${name}`;
  }
  nodeReportTexts: string[] = [];
  async nodeReports(): Promise<string[]> {
    return this.nodeReportTexts;
  }
}

function harness(options: { tty?: boolean } = {}) {
  const clock = { now: T0 };
  const client = new FakeClient(clock);
  const out = { stdout: '', stderr: '', files: new Map<string, string>() };
  let connects = 0;
  const io: CliIO = {
    stdout: { write: (s) => void (out.stdout += s) },
    stderr: { write: (s) => void (out.stderr += s), isTTY: options.tty ?? false },
    readFile: (p) => {
      if (p === 'prog.bt') return 'BEGIN { exit(); }';
      throw new Error(`ENOENT: ${p}`);
    },
    writeFile: (p, d) => void out.files.set(p, d),
    now: () => clock.now,
    sleep: async (ms) => void (clock.now += ms),
    connect: () => {
      connects++;
      return client;
    },
    pollMs: 1000,
  };
  return { clock, client, out, io, connects: () => connects };
}

const attached = (): TraceJobStatus => ({
  phase: 'Running',
  observedGeneration: 1,
  conditions: [cond('Accepted'), cond('TargetResolved'), cond('NodeJobCreated'), cond('Attached')],
  timing: { accepted: iso(0), attached: iso(2000) },
});
const succeeded = (): TraceJobStatus => ({
  ...attached(),
  phase: 'Succeeded',
  summary: { headline: 'execs=3' },
  resultRef: { configMap: 'tj1-result', keys: ['result.json', 'report.txt'] },
  timing: { accepted: iso(0), attached: iso(2000), finished: iso(6000) },
});
const failed = (): TraceJobStatus => ({
  phase: 'Failed',
  observedGeneration: 1,
  message: 'pod default/ghost not found',
  conditions: [cond('Accepted'), cond('Failed', 'True', 'PodNotFound', 'pod default/ghost not found')],
});

const DOC = { probe: 'execs', tracer: { name: 'bpftrace', version: '0.23' }, startedAt: iso(2000), finishedAt: iso(5000), durationSeconds: 3, counters: { execs: 3 }, stacks: { folded: 'main;work 3\n', samples: 3 } };

describe('kubectl-tracejob commands', () => {
  test('run --wait: progress on stderr, the report on stdout, exit 0', async () => {
    const h = harness();
    h.client.script = [
      { at: 0, status: { phase: 'Pending', observedGeneration: 1, conditions: [cond('Accepted')] } },
      { at: 2000, status: attached() },
      { at: 6000, status: succeeded() },
    ];
    h.client.configMaps.set('default/tj1-result', { 'report.txt': 'TraceJob result: execs\nexecs=3\n', 'result.json': JSON.stringify(DOC) });
    const code = await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'execs', '--duration', '3s', '--wait'], h.io);
    assert.equal(code, EXIT.ok, h.out.stderr);
    assert.equal(h.out.stdout, 'TraceJob result: execs\nexecs=3\n');
    assert.match(h.out.stderr, /tracejob\.tracing\.tracejob\.dev\/tj1 created in default; waiting \(3s trace\)/);
    assert.match(h.out.stderr, /^Pending +1\/4 Accepted/m);
    assert.match(h.out.stderr, /^Running +4\/4 Attached +\[[#.]+\] +\d+% +\d+s left$/m);
    assert.match(h.out.stderr, /^Succeeded +4\/4 Attached +\[#+\] 100% +done in 6s$/m);
    assert.deepEqual(h.client.created[0]?.['spec'], { target: { pod: { name: 'web' } }, probe: { type: 'execs' }, duration: '3s' });
  });

  test('run --wait on a TTY rewrites one line', async () => {
    const h = harness({ tty: true });
    h.client.script = [{ at: 0, status: attached() }, { at: 6000, status: succeeded() }];
    h.client.configMaps.set('default/tj1-result', { 'result.json': JSON.stringify(DOC) });
    const code = await runCli(['run', 'tj1', '--pod', 'web', '-p', 'execs', '-d', '3s', '-w'], h.io);
    assert.equal(code, EXIT.ok);
    assert.ok(h.out.stderr.includes('\r\u001b[2KRunning'), 'redraws with CR + erase-line');
    assert.ok(h.out.stderr.endsWith('done in 6s\n'), JSON.stringify(h.out.stderr.slice(-80)));
    // No report.txt: rendered from result.json.
    assert.match(h.out.stdout, /^TraceJob result: execs/);
  });

  test('run --wait on a failing TraceJob: reason on stderr, exit 1', async () => {
    const h = harness();
    h.client.script = [{ at: 1000, status: failed() }];
    const code = await runCli(['-n', 'default', 'run', 'tj1', '--pod', 'ghost', '--probe', 'execs', '--wait'], h.io);
    assert.equal(code, EXIT.failed);
    assert.match(h.out.stderr, /TraceJob default\/tj1 Failed: PodNotFound: pod default\/ghost not found/);
    assert.equal(h.out.stdout, '');
  });

  test('run --wait past --timeout: exit 4, the TraceJob is left running', async () => {
    const h = harness();
    h.client.script = [{ at: 0, status: attached() }];
    const code = await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'execs', '--duration', '30s', '--wait', '--timeout', '10s'], h.io);
    assert.equal(code, EXIT.timeout);
    assert.match(h.out.stderr, /timed out after 10s waiting for TraceJob default\/tj1 \(phase Running\); it keeps running/);
    assert.equal(h.client.objects.size, 1);
  });

  test('run with a bad param: exit 2, nothing created, no API connection at all', async () => {
    const h = harness();
    const code = await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'cpuProfile', '--param', 'hz=100000', '-n', 'shop'], h.io);
    assert.equal(code, EXIT.usage);
    assert.match(h.out.stderr, /invalid TraceJob:\n {2}spec\.probe\.params\.hz: hz must be <= \d+/);
    assert.equal(h.client.created.length, 0);
    assert.equal(h.connects(), 0);
  });

  test('usage errors exit 2: unknown option, missing argument, bad choice, bad number', async () => {
    for (const argv of [['run'], ['get', '--bogus'], ['get', '-o', 'xml'], ['run', 'x', '--pod', 'p', '--probe', 'execs', '--top-n', '0'], ['nosuchcommand'], []]) {
      const h = harness();
      assert.equal(await runCli(argv, h.io), EXIT.usage, argv.join(' '));
      assert.ok(h.out.stderr.length > 0, argv.join(' '));
    }
    const h = harness();
    assert.equal(await runCli(['--help'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /Exit codes: 0 success, 1 TraceJob Failed, 2 usage\/validation error, 3 API\/connection error, 4 timeout/);
  });

  test('run --dry-run prints YAML and creates nothing; --program-file sets a custom program', async () => {
    const h = harness();
    const code = await runCli(['run', 'c1', '--pod', 'web', '--program-file', 'prog.bt', '--dry-run', '-n', 'ops'], h.io);
    assert.equal(code, EXIT.ok, h.out.stderr);
    assert.match(h.out.stdout, /kind: TraceJob\nmetadata:\n {2}name: c1\n {2}namespace: ops\nspec:/);
    assert.match(h.out.stdout, /type: bpftrace\n {4}program: BEGIN \{ exit\(\); \}/);
    assert.equal(h.connects(), 0);
    const missing = harness();
    assert.equal(await runCli(['run', 'c1', '--pod', 'web', '--program-file', 'nope.bt'], missing.io), EXIT.usage);
    assert.match(missing.out.stderr, /cannot read --program-file/);
  });

  test('run without --wait prints kubectl-style lines; a taken name exits 2', async () => {
    const h = harness();
    assert.equal(await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'execs'], h.io), EXIT.ok);
    assert.equal(h.out.stdout, 'tracejob.tracing.tracejob.dev/tj1 created\n');
    assert.equal(await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'execs'], h.io), EXIT.usage);
    assert.match(h.out.stderr, /already exists/);
  });

  test('get: table, -o json list, -o json single, not found exits 3', async () => {
    const h = harness();
    await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'execs'], h.io);
    h.client.script = [{ at: 0, status: succeeded() }];
    h.out.stdout = '';
    assert.equal(await runCli(['get'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /^NAME +PROBE +TARGET +PHASE +SUMMARY +AGE\ntj1 +execs +pod\/web +Pending +0s\n$/);
    h.out.stdout = '';
    assert.equal(await runCli(['get', '-o', 'json'], h.io), EXIT.ok);
    const list = JSON.parse(h.out.stdout) as { kind: string; items: TraceJob[] };
    assert.equal(list.kind, 'List');
    assert.equal(list.items[0]?.metadata.name, 'tj1');
    h.out.stdout = '';
    assert.equal(await runCli(['get', 'tj1', '-o', 'yaml'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /^apiVersion: tracing\.tracejob\.dev\/v1alpha1\nkind: TraceJob/);
    assert.match(h.out.stdout, /phase: Succeeded/);
    assert.equal(await runCli(['get', 'nope'], h.io), EXIT.api);
    assert.match(h.out.stderr, /"nope" not found/);
    assert.equal(await runCli(['get', 'tj1', '-A'], h.io), EXIT.usage);
    const empty = harness();
    assert.equal(await runCli(['get', '-n', 'void'], empty.io), EXIT.ok);
    assert.equal(empty.out.stderr, 'No resources found in void namespace.\n');
  });

  test('report: text, json, flame graph from folded stacks; unfinished exits 4; failed exits 1', async () => {
    const h = harness();
    await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'cpuProfile'], h.io);
    h.client.configMaps.set('default/tj1-result', { 'report.txt': 'REPORT\n', 'result.json': JSON.stringify(DOC) });
    h.out.stdout = '';
    h.client.script = [{ at: 0, status: attached() }];
    assert.equal(await runCli(['report', 'tj1'], h.io), EXIT.timeout);
    assert.match(h.out.stderr, /has not finished \(phase Running\); use --wait/);
    h.client.script = [{ at: 0, status: succeeded() }];
    assert.equal(await runCli(['report', 'tj1', '--flamegraph', 'out.svg'], h.io), EXIT.ok);
    assert.equal(h.out.stdout, 'REPORT\n');
    assert.match(h.out.files.get('out.svg') ?? '', /^<\?xml|<svg/);
    h.out.stdout = '';
    assert.equal(await runCli(['report', 'tj1', '-o', 'json'], h.io), EXIT.ok);
    assert.equal((JSON.parse(h.out.stdout) as { probe: string }).probe, 'execs');
    h.client.configMaps.set('default/tj1-result', { 'report.txt': 'R\n' });
    assert.equal(await runCli(['report', 'tj1', '--flamegraph', 'x.svg'], h.io), EXIT.usage);
    h.client.script = [{ at: 0, status: failed() }];
    assert.equal(await runCli(['report', 'tj1'], h.io), EXIT.failed);
    assert.match(h.out.stderr, /Failed: PodNotFound/);
  });

  test('probes needs no cluster: table, json with 28 entries, one probe in detail', async () => {
    const h = harness();
    assert.equal(await runCli(['probes', '-o', 'json'], h.io), EXIT.ok);
    assert.equal((JSON.parse(h.out.stdout) as unknown[]).length, 28);
    h.out.stdout = '';
    assert.equal(await runCli(['probes', 'slowFileOps'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /thresholdMs \(number, default 10\): report operations at least this slow/);
    assert.equal(await runCli(['probes', 'nosuch'], h.io), EXIT.usage);
    assert.equal(h.connects(), 0);
  });

  test('probes --nodes: which node can run which probe', async () => {
    const h = harness();
    assert.equal(await runCli(['probes', '--nodes'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /No node capability reports in tracejob-system yet/);
    const report = { node: 'n1', reportedAt: iso(-60_000), kernel: '6.1.0', btf: true, tracefs: true, kprobes: false, kfunc: false, uprobes: false, perfEvents: true, cgroupVersion: 'v2', backends: ['bpftrace'], bpftrace: '0.23.2' };
    h.client.nodeReportTexts = [JSON.stringify(report), JSON.stringify({ ...report, node: 'n2', uprobes: true, perfEvents: false }), 'not json'];
    h.out.stdout = '';
    assert.equal(await runCli(['probes', '--nodes'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /^n1 +6\.1\.0 +0\.23\.2 +yes +no +no +yes +v2 +60s ago$/m);
    assert.match(h.out.stdout, /^dnsLatency +no: uprobes +yes$/m);
    assert.match(h.out.stdout, /^cpuProfile +yes +no: perfEvents$/m);
    assert.match(h.out.stdout, /^execs +yes +yes$/m);
    h.out.stdout = '';
    assert.equal(await runCli(['probes', 'dnsLatency', '--nodes', '-o', 'json'], h.io), EXIT.ok);
    assert.deepEqual((JSON.parse(h.out.stdout) as { nodes: Record<string, string> }).nodes, { n1: 'no: uprobes', n2: 'yes' });
  });

  test('delete, describe and logs', async () => {
    const h = harness();
    await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'execs'], h.io);
    h.client.script = [{ at: 0, status: succeeded() }];
    h.client.events_ = [{ type: 'Normal', reason: 'Accepted', message: 'Accepted execs trace', last: iso(0) }];
    h.out.stdout = '';
    assert.equal(await runCli(['describe', 'tj1'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /^Phase: +Succeeded$/m);
    assert.match(h.out.stdout, /Events:\n {2}LAST SEEN +TYPE +REASON +MESSAGE\n {2}0s +Normal +Accepted +Accepted execs trace/);
    h.out.stdout = '';
    h.client.pods = [{ name: 'tj-abc-g1-x', node: 'n1', phase: 'Running' }];
    assert.equal(await runCli(['logs', 'tj1'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /--- agent pod tracejob-system\/tj-abc-g1-x on n1 \(Running\) ---\nlog of tj-abc-g1-x\n/);
    h.out.stdout = '';
    h.client.pods = new ForbiddenError(403, 'Forbidden', 'pods is forbidden');
    assert.equal(await runCli(['logs', 'tj1', '--operator-namespace', 'ops'], h.io), EXIT.ok);
    assert.match(h.out.stdout, /not allowed to list pods in ops/);
    h.out.stdout = '';
    assert.equal(await runCli(['delete', 'tj1'], h.io), EXIT.ok);
    assert.equal(h.out.stdout, 'tracejob.tracing.tracejob.dev "tj1" deleted\n');
    assert.equal(await runCli(['delete', 'tj1'], h.io), EXIT.api);
    assert.equal(await runCli(['delete', 'tj1', '--ignore-not-found'], h.io), EXIT.ok);
  });

  test('API and connection errors exit 3', async () => {
    const h = harness();
    h.client.failGet = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    await h.client.create({ metadata: { name: 'x', namespace: 'default' }, spec: {} });
    assert.equal(await runCli(['get', 'x'], h.io), EXIT.api);
    assert.match(h.out.stderr, /cannot reach the API server \(ECONNREFUSED\): fetch failed/);
  });
});

describe('workload-chosen text reaches the terminal escaped', () => {
  // A file name a hostile workload opens: OSC retitles the terminal, CSI clears the screen.
  const EVIL = '\x1b]0;pwned\x07\x1b[2J evil';
  const SHOWN = '\\x1b]0;pwned\\x07\\x1b[2J evil';
  /** Anything a terminal or a bidi renderer acts on, except LF. */
  const ACTIVE = /(?![\n])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
  const hostileDoc = { ...DOC, probe: 'fileOpens', tables: [{ name: 'opens', columns: ['path', 'count'], rows: [[EVIL, 3]] }], events: [{ path: `${EVIL}\u202Etxt.exe` }] };

  async function finished(status: TraceJobStatus) {
    const h = harness();
    await runCli(['run', 'tj1', '--pod', 'web', '--probe', 'fileOpens'], h.io);
    h.client.script = [{ at: 0, status }];
    h.out.stdout = '';
    h.out.stderr = '';
    return h;
  }

  test('report: report.txt as stored (even unescaped), and rendered from result.json', async () => {
    const h = await finished({ ...succeeded(), summary: { headline: `3 opens, top: ${EVIL}(3)` } });
    // A raw report.txt: written by an older operator, or by anyone who may edit ConfigMaps there.
    h.client.configMaps.set('default/tj1-result', { 'report.txt': `opens\n${EVIL}  3\n`, 'result.json': JSON.stringify(hostileDoc) });
    assert.equal(await runCli(['report', 'tj1'], h.io), EXIT.ok);
    assert.doesNotMatch(h.out.stdout, ACTIVE);
    assert.equal(h.out.stdout, `opens\n${SHOWN}  3\n`);
    h.out.stdout = '';
    h.client.configMaps.set('default/tj1-result', { 'result.json': JSON.stringify(hostileDoc) });
    assert.equal(await runCli(['report', 'tj1'], h.io), EXIT.ok);
    assert.doesNotMatch(h.out.stdout, ACTIVE);
    assert.ok(h.out.stdout.includes(SHOWN), h.out.stdout);
  });

  test('report -o json / -o yaml: the same data, every such character escaped', async () => {
    const h = await finished(succeeded());
    h.client.configMaps.set('default/tj1-result', { 'result.json': JSON.stringify(hostileDoc) });
    assert.equal(await runCli(['report', 'tj1', '-o', 'json'], h.io), EXIT.ok);
    assert.doesNotMatch(h.out.stdout, ACTIVE);
    assert.deepEqual(JSON.parse(h.out.stdout), hostileDoc);
    h.out.stdout = '';
    assert.equal(await runCli(['report', 'tj1', '-o', 'yaml'], h.io), EXIT.ok);
    assert.doesNotMatch(h.out.stdout, ACTIVE);
    const { parse } = await import('yaml');
    assert.deepEqual(parse(h.out.stdout), hostileDoc);
  });

  test('get, describe, logs and a failure: headline, messages, events and the agent log escaped', async () => {
    const h = await finished({ ...succeeded(), summary: { headline: `3 opens, top: ${EVIL}(3)` } });
    assert.equal(await runCli(['get', 'tj1', '-o', 'wide'], h.io), EXIT.ok);
    assert.doesNotMatch(h.out.stdout, ACTIVE);
    assert.ok(h.out.stdout.includes('\\x1b]0;pwned'), h.out.stdout);
    h.out.stdout = '';
    h.client.events_ = [{ type: 'Warning', reason: 'TracerFailed', message: `open ${EVIL}\nforged line`, last: iso(0) }];
    assert.equal(await runCli(['describe', 'tj1'], h.io), EXIT.ok);
    assert.doesNotMatch(h.out.stdout, ACTIVE);
    assert.match(h.out.stdout, /^Summary: +3 opens, top: \\x1b\]0;pwned/m);
    h.out.stdout = '';
    h.client.pods = [{ name: 'tj-abc-g1-x', node: 'n1', phase: 'Running' }];
    h.client.podLogText = `{"tracejob":"attached"}\nprintf: ${EVIL}\n`;
    assert.equal(await runCli(['logs', 'tj1'], h.io), EXIT.ok);
    assert.doesNotMatch(h.out.stdout, ACTIVE);
    assert.ok(h.out.stdout.includes(`\nprintf: ${SHOWN}\n`), h.out.stdout);
    h.client.script = [{ at: 0, status: { ...failed(), message: `bpftrace: ${EVIL}`, conditions: [cond('Failed', 'True', 'TracerFailed', `bpftrace: ${EVIL}`)] } }];
    assert.equal(await runCli(['report', 'tj1'], h.io), EXIT.failed);
    assert.doesNotMatch(h.out.stderr, ACTIVE);
    assert.ok(h.out.stderr.includes(`TracerFailed: bpftrace: ${SHOWN}`), h.out.stderr);
  });
});

describe('error → exit code', () => {
  test('mapping', () => {
    assert.equal(describeError(new InvalidError(422, 'Invalid', 'bad', { causes: [{ field: 'spec.duration', message: 'duration must be between 1s and 1h' }] })).code, EXIT.usage);
    assert.match(describeError(new InvalidError(422, 'Invalid', 'bad', { causes: [{ field: 'spec.duration', message: 'too long' }] })).message, /spec\.duration: too long/);
    assert.equal(describeError(new ForbiddenError(403, 'Forbidden', 'no')).code, EXIT.api);
    assert.equal(describeError(new ApiError(500, 'InternalError', 'boom')).code, EXIT.api);
    assert.equal(describeError(new NotFoundError(404, 'NotFound', 'gone')).code, EXIT.api);
    assert.equal(describeError(new AlreadyExistsError(409, 'AlreadyExists', 'taken')).code, EXIT.usage);
  });
});

describe('waitForTraceJob', () => {
  const base = (status: TraceJobStatus | undefined, generation = 1): TraceJob => ({
    apiVersion: 'tracing.tracejob.dev/v1alpha1',
    kind: 'TraceJob',
    metadata: { name: 'a', namespace: 'b', uid: 'u', generation },
    spec: { target: { pod: { name: 'p' } }, probe: { type: 'execs' } },
    ...(status ? { status } : {}),
  });

  test('ignores a terminal status of an older generation', async () => {
    let now = 0;
    let calls = 0;
    const r = await waitForTraceJob(
      {
        fetch: async () => (++calls < 3 ? base(succeeded(), 2) : base({ ...succeeded(), observedGeneration: 2 }, 2)),
        now: () => now,
        sleep: async (ms) => void (now += ms),
      },
      { durationMs: 1000, timeoutMs: 60_000, pollMs: 1000 },
    );
    assert.equal(r.kind, 'finished');
    assert.equal(calls, 3);
  });

  test('tolerates transient errors, gives up after maxErrors, rethrows NotFound at once', async () => {
    let now = 0;
    let calls = 0;
    const flaky = await waitForTraceJob(
      {
        fetch: async () => {
          if (++calls <= 2) throw new ApiError(503, 'ServiceUnavailable', 'later');
          return base(succeeded());
        },
        now: () => now,
        sleep: async (ms) => void (now += ms),
      },
      { durationMs: 1000, timeoutMs: 60_000 },
    );
    assert.equal(flaky.kind, 'finished');
    await assert.rejects(
      waitForTraceJob({ fetch: async () => Promise.reject(new ApiError(503, 'x', 'down')), now: () => now, sleep: async (ms) => void (now += ms) }, { durationMs: 1, timeoutMs: 600_000, maxErrors: 3 }),
      /down/,
    );
    await assert.rejects(
      waitForTraceJob({ fetch: async () => Promise.reject(new NotFoundError(404, 'NotFound', 'deleted')), now: () => now, sleep: async (ms) => void (now += ms) }, { durationMs: 1, timeoutMs: 600_000 }),
      NotFoundError,
    );
  });
});
