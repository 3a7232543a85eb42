import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Controller, type ReconcileResult } from './controller.js';
import { TemporaryError, TerminalError } from './errors.js';
import { Informer } from './informer.js';
import { createMetrics } from './metrics.js';
import type { KubeObject } from './store.js';
import { FakeListWatcher } from './testing.js';

type Behaviour = (key: string, attempt: number) => Promise<ReconcileResult | void>;

/** A controller whose reconcile records (time, key) and follows `behaviour`. */
function setup(behaviour: Behaviour, opts: { concurrency?: number } = {}) {
  const clock = new FakeClock();
  const metrics = createMetrics({ defaultMetrics: false });
  const calls: Array<{ at: number; key: string }> = [];
  const attempts = new Map<string, number>();
  const controller = new Controller({
    name: 'test',
    clock,
    metrics,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    concurrency: opts.concurrency,
    reconcile: async (key) => {
      const n = (attempts.get(key) ?? 0) + 1;
      attempts.set(key, n);
      calls.push({ at: clock.now(), key });
      return behaviour(key, n);
    },
  });
  const t0 = clock.now();
  const times = (key: string): number[] => calls.filter((c) => c.key === key).map((c) => c.at - t0);
  return { clock, controller, calls, times, metrics };
}

async function metricValue(metrics: ReturnType<typeof createMetrics>, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((val) => Object.entries(labels).every(([k, l]) => val.labels[k] === l));
  return v?.value ?? 0;
}

