import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceJob } from '../api/tracejob.js';
import { AdmissionQueue, admitRun, checkMaxDuration, classifyRuns, compareRuns, runSlotOf, type ConcurrencyLimits, type RunSlot } from './admission.js';
import { OperatorConfig, configFromEnv } from './config.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
let seq = 0;
/** A run accepted `at` seconds after T0. */
function run(namespace: string, name: string, at: number, nodes: string[] = []): RunSlot {
  return { uid: `uid-${namespace}-${name}-${seq++}`, namespace, name, acceptedAt: T0 + at * 1000, nodes };
}
const limits = (over: Partial<ConcurrencyLimits> = {}): ConcurrencyLimits => ({ cluster: 0, perNamespace: 0, perNode: 0, ...over });

describe('admitRun', () => {
  it('decides by the limits, FIFO among the waiting', () => {
    const running = run('shop', 'running', 0, ['n1']);
    const table: Array<{ what: string; candidate: RunSlot; holding: RunSlot[]; waiting: RunSlot[]; limits: ConcurrencyLimits; want: string }> = [
      { what: 'no limits (0 = unlimited)', candidate: run('shop', 'c', 5, ['n1']), holding: Array.from({ length: 50 }, (_, i) => run('shop', `r${i}`, 0, ['n1'])), waiting: [], limits: limits(), want: 'admitted' },
      { what: 'namespace full', candidate: run('shop', 'c', 5), holding: [running], waiting: [], limits: limits({ perNamespace: 1 }), want: 'perNamespace=1 in namespace shop (1 in use) #1' },
      { what: 'other namespaces do not count', candidate: run('other', 'c', 5), holding: [running], waiting: [], limits: limits({ perNamespace: 1 }), want: 'admitted' },
      { what: 'cluster full', candidate: run('b', 'c', 5), holding: [run('a', 'x', 0), run('c', 'y', 0)], waiting: [], limits: limits({ cluster: 2, perNamespace: 5 }), want: 'cluster=2 in the cluster (2 in use) #1' },
      { what: 'node full', candidate: run('b', 'c', 5, ['n1']), holding: [running], waiting: [], limits: limits({ perNode: 1 }), want: 'perNode=1 on node n1 (1 in use) #1' },
      { what: 'another node has room', candidate: run('b', 'c', 5, ['n2']), holding: [running], waiting: [], limits: limits({ perNode: 1 }), want: 'admitted' },
      { what: 'a run on two nodes needs room on both', candidate: run('b', 'c', 5, ['n2', 'n1']), holding: [running], waiting: [], limits: limits({ perNode: 1 }), want: 'perNode=1 on node n1 (1 in use) #1' },
      { what: 'nodes not resolved yet: node limits wait for the second check', candidate: run('b', 'c', 5), holding: [running], waiting: [], limits: limits({ perNode: 1 }), want: 'admitted' },
      { what: 'a run that holds a slot keeps it, even over the limit', candidate: running, holding: [running, run('shop', 'r2', 1)], waiting: [], limits: limits({ perNamespace: 1 }), want: 'admitted' },
      { what: 'the earlier waiting run goes first', candidate: run('shop', 'later', 9), holding: [], waiting: [run('shop', 'earlier', 4)], limits: limits({ perNamespace: 1 }), want: 'perNamespace=1 in namespace shop (1 in use) #1' },
      { what: 'the earliest waiting run is admitted past later ones', candidate: run('shop', 'earlier', 4), holding: [], waiting: [run('shop', 'later', 9), run('shop', 'last', 10)], limits: limits({ perNamespace: 1 }), want: 'admitted' },
      { what: 'queue position counts the earlier runs blocked by the same limit', candidate: run('shop', 'c', 9), holding: [running], waiting: [run('shop', 'w1', 2), run('shop', 'w2', 3), run('other', 'w3', 1)], limits: limits({ perNamespace: 1 }), want: 'perNamespace=1 in namespace shop (1 in use) #3' },
      { what: 'a namespace flooding the queue does not block the others', candidate: run('quiet', 'c', 99), holding: [run('flood', 'r1', 0), run('flood', 'r2', 0)], waiting: Array.from({ length: 30 }, (_, i) => run('flood', `w${i}`, i + 1)), limits: limits({ cluster: 5, perNamespace: 2 }), want: 'admitted' },
      { what: 'an earlier run blocked on a node holds no cluster slot', candidate: run('b', 'c', 9, ['n2']), holding: [running], waiting: [run('a', 'w', 1, ['n1'])], limits: limits({ cluster: 2, perNode: 1 }), want: 'admitted' },
      { what: 'an earlier admissible run takes the last cluster slot', candidate: run('b', 'c', 9, ['n2']), holding: [running], waiting: [run('a', 'w', 1, ['n3'])], limits: limits({ cluster: 2, perNode: 1 }), want: 'cluster=2 in the cluster (2 in use) #1' },
      { what: 'waiting runs with unknown nodes do not block a node', candidate: run('b', 'c', 9, ['n1']), holding: [], waiting: [run('a', 'w', 1)], limits: limits({ perNode: 1 }), want: 'admitted' },
    ];
    for (const c of table) {
      const got = admitRun(c.candidate, c.holding, c.waiting, c.limits);
      const text = got.admitted ? 'admitted' : `${got.limit}=${got.value} ${got.scope} (${got.inUse} in use) #${got.position}`;
      assert.equal(text, c.want, c.what);
    }
  });

  it('a later run never overtakes an earlier one waiting for the same limit', () => {
    // Slots free one at a time; at each step exactly the head of the queue is admitted.
    const queue = [run('shop', 'a', 1), run('shop', 'b', 2), run('shop', 'c', 3), run('shop', 'd', 3)];
    let holding = [run('shop', 'r', 0)];
    const order: string[] = [];
    while (order.length < queue.length) {
      const waiting = queue.filter((r) => !order.includes(r.name));
      const admitted = waiting.filter((r) => admitRun(r, holding, waiting, limits({ perNamespace: 1 })).admitted);
      assert.equal(admitted.length, holding.length === 0 ? 1 : 0, `admitted ${admitted.map((r) => r.name).join(',')} while ${holding.length} hold`);
      if (admitted[0]) {
        order.push(admitted[0].name);
        holding = [admitted[0]];
      } else {
        holding = [];
      }
    }
    assert.deepEqual(order, ['a', 'b', 'c', 'd']);
  });

  it('the message names the policy key, its value and the queue position', () => {
    const got = admitRun(run('shop', 'c', 9), [run('shop', 'r', 0)], [run('shop', 'w', 1)], limits({ perNamespace: 1 }));
    assert.equal(got.admitted, false);
    assert.equal(
      got.admitted ? '' : got.message,
      'waiting for a free slot: policy.maxConcurrentRuns.perNamespace=1 is reached in namespace shop (1 in use); position 2 in the queue',
    );
  });

  it('orders by acceptance time, then namespace, name and uid', () => {
    const same = (namespace: string, name: string, uid: string): RunSlot => ({ uid, namespace, name, acceptedAt: T0, nodes: [] });
    const sorted = [same('b', 'a', '1'), same('a', 'b', '2'), same('a', 'a', '3'), same('a', 'a', '0'), { ...same('z', 'z', 'z'), acceptedAt: T0 - 1 }].sort(compareRuns);
    assert.deepEqual(sorted.map((r) => `${r.namespace}/${r.name}/${r.uid}`), ['z/z/z', 'a/a/0', 'a/a/3', 'a/b/2', 'b/a/1']);
  });
});

