// Operator footprint on the local cluster: idle RSS, RSS under load, and API
// calls per TraceJob, read from the leader's /metrics (pod IPs are reachable
// from the node). Runs N TraceJobs at once (default 5).
//   npx tsx bench/operator-footprint.ts [n]
import { createNamespace, deleteNamespace, getJson, k } from '../e2e/lib/kube.js';
import { OPERATOR_NS, createTraceJob, waitForPhase, waitPodReady, workloadPod } from '../e2e/lib/tracejob.js';

const n = Number(process.argv[2] ?? 5);

function leaderPodIP(): string {
  const lease = getJson<{ spec: { holderIdentity: string } }>(['-n', OPERATOR_NS, 'get', 'lease', 'tracejob-operator']);
  const pod = lease.spec.holderIdentity.split('_')[0] ?? '';
  return getJson<{ status: { podIP: string } }>(['-n', OPERATOR_NS, 'get', 'pod', pod]).status.podIP;
}

async function scrape(ip: string): Promise<{ rss: number; heap: number; calls: number; byVerb: Record<string, number> }> {
  const text = await (await fetch(`http://${ip}:8081/metrics`)).text();
  const value = (name: string) => Number(text.match(new RegExp(`^${name} ([0-9.e+]+)$`, 'm'))?.[1] ?? NaN);
  const byVerb: Record<string, number> = {};
  let calls = 0;
  for (const m of text.matchAll(/^tracejob_api_calls_total\{verb="([^"]+)",resource="([^"]+)"\} ([0-9.e+]+)$/gm)) {
    const v = Number(m[3]);
    calls += v;
    byVerb[`${m[1]} ${m[2]}`] = v;
  }
  return { rss: value('process_resident_memory_bytes'), heap: value('nodejs_heap_size_used_bytes'), calls, byVerb };
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const ip = leaderPodIP();
const before = await scrape(ip);
console.log(`idle leader: RSS ${mb(before.rss)}, V8 heap used ${mb(before.heap)}`);

const ns = createNamespace('tj-footprint');
try {
  workloadPod(ns, 'target', ['node', '/workloads/noisy.js']);
  waitPodReady(ns, 'target');
  const t0 = Date.now();
  for (let i = 0; i < n; i++) createTraceJob(ns, `fp-${i}`, { target: { pod: { name: 'target' } }, probe: { type: 'execs' }, duration: '3s' });
  let peak = before.rss;
  const sampler = setInterval(() => void scrape(ip).then((s) => (peak = Math.max(peak, s.rss))).catch(() => undefined), 500);
  for (let i = 0; i < n; i++) await waitForPhase(ns, `fp-${i}`, ['Succeeded', 'Failed'], 120_000);
  clearInterval(sampler);
  const after = await scrape(ip);
  console.log(`${n} concurrent TraceJobs finished in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`leader RSS during the runs: peak ${mb(peak)}; after: ${mb(after.rss)}`);
  console.log(`API calls: ${after.calls - before.calls} total, ${((after.calls - before.calls) / n).toFixed(1)} per TraceJob`);
  for (const [key, v] of Object.entries(after.byVerb).sort()) {
    const d = v - (before.byVerb[key] ?? 0);
    if (d > 0) console.log(`  ${key.padEnd(28)} ${(d / n).toFixed(1)} per TraceJob`);
  }
} finally {
  k(['-n', ns, 'delete', 'tracejobs', '--all', '--wait=false']);
  deleteNamespace(ns);
}
