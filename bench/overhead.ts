// Overhead of tracing on the traced workload, measured in one run: a workload
// reports its operation count every 250 ms; the rate over a window before the
// trace is compared with the rate while the tracer is attached.
//   npx tsx bench/overhead.ts [windowSeconds]
import { createNamespace, deleteNamespace, k, sleep } from '../e2e/lib/kube.js';
import { createTraceJob, getTraceJob, waitForCondition, waitForPhase, waitPodReady, workloadPod } from '../e2e/lib/tracejob.js';

const windowS = Number(process.argv[2] ?? 5);
const cases = [
  { probe: 'tcpConnectLatency', mode: 'connect', unit: 'connects/s' },
  { probe: 'syscallLatency', mode: 'syscall', unit: 'read+write pairs/s' },
  { probe: 'cpuProfile', mode: 'cpu', unit: 'sha256/s' },
];

function samples(ns: string, pod: string): Array<{ t: number; ops: number }> {
  return k(['-n', ns, 'logs', pod])
    .split('\n')
    .map((l) => /^t=(\d+) ops=(\d+)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ t: Number(m[1]), ops: Number(m[2]) }));
}

function rate(s: Array<{ t: number; ops: number }>, from: number, to: number): number {
  const inWindow = s.filter((x) => x.t >= from && x.t <= to);
  const a = inWindow[0];
  const b = inWindow.at(-1);
  if (!a || !b || b.t === a.t) return NaN;
  return ((b.ops - a.ops) * 1000) / (b.t - a.t);
}

const ns = createNamespace('tj-overhead');
const rows: string[] = [];
try {
  for (const c of cases) {
    const pod = `rate-${c.mode}`;
    workloadPod(ns, pod, ['node', '/workloads/rate.js', c.mode]);
    waitPodReady(ns, pod);
    await sleep(3000); // warm-up (JIT)
    const beforeFrom = Date.now();
    await sleep(windowS * 1000);
    const beforeTo = Date.now();
    createTraceJob(ns, c.probe.toLowerCase(), { target: { pod: { name: pod } }, probe: { type: c.probe }, duration: `${windowS + 4}s` });
    await waitForCondition(ns, c.probe.toLowerCase(), 'Attached', 60_000);
    const attachedAt = Date.parse(getTraceJob(ns, c.probe.toLowerCase())?.status?.timing?.['attached'] ?? '') || Date.now();
    const duringFrom = Math.max(Date.now(), attachedAt + 1000);
    await sleep(duringFrom - Date.now() + windowS * 1000);
    const duringTo = Date.now();
    await waitForPhase(ns, c.probe.toLowerCase(), ['Succeeded', 'Failed'], 120_000);
    const s = samples(ns, pod);
    const base = rate(s, beforeFrom, beforeTo);
    const traced = rate(s, duringFrom, duringTo);
    rows.push(`${c.probe.padEnd(18)} ${base.toFixed(0).padStart(10)} ${traced.toFixed(0).padStart(10)}  ${(traced / base).toFixed(3)}  ${c.unit}`);
    k(['-n', ns, 'delete', 'pod', pod, '--wait=false']);
  }
} finally {
  deleteNamespace(ns);
}
console.log(`\nWorkload throughput without and with tracing (${windowS} s windows, one run each, 2-core node)`);
console.log(`${'probe'.padEnd(18)} ${'untraced'.padStart(10)} ${'traced'.padStart(10)}  ratio  unit`);
for (const r of rows) console.log(r);