function tj(name: string, status: TraceJob['status'], generation = 1): TraceJob {
  return {
    apiVersion: 'tracing.tracejob.dev/v1alpha1',
    kind: 'TraceJob',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, generation, creationTimestamp: '2026-12-01T09:59:00Z' },
    spec: { target: { pod: { name: 'p' } }, probe: { type: 'execs' }, duration: '3s' },
    ...(status ? { status } : {}),
  };
}
const cond = (type: string, status: 'True' | 'False' | 'Unknown', observedGeneration = 1) => ({ type, status, reason: 'R', lastTransitionTime: '2026-12-01T10:00:00Z', observedGeneration });
const accepted = { accepted: '2026-12-01T10:00:00Z' };

describe('classifyRuns', () => {
  it('counts runs with node or preflight jobs as holding, other accepted Pending runs as waiting', () => {
    const table: Array<[string, TraceJob, 'holding' | 'waiting' | 'none']> = [
      ['Running', tj('a', { phase: 'Running', observedGeneration: 1, timing: accepted, nodeJobs: [{ name: 'j', node: 'n1' }] }), 'holding'],
      ['Running from an older generation (its jobs exist until the new run starts)', tj('b', { phase: 'Running', observedGeneration: 1 }, 2), 'holding'],
      ['Pending, admitted', tj('c', { phase: 'Pending', observedGeneration: 1, timing: accepted, conditions: [cond('Admitted', 'True')] }), 'holding'],
      ['Pending, refreshing a capability report', tj('d', { phase: 'Pending', observedGeneration: 1, timing: accepted, conditions: [cond('NodeCapabilities', 'Unknown')] }), 'holding'],
      ['Pending, queued', tj('e', { phase: 'Pending', observedGeneration: 1, timing: accepted, conditions: [cond('Admitted', 'False')] }), 'waiting'],
      ['Pending, just accepted', tj('f', { phase: 'Pending', observedGeneration: 1, timing: accepted }), 'waiting'],
      ['Pending, admitted for an older generation', tj('g', { phase: 'Pending', observedGeneration: 2, timing: accepted, conditions: [cond('Admitted', 'True', 1)] }, 2), 'waiting'],
      ['Pending of an older generation (the new one is not accepted yet)', tj('h', { phase: 'Pending', observedGeneration: 1 }, 2), 'none'],
      ['Succeeded', tj('i', { phase: 'Succeeded', observedGeneration: 1 }), 'none'],
      ['Failed', tj('j', { phase: 'Failed', observedGeneration: 1 }), 'none'],
      ['new, no status', tj('k', undefined), 'none'],
    ];
    for (const [what, obj, want] of table) {
      const { holding, waiting } = classifyRuns([obj]);
      const got = holding.length ? 'holding' : waiting.length ? 'waiting' : 'none';
      assert.equal(got, want, what);
    }
  });

  it('a run slot carries the acceptance time and the nodes from status', () => {
    const slot = runSlotOf(tj('a', { phase: 'Running', timing: accepted, nodeJobs: [{ name: 'j1', node: 'n1' }, { name: 'j2', node: 'n2' }] }));
    assert.deepEqual(slot, { uid: 'uid-a', namespace: 'shop', name: 'a', acceptedAt: T0, nodes: ['n1', 'n2'] });
    assert.deepEqual(runSlotOf(tj('b', { phase: 'Pending', node: 'n3' })).nodes, ['n3']);
    assert.equal(runSlotOf(tj('c', undefined)).acceptedAt, Date.parse('2026-12-01T09:59:00Z'));
    assert.deepEqual(runSlotOf(tj('d', { phase: 'Pending', node: 'n3' }), ['n4']).nodes, ['n4']);
  });
});

