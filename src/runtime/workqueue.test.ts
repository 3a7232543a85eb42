import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, flushMicrotasks } from './clock.js';
import { WorkQueue } from './workqueue.js';

/** Takes everything currently queued without blocking. */
async function takeAll(q: WorkQueue): Promise<string[]> {
  const out: string[] = [];
  while (q.len() > 0) {
    const k = await q.get();
    if (k === undefined) break;
    out.push(k);
  }
  return out;
}

describe('WorkQueue', () => {
  it('de-duplicates keys that are already queued', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    q.add('a');
    assert.equal(q.len(), 2);
    assert.deepEqual(await takeAll(q), ['a', 'b']);
  });

  it('re-queues a key added while processing exactly once, after done()', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const k = await q.get();
    assert.equal(k, 'a');
    q.add('a');
    q.add('a');
    q.add('a');
    // Not handed out again while in flight.
    assert.equal(q.len(), 0);
    q.done('a');
    assert.equal(q.len(), 1);
    assert.equal(await q.get(), 'a');
    q.done('a');
    assert.equal(q.len(), 0);
  });

  it('a key processed without re-adds is not re-queued', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    await q.get();
    q.done('a');
    assert.equal(q.len(), 0);
  });

  it('keeps one reconcile in flight per key with several workers', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const inFlight = new Set<string>();
    let overlaps = 0;
    let processed = 0;
    let maxParallel = 0;
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await q.get();
        if (key === undefined) return;
        if (inFlight.has(key)) overlaps++;
        inFlight.add(key);
        maxParallel = Math.max(maxParallel, inFlight.size);
        // Re-add the same key mid-reconcile, as a watch event would.
        q.add(key);
        await flushMicrotasks();
        inFlight.delete(key);
        processed++;
        q.done(key);
        if (processed >= 20) q.shutdown();
      }
    };
    q.add('x');
    q.add('y');
    await Promise.all([worker(), worker(), worker(), worker()]);
    assert.equal(overlaps, 0, 'the same key ran twice at once');
    assert.equal(maxParallel, 2, 'different keys should run in parallel');
  });

  it('wakes a waiting get() when a key arrives', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const pending = q.get();
    await flushMicrotasks();
    q.add('late');
    assert.equal(await pending, 'late');
  });

  it('backs off exponentially per key, caps, and forget() resets', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100, maxDelayMs: 1000 });
    const delays = Array.from({ length: 7 }, () => q.addRateLimited('a'));
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000]);
    assert.equal(q.numRequeues('a'), 7);
    // Another key has its own counter.
    assert.equal(q.addRateLimited('b'), 100);
    q.forget('a');
    assert.equal(q.numRequeues('a'), 0);
    assert.equal(q.addRateLimited('a'), 100);
  });

  it('rate-limited keys become available only after their delay', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 100 });
    q.addRateLimited('a'); // 100
    q.addRateLimited('a'); // 200, but the 100 ms add is earlier and wins
    await clock.advance(99);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.equal(q.len(), 1);
  });

  it('addAfter: the earliest deadline wins', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 5000);
    q.addAfter('a', 1000); // earlier: replaces
    q.addAfter('a', 3000); // later: ignored
    await clock.advance(999);
    assert.equal(q.len(), 0);
    await clock.advance(1);
    assert.equal(q.len(), 1);
    assert.deepEqual(await takeAll(q), ['a']);
    q.done('a');
    // Neither the 3 s nor the 5 s timer survived.
    await clock.advance(10_000);
    assert.equal(q.len(), 0);
    assert.equal(clock.pending(), 0);
  });

  it('addAfter with a non-positive delay adds immediately', () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.addAfter('a', 0);
    assert.equal(q.len(), 1);
  });

  it('shutdown releases waiting workers, drops queued and delayed keys', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    const waiting = q.get();
    await flushMicrotasks();
    q.shutdown();
    assert.equal(await waiting, undefined);
    q.add('a');
    q.addAfter('b', 10);
    assert.equal(q.len(), 0);
    assert.equal(await q.get(), undefined);
    assert.equal(clock.pending(), 0);
  });

  it('drain waits for in-flight keys and does not re-queue dirty ones', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('a');
    q.add('b');
    const a = await q.get();
    const b = await q.get();
    assert.ok(a && b);
    q.add('a'); // dirty while processing
    q.shutdown();
    let drained: boolean | undefined;
    void q.drain().then((v) => (drained = v));
    q.done(a);
    await flushMicrotasks();
    assert.equal(drained, undefined, 'b still in flight');
    q.done(b);
    await flushMicrotasks();
    assert.equal(drained, true);
    assert.equal(q.len(), 0);
  });

  it('drain gives up after its timeout', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.add('stuck');
    await q.get();
    q.shutdown();
    let drained: boolean | undefined;
    void q.drain(1000).then((v) => (drained = v));
    await clock.advance(999);
    assert.equal(drained, undefined);
    await clock.advance(1);
    assert.equal(drained, false);
  });

  it('reports depth, adds and retries to its metrics hooks', async () => {
    const depths: number[] = [];
    let adds = 0;
    let retries = 0;
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, metrics: { depth: (n) => depths.push(n), add: () => adds++, retry: () => retries++ } });
    q.add('a');
    q.add('a'); // duplicate, not counted
    q.add('b');
    await q.get();
    q.addRateLimited('c');
    assert.equal(adds, 2);
    assert.equal(retries, 1);
    assert.deepEqual(depths, [1, 2, 1]);
    await clock.advance(100);
    assert.equal(adds, 3);
    assert.deepEqual(depths.at(-1), 2);
  });
});
