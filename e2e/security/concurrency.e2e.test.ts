// Privileged node jobs live in the operator's namespace, outside every
// tenant's ResourceQuota: the operator's policy bounds them. With
// policy.maxConcurrentRuns.perNamespace=1, three TraceJobs of one namespace
// run one at a time, the waiting ones say why and where they are in the
// queue, and they start in the order they were accepted. A duration over the
// namespace's policy.maxDurationSeconds is refused before any node job.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterReachable, createNamespace, deleteNamespace, getJson, kubectl, sleep, waitForAsync } from '../lib/kube.js';
import {
  OPERATOR_NS,
  condition,
  createTraceJob,
  installCrdsAndOperator,
  installOperator,
  nodeJobsOf,
  waitForPhase,
  waitPodReady,
  workloadPod,
  type TraceJobObj,
} from '../lib/tracejob.js';

const reachable = clusterReachable();
const NAMES = ['q-1', 'q-2', 'q-3'];

describe('run limits', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  before(() => {
    installCrdsAndOperator();
    ns = createNamespace('tj-sec-concurrency');
    installOperator([
      '--set', 'policy.maxConcurrentRuns.perNamespace=1',
      '--set-json', `policy.maxDurationSeconds.perNamespace={"${ns}":20}`,
    ]);
    workloadPod(ns, 'noisy', ['node', '/workloads/noisy.js']);
    waitPodReady(ns, 'noisy');
  });
  after(() => {
    kubectl(['-n', ns, 'delete', 'tracejobs', '--all', '--wait=false']);
    deleteNamespace(ns);
    // The shared install goes back to the defaults every other suite expects.
    installOperator();
  });

  test('perNamespace=1: three runs go one at a time, queued with reason and position, in acceptance order', async () => {
    const uids: string[] = [];
    for (const name of NAMES) {
      uids.push(createTraceJob(ns, name, { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '3s' }).metadata.uid);
      // Accepted before the next one is created: acceptance order is creation order.
      await waitForPhase(ns, name, ['Pending', 'Running', 'Succeeded']);
    }

    // Sample everything until all three are done: never two runs (or two node jobs) at once.
    const seenQueued = new Map<string, Set<string>>();
    let maxRunning = 0;
    let maxJobs = 0;
    let samples = 0;
    let done: TraceJobObj[] = [];
    await waitForAsync('all three runs to finish', 180_000, () => {
      const list = getJson<{ items: TraceJobObj[] }>(['-n', ns, 'get', 'tracejobs']).items.filter((t) => NAMES.includes(t.metadata.name));
      const jobs = getJson<{ items: Array<{ metadata: { labels?: Record<string, string> } }> }>(['-n', OPERATOR_NS, 'get', 'jobs', '-l', 'app.kubernetes.io/managed-by=tracejob-operator'])
        .items.filter((j) => uids.includes(j.metadata.labels?.['tracing.tracejob.dev/uid'] ?? ''));
      samples++;
      maxRunning = Math.max(maxRunning, list.filter((t) => t.status?.phase === 'Running').length);
      maxJobs = Math.max(maxJobs, jobs.length);
      for (const t of list) {
        const c = condition(t, 'Admitted');
        if (t.status?.phase === 'Pending' && c?.status === 'False') {
          const seen = seenQueued.get(t.metadata.name) ?? new Set<string>();
          seen.add(`${c.reason}: ${c.message ?? ''}`);
          seenQueued.set(t.metadata.name, seen);
        }
      }
      const finished = list.filter((t) => t.status?.phase === 'Succeeded' || t.status?.phase === 'Failed');
      if (finished.length === NAMES.length) done = list;
      return finished.length === NAMES.length;
    }, 200);

    assert.ok(samples >= 5, `sampled ${samples} times`);
    assert.equal(maxRunning, 1, 'at most one run of the namespace runs at a time');
    assert.equal(maxJobs, 1, 'at most one node job of the namespace exists at a time');
    for (const t of done) assert.equal(t.status?.phase, 'Succeeded', `${t.metadata.name}: ${t.status?.message ?? ''}`);

    // The waiting ones said why, which limit, and their place in the queue.
    const queuedLine = (position: number) =>
      new RegExp(`^QueuedConcurrencyLimit: waiting for a free slot: policy\\.maxConcurrentRuns\\.perNamespace=1 is reached in namespace ${ns} \\(1 in use\\); position ${position} in the queue$`);
    assert.equal(seenQueued.has('q-1'), false, 'the first run never waited');
    assert.ok([...(seenQueued.get('q-2') ?? [])].some((l) => queuedLine(1).test(l)), `q-2 queued: ${[...(seenQueued.get('q-2') ?? [])].join(' | ')}`);
    assert.ok([...(seenQueued.get('q-3') ?? [])].some((l) => queuedLine(2).test(l)), `q-3 queued behind q-2: ${[...(seenQueued.get('q-3') ?? [])].join(' | ')}`);
    for (const t of done) assert.equal(condition(t, 'Admitted')?.status, 'True', `${t.metadata.name} was admitted in the end`);

    // FIFO: each run's node job was created only after the previous run finished.
    const byName = new Map(done.map((t) => [t.metadata.name, t]));
    const at = (name: string, key: string) => Date.parse(byName.get(name)?.status?.timing?.[key] ?? '');
    for (let i = 1; i < NAMES.length; i++) {
      const [prev, next] = [NAMES[i - 1] as string, NAMES[i] as string];
      assert.ok(at(prev, 'accepted') <= at(next, 'accepted'), `${prev} accepted before ${next}`);
      assert.ok(at(next, 'nodeJobCreated') >= at(prev, 'finished'), `${next} started (${byName.get(next)?.status?.timing?.['nodeJobCreated']}) after ${prev} finished (${byName.get(prev)?.status?.timing?.['finished']})`);
    }
    for (const uid of uids) assert.deepEqual(nodeJobsOf(uid), [], 'no node job is left');
  });

  test('a duration over the namespace maximum fails PolicyDenied naming spec.duration, with no node job', async () => {
    const tj = createTraceJob(ns, 'too-long', { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '30s' });
    const failed = await waitForPhase(ns, 'too-long', ['Failed', 'Running', 'Succeeded']);
    assert.equal(failed.status?.phase, 'Failed');
    assert.equal(condition(failed, 'Failed')?.reason, 'PolicyDenied');
    assert.equal(failed.status?.message, `spec.duration 30s is longer than the maximum of 20s for namespace ${ns} (policy.maxDurationSeconds.perNamespace.${ns})`);
    await sleep(1000);
    assert.deepEqual(nodeJobsOf(tj.metadata.uid), [], 'no node job for a refused run');
  });
});