describe('AdmissionQueue', () => {
  const pending = (name: string, at: string) => tj(name, { phase: 'Pending', observedGeneration: 1, timing: { accepted: at } });

  it('a run admitted here holds its slot before the cache shows it (concurrent workers, cache lag)', () => {
    const q = new AdmissionQueue();
    // a was just accepted and admitted by this process; the cache still has it without status.
    const a = pending('a', '2026-12-01T10:00:01Z');
    const aCached = tj('a', undefined);
    const b = pending('b', '2026-12-01T10:00:02Z');
    const cache = [aCached, b];
    const l = limits({ perNamespace: 1 });
    // The first check (no nodes yet) reserves nothing.
    assert.equal(q.decide(runSlotOf(a), cache, l, T0, false).admitted, true);
    assert.equal(q.decide(runSlotOf(b), cache, l, T0, false).admitted, true, 'no reservation yet: b sees a free namespace');
    assert.equal(q.decide(runSlotOf(a, ['n1']), cache, l, T0, true).admitted, true);
    // The reservation makes b wait although the cache shows nothing of a.
    assert.equal(q.decide(runSlotOf(b, ['n1']), cache, l, T0 + 10, true).admitted, false);
    assert.equal(new AdmissionQueue().decide(runSlotOf(b, ['n1']), cache, l, T0 + 10, true).admitted, true, 'another process would have let b in');
    // a re-admits itself (a retried launch) while b still waits.
    assert.equal(q.decide(runSlotOf(a, ['n1']), cache, l, T0 + 20, true).admitted, true);
  });

  it('a reservation ends when the cache shows the run holding, finished or gone, or after its ttl', () => {
    const l = limits({ perNamespace: 1 });
    const a = pending('a', '2026-12-01T10:00:01Z');
    const aCached = tj('a', undefined);
    const b = pending('b', '2026-12-01T10:00:02Z');
    const cases: Array<[string, TraceJob[], number, boolean]> = [
      ['still invisible in the cache', [aCached, b], T0 + 1, false],
      ['the cache shows it running (it counts from there)', [tj('a', { phase: 'Running', observedGeneration: 1, timing: a.status?.timing }), b], T0 + 1, false],
      ['finished', [tj('a', { phase: 'Succeeded', observedGeneration: 1 }), b], T0 + 1, true],
      ['deleted', [b], T0 + 1, true],
      ['ttl passed', [aCached, b], T0 + 60_001, true],
    ];
    for (const [what, cacheAfter, at, want] of cases) {
      const q = new AdmissionQueue(60_000);
      assert.equal(q.decide(runSlotOf(a, ['n1']), [aCached, b], l, T0, true).admitted, true);
      assert.equal(q.decide(runSlotOf(b, ['n1']), cacheAfter, l, at, true).admitted, want, what);
    }
  });
});

