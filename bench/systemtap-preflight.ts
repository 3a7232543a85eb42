// What refreshing a node capability report costs a SystemTap run: apply→verdict
// of `backend: systemtap` TraceJobs on the local cluster with the report deleted
// first (a preflight-only job runs before the trace job) and with a fresh report
// (straight to the trace job). These nodes cannot run SystemTap, so every run ends
// Failed/Unsupported once the agent has looked; the difference is the preflight.
//   npx tsx bench/systemtap-preflight.ts [runs]
import { createNamespace, deleteNamespace, k } from '../e2e/lib/kube.js';
import { OPERATOR_NS, createTraceJob, getTraceJob, waitPodReady, workloadPod } from '../e2e/lib/tracejob.js';

const runs = Number(process.argv[2] ?? 5);
const ns = createNamespace('tj-bench-stap');
workloadPod(ns, 'target', ['node', '/workloads/noisy.js']);
waitPodReady(ns, 'target');
const node = k(['-n', ns, 'get', 'pod', 'target', '-o', 'jsonpath={.spec.nodeName}']).trim();

async function runOnce(name: string): Promise<number> {
  const t0 = Date.now();
  createTraceJob(ns, name, { target: { pod: { name: 'target' } }, probe: { type: 'tcpRetransmits' }, backend: 'systemtap', duration: '5s' });
  for (;;) {
    const tj = getTraceJob(ns, name);
    if (tj?.status?.phase === 'Failed' || tj?.status?.phase === 'Succeeded') {
      const reason = tj.status.conditions?.find((c) => c.type === 'Failed')?.reason;
      if (reason !== 'Unsupported') throw new Error(`${name}: expected Unsupported, got ${tj.status.phase}/${reason}: ${tj.status.message}`);
      k(['-n', ns, 'delete', 'tracejob', name, '--wait=false']);
      return Date.now() - t0;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const withPreflight: number[] = [];
const fresh: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    k(['-n', OPERATOR_NS, 'delete', 'configmap', `tracejob-node-${node}`, '--ignore-not-found']);
    withPreflight.push(await runOnce(`pf-${i}`));
    fresh.push(await runOnce(`fresh-${i}`));
    console.log(`run ${i + 1}/${runs}: report missing ${withPreflight.at(-1)} ms, report fresh ${fresh.at(-1)} ms`);
  }
} finally {
  deleteNamespace(ns);
}
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `p50 ${s[Math.floor((s.length - 1) / 2)]} ms, max ${s.at(-1)} ms`;
};
console.log(`\nbackend: systemtap apply→verdict over ${runs} runs each (node ${node})`);
console.log(`report missing (preflight job first): ${stats(withPreflight)}`);
console.log(`report fresh                        : ${stats(fresh)}`);