describe('Controller', () => {
  it('a TemporaryError requeues with per-key exponential backoff until success', async () => {
    const { clock, controller, times, metrics } = setup(async (_k, n) => {
      if (n < 5) throw new TemporaryError('not yet');
    });
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(10_000);
    // 0, then +100, +200, +400, +800
    assert.deepEqual(times('ns/a'), [0, 100, 300, 700, 1500]);
    assert.equal(controller.queue.numRequeues('ns/a'), 0, 'success forgets the backoff');
    assert.equal(await metricValue(metrics, 'tracejob_reconcile_total', { result: 'error' }), 4);
    assert.equal(await metricValue(metrics, 'tracejob_reconcile_total', { result: 'success' }), 1);
    assert.equal(await metricValue(metrics, 'tracejob_reconcile_errors_total', { controller: 'test' }), 4);
    await controller.stop();
  });

  it('an unknown error is retried like a temporary one', async () => {
    const { clock, controller, times } = setup(async (_k, n) => {
      if (n < 3) throw new Error('socket hang up');
    });
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(10_000);
    assert.deepEqual(times('ns/a'), [0, 100, 300]);
    await controller.stop();
  });

  it('a TerminalError is not retried, and forgets the backoff', async () => {
    const { clock, controller, times, metrics } = setup(async (_k, n) => {
      if (n === 1) throw new TemporaryError('blip');
      throw new TerminalError('spec is invalid');
    });
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(60_000);
    assert.deepEqual(times('ns/a'), [0, 100]);
    assert.equal(controller.queue.numRequeues('ns/a'), 0);
    assert.equal(clock.pending(), 0, 'nothing scheduled');
    assert.equal(await metricValue(metrics, 'tracejob_reconcile_total', { result: 'terminal_error' }), 1);
    // A new event still triggers a reconcile.
    controller.enqueue('ns/a');
    await clock.advance(0);
    assert.deepEqual(times('ns/a'), [0, 100, 60_000]);
    await controller.stop();
  });

  it('honours requeueAfter on success', async () => {
    const { clock, controller, times } = setup(async () => ({ requeueAfter: 30_000 }));
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(95_000);
    assert.deepEqual(times('ns/a'), [0, 30_000, 60_000, 90_000]);
    await controller.stop();
  });

  it('a TemporaryError with requeueAfterMs waits exactly that long', async () => {
    const { clock, controller, times } = setup(async (_k, n) => {
      if (n === 1) throw new TemporaryError('waiting for pod', { requeueAfterMs: 5000 });
    });
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(10_000);
    assert.deepEqual(times('ns/a'), [0, 5000]);
    await controller.stop();
  });

  it('backoff caps at maxDelay', async () => {
    const { clock, controller, times } = setup(async () => {
      throw new TemporaryError('never');
    });
    controller.start();
    controller.enqueue('ns/a');
    await clock.advance(5000);
    const t = times('ns/a');
    const gaps = t.slice(1).map((x, i) => x - (t[i] ?? 0));
    assert.deepEqual(gaps.slice(0, 7), [100, 200, 400, 800, 1000, 1000, 1000]);
    await controller.stop();
  });

  it('maps informer events of the primary and secondary resources to keys', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      reconcile: async (key) => {
        seen.push(key);
      },
    });
    const primary = new FakeListWatcher<KubeObject>();
    primary.objects = [{ metadata: { name: 'tj1', namespace: 'ns', resourceVersion: '1' } }];
    const secondary = new FakeListWatcher<KubeObject>();
    secondary.objects = [
      { metadata: { name: 'job-a', namespace: 'ops', resourceVersion: '1', labels: { owner: 'ns.tj2' } } },
      { metadata: { name: 'unrelated', namespace: 'ops', resourceVersion: '2' } },
    ];
    const tjs = new Informer({ resource: 'tracejobs', listWatcher: primary, clock });
    const jobs = new Informer({ resource: 'jobs', listWatcher: secondary, clock });
    controller.for(tjs).watches(jobs, (job) => job.metadata?.labels?.['owner']?.replace('.', '/'));
    assert.deepEqual(controller.informers(), [tjs, jobs]);
    tjs.start();
    jobs.start();
    await Promise.all([tjs.waitForSync(), jobs.waitForSync()]);
    controller.start();
    await flushMicrotasks();
    assert.deepEqual(seen.sort(), ['ns/tj1', 'ns/tj2']);
    await Promise.all([tjs.stop(), jobs.stop(), controller.stop()]);
  });

  it('a predicate can filter updates (e.g. ignore status-only changes)', async () => {
    const clock = new FakeClock();
    const seen: string[] = [];
    const controller = new Controller({ name: 'test', clock, reconcile: async (k) => void seen.push(k) });
    const lw = new FakeListWatcher<KubeObject>();
    lw.objects = [{ metadata: { name: 'a', namespace: 'ns', resourceVersion: '1', generation: 1 } }];
    const inf = new Informer({ resource: 'x', listWatcher: lw, clock });
    controller.for(inf, { predicate: (o, n) => o.metadata?.generation !== n.metadata?.generation });
    inf.start();
    await inf.waitForSync();
    controller.start();
    await flushMicrotasks();
    lw.lastWatch().emit('MODIFIED', { metadata: { name: 'a', namespace: 'ns', resourceVersion: '2', generation: 1 } });
    await flushMicrotasks();
    lw.lastWatch().emit('MODIFIED', { metadata: { name: 'a', namespace: 'ns', resourceVersion: '3', generation: 2 } });
    await flushMicrotasks();
    assert.deepEqual(seen, ['ns/a', 'ns/a']);
    await Promise.all([inf.stop(), controller.stop()]);
  });

  it('runs different keys in parallel up to concurrency, never the same key twice', async () => {
    const clock = new FakeClock();
    let active = 0;
    let maxActive = 0;
    const activeKeys = new Set<string>();
    let overlap = false;
    const controller = new Controller({
      name: 'test',
      clock,
      concurrency: 3,
      reconcile: async (key) => {
        if (activeKeys.has(key)) overlap = true;
        activeKeys.add(key);
        active++;
        maxActive = Math.max(maxActive, active);
        await clock.sleep(10);
        active--;
        activeKeys.delete(key);
      },
    });
    controller.start();
    for (let round = 0; round < 5; round++) {
      for (const k of ['a', 'b', 'c', 'd', 'e']) controller.enqueue(k);
      await clock.advance(5);
    }
    await clock.advance(1000);
    assert.equal(maxActive, 3);
    assert.equal(overlap, false);
    await controller.stop();
  });

  it('stop() drains in-flight reconciles and starts no new ones', async () => {
    const clock = new FakeClock();
    const finished: string[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      concurrency: 1,
      reconcile: async (key) => {
        await clock.sleep(1000);
        finished.push(key);
      },
    });
    controller.start();
    controller.enqueue('a');
    controller.enqueue('b');
    await clock.advance(10);
    let stopped: boolean | undefined;
    void controller.stop(5000).then((v) => (stopped = v));
    await clock.advance(989);
    assert.equal(stopped, undefined);
    await clock.advance(1);
    assert.equal(stopped, true);
    assert.deepEqual(finished, ['a']);
  });

  it('stop() gives up after its timeout and aborts the reconcile signal', async () => {
    const clock = new FakeClock();
    let signal: AbortSignal | undefined;
    const controller = new Controller({
      name: 'test',
      clock,
      reconcile: async (_key, ctx) => {
        signal = ctx.signal;
        await new Promise(() => {});
      },
    });
    controller.start();
    controller.enqueue('a');
    await flushMicrotasks();
    let stopped: boolean | undefined;
    void controller.stop(2000).then((v) => (stopped = v));
    await clock.advance(2000);
    assert.equal(stopped, false);
    assert.equal(signal?.aborted, true);
  });

  it('gives each reconcile a logger and a fresh reconcileID', async () => {
    const clock = new FakeClock();
    const ids: string[] = [];
    const controller = new Controller({
      name: 'test',
      clock,
      reconcile: async (_key, ctx) => {
        ids.push(ctx.reconcileID);
        assert.equal(typeof ctx.logger.info, 'function');
        if (ids.length < 2) return { requeueAfter: 1 };
      },
    });
    controller.start();
    controller.enqueue('a');
    await clock.advance(10);
    assert.equal(ids.length, 2);
    assert.match(ids[0] ?? '', /^[0-9a-f]{8}$/);
    assert.notEqual(ids[0], ids[1]);
    await controller.stop();
  });
});
