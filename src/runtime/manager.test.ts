import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Controller } from './controller.js';
import { Informer } from './informer.js';
import { Manager } from './manager.js';
import { createMetrics } from './metrics.js';
import type { KubeObject } from './store.js';
import { FakeLeaseStore, FakeListWatcher } from './testing.js';

const managers: Manager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.stop();
});

interface Replica {
  manager: Manager;
  reconciled: string[];
  lw: FakeListWatcher<KubeObject>;
  exits: number[];
}

/** One operator replica: a manager with one informer+controller over fakes. */
function replica(name: string, clock: FakeClock, lease: FakeLeaseStore | false, reconcileMs = 0): Replica {
  const lw = new FakeListWatcher<KubeObject>();
  lw.objects = [
    { metadata: { name: 'a', namespace: 'ns', resourceVersion: '1' } },
    { metadata: { name: 'b', namespace: 'ns', resourceVersion: '2' } },
  ];
  const reconciled: string[] = [];
  const exits: number[] = [];
  const informer = new Informer({ resource: 'things', listWatcher: lw, clock });
  const controller = new Controller({
    name: 'things',
    clock,
    reconcile: async (key) => {
      if (reconcileMs) await clock.sleep(reconcileMs);
      reconciled.push(key);
    },
  }).for(informer);
  const manager = new Manager({
    clock,
    metrics: createMetrics({ defaultMetrics: false }),
    health: { port: 0, host: '127.0.0.1' },
    leaderElection: lease && { client: lease.client(), identity: name },
    exit: (code) => exits.push(code),
  }).addController(controller);
  managers.push(manager);
  return { manager, reconciled, lw, exits };
}

async function status(m: Manager, path: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${m.healthPort()}${path}`);
  await res.text();
  return res.status;
}

describe('Manager', () => {
  it('without leader election starts informers, waits for sync, then reconciles', async () => {
    const clock = new FakeClock();
    const r = replica('solo', clock, false);
    await r.manager.start();
    await flushMicrotasks();
    assert.ok(r.manager.isRunning());
    assert.deepEqual(r.reconciled.sort(), ['ns/a', 'ns/b']);
    assert.equal(await status(r.manager, '/readyz'), 200);
    assert.equal(await status(r.manager, '/healthz'), 200);
  });

  it('with two replicas only the leader watches and reconciles; the standby is ready too', async () => {
    const clock = new FakeClock();
    const lease = new FakeLeaseStore();
    const a = replica('a', clock, lease);
    const b = replica('b', clock, lease);
    await a.manager.start();
    await clock.advance(10);
    await b.manager.start();
    await clock.advance(10_000);
    assert.ok(a.manager.isLeader() && !b.manager.isLeader());
    assert.deepEqual(a.reconciled.sort(), ['ns/a', 'ns/b']);
    assert.deepEqual(b.reconciled, []);
    assert.equal(b.lw.listCalls, 0, 'standby runs no informers');
    assert.equal(await status(a.manager, '/readyz'), 200);
    assert.equal(await status(b.manager, '/readyz'), 200);
  });

  it('stop() drains the in-flight reconcile, then releases the lease; the standby takes over fast', async () => {
    const clock = new FakeClock();
    const lease = new FakeLeaseStore();
    const a = replica('a', clock, lease, 5_000);
    const b = replica('b', clock, lease, 5_000);
    await a.manager.start();
    await clock.advance(10);
    await b.manager.start();
    await clock.advance(100);
    assert.ok(a.manager.isLeader());
    // A reconcile of 'ns/a' is now in flight for 5 s.
    let stopped = false;
    const stopping = a.manager.stop().then(() => (stopped = true));
    await clock.advance(10);
    assert.equal(await status(a.manager, '/readyz'), 503, 'not ready while shutting down');
    assert.equal(lease.record?.holderIdentity, 'a', 'lease kept while draining');
    assert.equal(b.manager.isLeader(), false);
    await clock.advance(5_000);
    await stopping;
    assert.ok(stopped);
    assert.ok(a.reconciled.length >= 1, 'in-flight reconcile finished');
    assert.equal(lease.record?.holderIdentity, '', 'released');
    const releasedAt = clock.now();
    await clock.advance(2_000);
    assert.equal(b.manager.isLeader(), true);
    assert.ok(clock.now() - releasedAt <= 2_000);
    await clock.advance(20_000);
    assert.deepEqual(b.reconciled.sort(), ['ns/a', 'ns/b']);
  });

  it('a drain that times out does not release the lease', async () => {
    const clock = new FakeClock();
    const lease = new FakeLeaseStore();
    const lw = new FakeListWatcher<KubeObject>();
    lw.objects = [{ metadata: { name: 'stuck', namespace: 'ns', resourceVersion: '1' } }];
    const informer = new Informer({ resource: 'things', listWatcher: lw, clock });
    const controller = new Controller({ name: 'c', clock, reconcile: () => new Promise(() => {}) }).for(informer);
    const m = new Manager({
      clock,
      metrics: createMetrics({ defaultMetrics: false }),
      health: false,
      leaderElection: { client: lease.client(), identity: 'a' },
      shutdownTimeoutMs: 3_000,
    }).addController(controller);
    await m.start();
    await clock.advance(100);
    const stopping = m.stop();
    await clock.advance(3_000);
    await stopping;
    assert.equal(lease.record?.holderIdentity, 'a', 'left to expire');
  });

  it('losing the lease stops everything and exits non-zero', async () => {
    const clock = new FakeClock();
    const lease = new FakeLeaseStore();
    const a = replica('a', clock, lease);
    await a.manager.start();
    await clock.advance(100);
    assert.ok(a.manager.isLeader());
    lease.failing = true;
    await clock.advance(12_000);
    assert.equal(a.manager.isLeader(), false);
    await clock.advance(100);
    assert.deepEqual(a.exits, [1]);
    assert.ok(a.lw.lastWatch().aborted, 'watch stopped');
  });

  it('SIGTERM triggers a graceful stop and exit 0', async () => {
    const clock = new FakeClock();
    const exits: number[] = [];
    const m = new Manager({
      clock,
      metrics: createMetrics({ defaultMetrics: false }),
      health: false,
      leaderElection: false,
      handleSignals: true,
      exit: (c) => exits.push(c),
    });
    managers.push(m);
    await m.start();
    process.emit('SIGTERM', 'SIGTERM');
    await flushMicrotasks();
    await m.stop();
    assert.deepEqual(exits, [0]);
    assert.equal(process.listenerCount('SIGTERM'), 0, 'handlers removed');
  });

  it('liveness fails when a running informer shows no activity for too long', async () => {
    const clock = new FakeClock();
    const lw = new FakeListWatcher<KubeObject>();
    // Inactivity watchdog effectively off, to simulate a wedged loop.
    const informer = new Informer({ resource: 'things', listWatcher: lw, clock, inactivityTimeoutMs: 1e12, resyncPeriodMs: 0 });
    const m = new Manager({
      clock,
      metrics: createMetrics({ defaultMetrics: false }),
      health: { port: 0, host: '127.0.0.1' },
      leaderElection: false,
      informerStaleAfterMs: 60_000,
    }).addInformer(informer);
    managers.push(m);
    await m.start();
    await clock.advance(59_000);
    assert.equal(await status(m, '/healthz'), 200);
    await clock.advance(2_000);
    assert.equal(await status(m, '/healthz'), 503);
  });
});
