// The reconciler against an in-memory cluster: runs over policy.maxConcurrentRuns
// wait Pending without node jobs and start in order; too long a run is refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import type { TraceJob, TraceJobStatus } from '../api/tracejob.js';
import { OperatorConfig } from './config.js';
import { MemoryPort } from './testing.js';
import { TraceJobReconciler } from './reconciler.js';

function pod(name: string, node: string): V1Pod {
  return {
    metadata: { name, namespace: 'shop' },
    spec: { nodeName: node, containers: [{ name: 'app' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', image: 'x', imageID: 'x', ready: true, restartCount: 0, containerID: `containerd://${'ab'.repeat(32)}`, state: { running: {} } }] },
  };
}

function traceJob(name: string, i: number, duration = '3s', podName = 'web'): TraceJob {
  return {
    apiVersion: 'tracing.tracejob.dev/v1alpha1',
    kind: 'TraceJob',
    metadata: { name, namespace: 'shop', uid: `0000000${i}-aaaa-bbbb-cccc-dddddddddddd`, generation: 1, creationTimestamp: '2026-12-01T10:00:00Z' },
    spec: { target: { pod: { name: podName } }, probe: { type: 'execs' }, duration },
  };
}

function setup(policy: Record<string, unknown>) {
  const port = new MemoryPort([pod('web', 'n1'), pod('api', 'n2')]);
  const config = OperatorConfig.parse({ policy });
  let t = Date.parse('2026-12-01T10:00:00Z');
  // Each reconcile a little later, so acceptance times order the queue.
  const reconciler = new TraceJobReconciler({ port, config, log: pino({ level: 'silent' }), now: () => new Date((t += 1000)) });
  return { port, reconciler };
}

const admitted = (s: TraceJobStatus | undefined) => s?.conditions?.find((c) => c.type === 'Admitted');

describe('reconciler admission', () => {
  it('a run over the namespace limit waits Pending with no node job and starts when the slot frees, in order', async () => {
    const { port, reconciler } = setup({ maxConcurrentRuns: { cluster: 0, perNamespace: 1, perNode: 0 } });
    for (const [i, name] of ['first', 'second', 'third'].entries()) port.add(traceJob(name, i));
    for (const name of ['first', 'second', 'third']) await reconciler.reconcile('shop', name);

    assert.equal(port.status('first')?.phase, 'Running');
    assert.equal(port.jobsOf('first').length, 1);
    assert.equal(admitted(port.status('first'))?.status, 'True');
    for (const [name, position] of [['second', 1], ['third', 2]] as const) {
      const s = port.status(name);
      assert.equal(s?.phase, 'Pending', name);
      assert.deepEqual(port.jobsOf(name), [], `${name} has no node job`);
      const c = admitted(s);
      assert.equal(c?.status, 'False');
      assert.equal(c?.reason, 'QueuedConcurrencyLimit');
      assert.match(c?.message ?? '', new RegExp(`policy.maxConcurrentRuns.perNamespace=1 .*namespace shop.*position ${position} in the queue`));
    }
    assert.ok(port.events.some((e) => e.startsWith('QueuedConcurrencyLimit: ')));

    // Requeued while waiting: still no job, the third never overtakes the second.
    const again = await reconciler.reconcile('shop', 'third');
    assert.ok(again.requeueAfterMs && again.requeueAfterMs <= 3000, 'a waiting run is looked at again within seconds');
    await reconciler.reconcile('shop', 'second');
    assert.deepEqual([port.jobsOf('second').length, port.jobsOf('third').length], [0, 0]);

    // The first finishes: the second (and only it) starts.
    const first = port.traceJobs.get('shop/first') as TraceJob;
    await port.replaceStatus(first, { ...first.status, phase: 'Succeeded' });
    await reconciler.reconcile('shop', 'third');
    assert.deepEqual(port.jobsOf('third'), [], 'the third must not take the slot the second waits for');
    await reconciler.reconcile('shop', 'second');
    assert.equal(port.status('second')?.phase, 'Running');
    assert.equal(admitted(port.status('second'))?.status, 'True');
    assert.equal(port.status('third')?.phase, 'Pending');
  });

  it('the node limit counts runs per resolved node', async () => {
    const { port, reconciler } = setup({ maxConcurrentRuns: { cluster: 0, perNamespace: 0, perNode: 1 } });
    port.add(traceJob('on-n1', 1, '3s', 'web'));
    port.add(traceJob('also-n1', 2, '3s', 'web'));
    port.add(traceJob('on-n2', 3, '3s', 'api'));
    for (const name of ['on-n1', 'also-n1', 'on-n2']) await reconciler.reconcile('shop', name);
    assert.equal(port.status('on-n1')?.phase, 'Running');
    assert.equal(port.status('on-n2')?.phase, 'Running');
    assert.equal(port.status('also-n1')?.phase, 'Pending');
    assert.match(admitted(port.status('also-n1'))?.message ?? '', /perNode=1 is reached on node n1/);
    assert.equal(port.status('also-n1')?.node, 'n1', 'a run queued on a node records it');
  });

  it('a duration over the namespace maximum fails PolicyDenied naming spec.duration, with no node job', async () => {
    const { port, reconciler } = setup({ maxDurationSeconds: { default: 60, perNamespace: { other: 3600 } } });
    port.add(traceJob('long', 1, '2m'));
    await reconciler.reconcile('shop', 'long');
    const s = port.status('long');
    assert.equal(s?.phase, 'Failed');
    assert.equal(s?.conditions?.find((c) => c.type === 'Failed')?.reason, 'PolicyDenied');
    assert.match(s?.message ?? '', /spec\.duration 2m is longer than the maximum of 60s for namespace shop \(policy\.maxDurationSeconds\.default\)/);
    assert.deepEqual(port.jobsOf('long'), []);
  });
});
