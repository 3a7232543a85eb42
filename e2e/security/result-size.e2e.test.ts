// A tenant's workload does its worst to the result: 100,000 failed opens of
// distinct 200-character paths while fileOpens traces it with maxEvents 100,000
// (tens of MB of events). The agent bounds its result record in bytes and says
// what it cut; the operator reads the log with a byte limit. The run ends
// Succeeded with the cut stated, no operator pod restarts, and the operator's
// memory stays under its limit all along (sampled while the run is collected).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterReachable, createNamespace, deleteNamespace, getJson, kubectl } from '../lib/kube.js';
import { OPERATOR_NS, installCrdsAndOperator, traceWorkloadPod } from '../lib/tracejob.js';

const reachable = clusterReachable();
const OPENS = 100_000;

interface OperatorPod {
  metadata: { name: string; uid: string };
  spec: { nodeName: string; containers: Array<{ name: string; resources?: { limits?: { memory?: string } }; ports?: Array<{ name?: string; containerPort: number }> }> };
  status: { containerStatuses?: Array<{ name: string; restartCount: number }> };
}

function operatorPods(): OperatorPod[] {
  return getJson<{ items: OperatorPod[] }>(['-n', OPERATOR_NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=tracejob-operator']).items;
}

/** "256Mi" → bytes. */
function quantity(q: string): number {
  const m = /^(\d+)(Ki|Mi|Gi)?$/.exec(q);
  assert.ok(m, `memory quantity ${q}`);
  return Number(m[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 }[m[2] ?? ''] ?? 1);
}

/** Peak memory of the operator pods while `during` runs: process RSS from /metrics, cgroup working set from the kubelet. */
class MemorySampler {
  peakProcessRss = 0;
  peakWorkingSet = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pods: OperatorPod[],
    private readonly port: number,
  ) {}

  sample(): void {
    for (const p of this.pods) {
      const r = kubectl(['get', '--raw', `/api/v1/namespaces/${OPERATOR_NS}/pods/${p.metadata.name}:${this.port}/proxy/metrics`]);
      const m = /^process_resident_memory_bytes (\d+(?:\.\d+)?(?:e\+\d+)?)$/m.exec(r.stdout);
      if (m) {
        this.peakProcessRss = Math.max(this.peakProcessRss, Number(m[1]));
        this.samples++;
      }
    }
    const node = this.pods[0]?.spec.nodeName;
    if (this.samples % 8 === 0 && node) {
      const s = kubectl(['get', '--raw', `/api/v1/nodes/${node}/proxy/stats/summary`]);
      if (s.code === 0) {
        const summary = JSON.parse(s.stdout) as { pods: Array<{ podRef: { namespace: string; name: string }; containers?: Array<{ name: string; memory?: { workingSetBytes?: number } }> }> };
        for (const pod of summary.pods.filter((x) => x.podRef.namespace === OPERATOR_NS && this.pods.some((p) => p.metadata.name === x.podRef.name))) {
          for (const c of pod.containers ?? []) this.peakWorkingSet = Math.max(this.peakWorkingSet, c.memory?.workingSetBytes ?? 0);
        }
      }
    }
  }

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), 400);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}

describe('result size bounded end to end', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  before(() => {
    installCrdsAndOperator();
    ns = createNamespace('tj-sec-size');
  });
  after(() => deleteNamespace(ns));

  test(`${OPENS} failed opens of distinct 200-character paths, maxEvents ${OPENS}: Succeeded, cut stated, operator unharmed`, async () => {
    const pods = operatorPods();
    assert.ok(pods.length >= 1, 'operator pods');
    const container = pods[0]?.spec.containers.find((c) => c.name === 'operator') ?? pods[0]?.spec.containers[0];
    const limit = quantity(container?.resources?.limits?.memory ?? '');
    const port = container?.ports?.find((p) => p.name === 'http-metrics')?.containerPort ?? 8081;
    const restarts = (list: OperatorPod[]) => new Map(list.map((p) => [p.metadata.uid, (p.status.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0)]));
    const before = restarts(pods);

    const sampler = new MemorySampler(pods, port);
    sampler.start();
    let run;
    try {
      run = await traceWorkloadPod(ns, 'opener', ['node', '/workloads/ops-n.js', 'openfail', String(OPENS), '200'], { type: 'fileOpens' }, {
        ready: true,
        spec: { duration: '15s', output: { maxEvents: OPENS } },
      });
    } finally {
      sampler.stop();
    }
    const { tj, doc } = run;
    const eventsDropped = (doc as unknown as { eventsDropped: number }).eventsDropped;
    const cm = getJson<{ data: Record<string, string> }>(['-n', ns, 'get', 'configmap', tj.status?.resultRef?.configMap ?? '']);
    const cmBytes = Object.entries(cm.data).reduce((n, [key, v]) => n + Buffer.byteLength(key) + Buffer.byteLength(v), 0);
    console.log(
      `[result-size] counters=${JSON.stringify(doc.counters)} events kept=${doc.events.length} dropped=${eventsDropped} ` +
        `result ConfigMap=${cmBytes} bytes; operator peak process RSS=${(sampler.peakProcessRss / 2 ** 20).toFixed(1)} MiB, ` +
        `peak working set=${(sampler.peakWorkingSet / 2 ** 20).toFixed(1)} MiB (limit ${(limit / 2 ** 20).toFixed(0)} MiB, ${sampler.samples} samples); ` +
        `status message: ${tj.status?.message ?? ''}`,
    );

    // The workload did its worst inside the trace (map counters are exact, events may be lost or cut).
    assert.ok((doc.counters['failed'] ?? 0) >= OPENS, `failed opens counted: ${doc.counters['failed']}`);
    // The operator was not harmed: the same pods, no restarts, memory under the limit throughout.
    const after = restarts(operatorPods());
    for (const [uid, n] of before) assert.equal(after.get(uid), n, `operator pod ${uid} restarted or was replaced`);
    assert.ok(sampler.samples > 0, 'no memory samples');
    assert.ok(sampler.peakProcessRss < limit, `operator process RSS peaked at ${sampler.peakProcessRss} bytes, limit ${limit}`);
    assert.ok(sampler.peakWorkingSet < limit, `operator working set peaked at ${sampler.peakWorkingSet} bytes, limit ${limit}`);
    // The cut is stated: in the status message and in the result's notes.
    assert.match(tj.status?.message ?? '', /result truncated: cut to fit the agent's output limit \(2 MiB\): events cut from \d+ to \d+/);
    assert.ok(doc.notes.some((n) => /^cut to fit the agent's output limit \(2 MiB\): events cut from \d+ to \d+/.test(n)), doc.notes.join('\n'));
    assert.ok(doc.events.length < OPENS / 10, `events kept: ${doc.events.length}`);
    assert.ok(eventsDropped > 0);
  });
});
