import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, RealClock } from './clock.js';

describe('FakeClock', () => {
  it('fires timers in due order (ties in creation order) and moves now() to each', async () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['c', clock.now()]), 30);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 10);
    clock.setTimeout(() => fired.push(['b', clock.now()]), 10);
    await clock.advance(25);
    assert.deepEqual(fired, [
      ['a', 10],
      ['b', 10],
    ]);
    assert.equal(clock.now(), 25);
    await clock.advance(5);
    assert.deepEqual(fired.at(-1), ['c', 30]);
  });

  it('fires timers scheduled by timers within the same advance', async () => {
    const clock = new FakeClock(0);
    const fired: number[] = [];
    const tick = (): void => {
      fired.push(clock.now());
      if (fired.length < 5) clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    await clock.advance(100);
    assert.deepEqual(fired, [10, 20, 30, 40, 50]);
  });

  it('lets async loops built on sleep() make progress', async () => {
    const clock = new FakeClock(0);
    const woke: number[] = [];
    void (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(100);
        woke.push(clock.now());
      }
    })();
    await clock.advance(1000);
    assert.deepEqual(woke, [100, 200, 300]);
  });

  it('cancelled timers and aborted sleeps do not fire', async () => {
    const clock = new FakeClock(0);
    let fired = false;
    clock.setTimeout(() => (fired = true), 10).cancel();
    const ac = new AbortController();
    let slept = false;
    void clock.sleep(50, ac.signal).then(() => (slept = true));
    ac.abort();
    await Promise.resolve();
    assert.equal(slept, true, 'abort resolves the sleep early');
    await clock.advance(100);
    assert.equal(fired, false);
    assert.equal(clock.pending(), 0);
  });
});

describe('RealClock', () => {
  it('sleeps for real (briefly)', async () => {
    const clock = new RealClock();
    const t0 = clock.now();
    await clock.sleep(20);
    assert.ok(clock.now() - t0 >= 15);
  });
});
