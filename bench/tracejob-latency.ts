// apply→attached and apply→succeeded latency of a TraceJob on the local
// cluster, over N runs (default 10). Prints p50 and max. Needs the cluster up
// and the operator installed (bash hack/install-operator.sh).
//   npx tsx bench/tracejob-latency.ts [runs] [duration]
import { createNamespace, deleteNamespace, k } from '../e2e/lib/kube.js';
import { createTraceJob, getTraceJob, waitPodReady, workloadPod } from '../e2e/lib/tracejob.js';

const runs = Number(process.argv[2] ?? 10);
const duration = process.argv[3] ?? '2s';
const ns = createNamespace('tj-bench');
workloadPod(ns, 'target', ['node', '/workloads/noisy.js']);
waitPodReady(ns, 'target');

const attached: number[] = [];
const succeeded: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const name = `lat-${i}`;
    const t0 = Date.now();
    createTraceJob(ns, name, { target: { pod: { name: 'target' } }, probe: { type: 'execs' }, duration });
    let tAttached: number | undefined;
    for (;;) {
      const tj = getTraceJob(ns, name);
      if (!tAttached && tj?.status?.conditions?.some((c) => c.type === 'Attached' && c.status === 'True')) tAttached = Date.now();
      if (tj?.status?.phase === 'Succeeded' || tj?.status?.phase === 'Failed') {
        if (tj.status.phase === 'Failed') throw new Error(`run ${i} failed: ${tj.status.message}`);
        // The agent's own attach timestamp is exact; the poll time is an upper bound.
        const agentAttach = Date.parse(tj.status.timing?.['attached'] ?? '');
        const created = Date.parse(String((tj.metadata as { creationTimestamp?: string }).creationTimestamp ?? ''));
        attached.push(Number.isFinite(agentAttach) && Number.isFinite(created) ? agentAttach - created : (tAttached ?? Date.now()) - t0);
        succeeded.push(Date.now() - t0);
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    k(['-n', ns, 'delete', 'tracejob', name, '--wait=false']);
    console.log(`run ${i + 1}/${runs}: attached ${attached.at(-1)} ms, succeeded ${succeeded.at(-1)} ms`);
  }
} finally {
  deleteNamespace(ns);
}

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor((s.length - 1) / 2)], max: s.at(-1) };
};
const a = stats(attached);
const s = stats(succeeded);
console.log(`\nTraceJob latency over ${runs} runs (probe execs, duration ${duration}; creation timestamps have 1 s resolution)`);
console.log(`apply→attached : p50 ${a.p50} ms, max ${a.max} ms`);
console.log(`apply→succeeded: p50 ${s.p50} ms, max ${s.max} ms`);
