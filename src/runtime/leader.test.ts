import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FakeClock } from './clock.js';
import { LeaderElector } from './leader.js';
import { FakeLeaseStore } from './testing.js';

const electors: LeaderElector[] = [];
afterEach(async () => {
  for (const e of electors.splice(0)) await e.stop({ release: false });
});

function candidate(store: FakeLeaseStore, clock: FakeClock, identity: string, log: string[]) {
  const e = new LeaderElector({
    client: store.client(),
    identity,
    clock,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    onStartedLeading: () => log.push(`${identity} started`),
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
  electors.push(e);
  return e;
}

describe('LeaderElector', () => {
  it('of two candidates exactly one leads, and keeps leading while it renews', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const log: string[] = [];
    const a = candidate(store, clock, 'a', log);
    const b = candidate(store, clock, 'b', log);
    a.start();
    b.start();
    for (let i = 0; i < 30; i++) {
      await clock.advance(1000);
      assert.equal(Number(a.isLeader()) + Number(b.isLeader()), 1, `exactly one leader at t=${i + 1}s`);
    }
    assert.deepEqual(log, [`${store.record?.holderIdentity} started`]);
    const leader = a.isLeader() ? a : b;
    assert.equal(store.record?.holderIdentity, leader.identity);
    assert.ok((store.record?.renewTime?.getTime() ?? 0) >= clock.now() - 2000, 'renewed recently');
    assert.equal(store.record?.leaseTransitions, 0);
  });

  it('a crashed leader is replaced once its lease expires (not before)', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const log: string[] = [];
    const a = candidate(store, clock, 'a', log);
    a.start();
    await clock.advance(100);
    assert.ok(a.isLeader());
    // Simulate a crash: the loop stops without releasing.
    await a.stop({ release: false });
    const crashedAt = clock.now();
    const b = candidate(store, clock, 'b', log);
    b.start();
    await clock.advance(14_000);
    assert.equal(b.isLeader(), false, 'lease still valid');
    await clock.advance(4_000);
    assert.equal(b.isLeader(), true);
    assert.ok(clock.now() - crashedAt <= 15_000 + 2_000 + 1_000);
    assert.equal(store.record?.holderIdentity, 'b');
    assert.equal(store.record?.leaseTransitions, 1);
  });

  it('release() hands over fast: the standby takes over on its next retry', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const log: string[] = [];
    const a = candidate(store, clock, 'a', log);
    a.start();
    await clock.advance(100);
    const b = candidate(store, clock, 'b', log);
    b.start();
    await clock.advance(5_000);
    assert.ok(a.isLeader() && !b.isLeader());
    await a.stop();
    assert.equal(store.record?.holderIdentity, '');
    assert.equal(store.record?.leaseDurationSeconds, 1);
    await clock.advance(2_000);
    assert.equal(b.isLeader(), true, 'took over within one retry period');
    assert.deepEqual(log, ['a started', 'b started'], 'voluntary release does not call onStoppedLeading');
  });

  it('loses leadership when it cannot renew within renewDeadline', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const log: string[] = [];
    const a = candidate(store, clock, 'a', log);
    a.start();
    await clock.advance(100);
    assert.ok(a.isLeader());
    store.failing = true;
    await clock.advance(8_000);
    assert.equal(a.isLeader(), true, 'still within renewDeadline');
    await clock.advance(4_000);
    assert.equal(a.isLeader(), false);
    assert.deepEqual(log, ['a started', 'a stopped']);
    // It stopped before the lease (15 s) expired, so no overlap with a successor.
    assert.ok(clock.now() - (store.record?.renewTime?.getTime() ?? 0) < 15_000);
  });

  it('a hung renew request counts against the deadline', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const log: string[] = [];
    const client = store.client();
    let hang = false;
    const e = new LeaderElector({
      client: { ...client, get: () => (hang ? new Promise(() => {}) : client.get()) },
      identity: 'a',
      clock,
      onStoppedLeading: () => log.push('stopped'),
    });
    electors.push(e);
    e.start();
    await clock.advance(100);
    assert.ok(e.isLeader());
    hang = true;
    await clock.advance(12_100);
    assert.equal(e.isLeader(), false);
    assert.deepEqual(log, ['stopped']);
  });

  it('steps down at once when it sees another holder (lost the lease to a takeover)', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const log: string[] = [];
    const a = candidate(store, clock, 'a', log);
    a.start();
    await clock.advance(100);
    // Someone forcibly took the lease (e.g. after a long GC pause of ours).
    store.record = { ...store.record, holderIdentity: 'intruder', renewTime: new Date(clock.now()), resourceVersion: '999' };
    await clock.advance(2_000);
    assert.equal(a.isLeader(), false);
    assert.deepEqual(log, ['a started', 'a stopped']);
  });

  it('a lost create race (409) is not leadership', async () => {
    const clock = new FakeClock();
    const store = new FakeLeaseStore();
    const client = store.client();
    // Another candidate creates the lease between our get and our create.
    const racing = {
      ...client,
      create: async (r: Parameters<typeof client.create>[0]) => {
        await store.client().create({ ...r, holderIdentity: 'other', renewTime: new Date(clock.now()) });
        return client.create(r);
      },
    };
    const e = new LeaderElector({ client: racing, identity: 'a', clock });
    electors.push(e);
    e.start();
    await clock.advance(100);
    assert.equal(e.isLeader(), false);
    assert.equal(store.record?.holderIdentity, 'other');
  });

  it('rejects timings that could let two leaders overlap', () => {
    const client = new FakeLeaseStore().client();
    assert.throws(() => new LeaderElector({ client, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }));
    assert.throws(() => new LeaderElector({ client, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }));
  });
});