describe('checkMaxDuration', () => {
  const policy = (over: Partial<OperatorConfig['policy']['maxDurationSeconds']> = {}) => ({ default: 300, perNamespace: {}, ...over });
  it('allows durations up to the namespace maximum, names spec.duration and the policy key otherwise', () => {
    assert.equal(checkMaxDuration('shop', '5m', policy()).allowed, true);
    assert.equal(checkMaxDuration('shop', '4m59s', policy()).allowed, true);
    const over = checkMaxDuration('shop', '5m1s', policy());
    assert.equal(over.allowed, false);
    assert.equal(over.allowed ? '' : over.message, 'spec.duration 5m1s is longer than the maximum of 300s for namespace shop (policy.maxDurationSeconds.default)');
    assert.equal(checkMaxDuration('ops', '1h', policy({ perNamespace: { ops: 3600 } })).allowed, true);
    const own = checkMaxDuration('ci', '1m', policy({ perNamespace: { ci: 30 } }));
    assert.equal(own.allowed ? '' : own.message, 'spec.duration 1m is longer than the maximum of 30s for namespace ci (policy.maxDurationSeconds.perNamespace.ci)');
    assert.equal(checkMaxDuration('shop', 'garbage', policy()).allowed, false);
  });
});

describe('configFromEnv: run limits from the chart', () => {
  it('defaults, env vars and refusals', () => {
    const d = OperatorConfig.parse({}).policy;
    assert.deepEqual(d.maxConcurrentRuns, { cluster: 20, perNamespace: 3, perNode: 4 });
    assert.deepEqual(d.maxDurationSeconds, { default: 3600, perNamespace: {} });
    assert.deepEqual(configFromEnv({}).policy.maxConcurrentRuns, d.maxConcurrentRuns);
    const c = configFromEnv({
      TRACEJOB_POLICY_MAX_RUNS_CLUSTER: '0',
      TRACEJOB_POLICY_MAX_RUNS_PER_NAMESPACE: '1',
      TRACEJOB_POLICY_MAX_RUNS_PER_NODE: '2',
      TRACEJOB_POLICY_MAX_DURATION_SECONDS: '600',
      TRACEJOB_POLICY_MAX_DURATION_PER_NAMESPACE: '{"ops":3600,"ci":60}',
    }).policy;
    assert.deepEqual(c.maxConcurrentRuns, { cluster: 0, perNamespace: 1, perNode: 2 });
    assert.deepEqual(c.maxDurationSeconds, { default: 600, perNamespace: { ops: 3600, ci: 60 } });
    assert.throws(() => configFromEnv({ TRACEJOB_POLICY_MAX_RUNS_PER_NAMESPACE: '-1' }));
    assert.throws(() => configFromEnv({ TRACEJOB_POLICY_MAX_RUNS_CLUSTER: 'many' }));
    assert.throws(() => configFromEnv({ TRACEJOB_POLICY_MAX_DURATION_SECONDS: '7200' }));
  });
});
