import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Informer, type InformerOptions, type WatchEndReason } from './informer.js';
import { createMetrics } from './metrics.js';
import type { KubeObject } from './store.js';
import { FakeListWatcher } from './testing.js';

interface Obj extends KubeObject {
  data?: string;
}

function obj(name: string, rv: string, labels?: Record<string, string>, data?: string): Obj {
  return { metadata: { name, namespace: 'ns', resourceVersion: rv, labels }, data };
}

type Event = [string, string, string?];

/** An informer over a FakeListWatcher that records handler calls as [type, key, rv]. */
function setup(opts: Partial<InformerOptions<Obj>> = {}) {
  const clock = new FakeClock();
  const lw = new FakeListWatcher<Obj>();
  const restarts: WatchEndReason[] = [];
  const informer = new Informer<Obj>({
    resource: 'things',
    listWatcher: lw,
    clock,
    random: () => 0.5, // no jitter
    onWatchRestart: (r) => restarts.push(r),
    ...opts,
  });
  const events: Event[] = [];
  const key = (o: Obj): string => `${o.metadata?.namespace}/${o.metadata?.name}`;
  informer.addHandlers({
    onAdd: (o) => events.push(['add', key(o), o.metadata?.resourceVersion]),
    onUpdate: (_old, n) => events.push(['update', key(n), n.metadata?.resourceVersion]),
    onDelete: (o) => events.push(['delete', key(o), o.metadata?.resourceVersion]),
  });
  started.push(informer);
  return { clock, lw, informer, events, restarts };
}

const started: Informer<Obj>[] = [];

/** Starts and waits until the first watch is open (it opens a tick after sync). */
async function startSynced(informer: Informer<Obj>): Promise<void> {
  informer.start();
  assert.equal(await informer.waitForSync(), true);
  await flushMicrotasks();
}
afterEach(async () => {
  for (const inf of started.splice(0)) await inf.stop();
});

describe('Informer', () => {
  it('lists first: fills the store, fires adds, syncs, then watches from the list RV', async () => {
    const { lw, informer, events } = setup();
    lw.objects = [obj('a', '10'), obj('b', '11')];
    lw.resourceVersion = '11';
    assert.equal(informer.hasSynced(), false);
    const synced = informer.waitForSync();
    informer.start();
    assert.equal(await synced, true);
    await flushMicrotasks();
    assert.equal(informer.store.size, 2);
    assert.equal(informer.store.get('ns/a')?.metadata?.resourceVersion, '10');
    assert.deepEqual(events, [
      ['add', 'ns/a', '10'],
      ['add', 'ns/b', '11'],
    ]);
    assert.equal(lw.watches.length, 1);
    assert.equal(lw.lastWatch().resourceVersion, '11');
  });

  it('applies watch events to the store and handlers', async () => {
    const { lw, informer, events } = setup();
    lw.objects = [obj('a', '1')];
    await startSynced(informer);
    const w = lw.lastWatch();
    w.emit('ADDED', obj('b', '2'));
    w.emit('MODIFIED', obj('a', '3', undefined, 'changed'));
    w.emit('DELETED', obj('b', '4'));
    assert.deepEqual(events.slice(1), [
      ['add', 'ns/b', '2'],
      ['update', 'ns/a', '3'],
      ['delete', 'ns/b', '4'],
    ]);
    assert.equal(informer.store.get('ns/a')?.data, 'changed');
    assert.equal(informer.store.get('ns/b'), undefined);
    assert.equal(informer.lastResourceVersion(), '4');
  });

  it('a bookmark moves the resourceVersion without calling handlers', async () => {
    const { lw, informer, events } = setup();
    await startSynced(informer);
    lw.lastWatch().emit('BOOKMARK', { kind: 'Thing', metadata: { resourceVersion: '99' } });
    assert.deepEqual(events, []);
    assert.equal(informer.lastResourceVersion(), '99');
    assert.equal(informer.store.size, 0);
    // The next watch resumes from the bookmark.
    lw.lastWatch().close();
    await flushMicrotasks();
    assert.equal(lw.lastWatch().resourceVersion, '99');
  });

  it('does not fire updates for objects replayed with an unchanged resourceVersion', async () => {
    const { lw, informer, events } = setup();
    lw.objects = [obj('a', '5')];
    await startSynced(informer);
    lw.lastWatch().emit('ADDED', obj('a', '5'));
    lw.lastWatch().emit('MODIFIED', obj('a', '5'));
    assert.deepEqual(events, [['add', 'ns/a', '5']]);
  });

  for (const how of ['HTTP 410', 'ERROR event with code 410'] as const) {
    it(`${how} → relists, emitting synthetic deletes and updates for what changed`, async () => {
      const { lw, informer, events, restarts } = setup();
      lw.objects = [obj('keep', '1'), obj('change', '2'), obj('vanish', '3')];
      lw.resourceVersion = '3';
      await startSynced(informer);
      events.length = 0;

      // While we were away: 'vanish' deleted, 'change' modified, 'new' created.
      lw.objects = [obj('keep', '1'), obj('change', '7'), obj('new', '8')];
      lw.resourceVersion = '8';
      if (how === 'HTTP 410') lw.lastWatch().close(Object.assign(new Error('Gone'), { statusCode: 410 }));
      else lw.lastWatch().emit('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version' });
      await flushMicrotasks();

      assert.equal(lw.listCalls, 2);
      assert.deepEqual(restarts, ['gone']);
      assert.deepEqual(events.sort(), [
        ['add', 'ns/new', '8'],
        ['delete', 'ns/vanish', '3'],
        ['update', 'ns/change', '7'],
      ]);
      assert.deepEqual(informer.store.keys().sort(), ['ns/change', 'ns/keep', 'ns/new']);
      assert.equal(lw.lastWatch().resourceVersion, '8');
    });
  }

  it('a non-410 ERROR event is a watch error: backoff and re-watch, no relist', async () => {
    const { clock, lw, informer, restarts } = setup({ backoffBaseMs: 500 });
    await startSynced(informer);
    lw.lastWatch().emit('ERROR', { kind: 'Status', code: 500, reason: 'InternalError', message: 'etcd timeout' });
    await flushMicrotasks();
    assert.equal(lw.watches.length, 1);
    await clock.advance(500);
    assert.equal(lw.watches.length, 2);
    assert.equal(lw.listCalls, 1);
    assert.deepEqual(restarts, ['error']);
  });

  it('watchdog: a silent watch is aborted after the inactivity timeout and re-watched from the last RV', async () => {
    const { clock, lw, informer, restarts } = setup({ inactivityTimeoutMs: 70_000 });
    await startSynced(informer);
    const first = lw.lastWatch();
    first.emit('ADDED', obj('a', '42'));
    await clock.advance(69_999);
    assert.equal(first.aborted, false);
    assert.equal(lw.watches.length, 1);
    await clock.advance(1);
    assert.equal(first.aborted, true);
    assert.equal(lw.watches.length, 2);
    assert.equal(lw.lastWatch().resourceVersion, '42');
    assert.equal(lw.listCalls, 1, 'a stall must not relist');
    assert.deepEqual(restarts, ['stalled']);
    // Late events on the abandoned stream are ignored.
    first.emit('ADDED', obj('ghost', '43'));
    assert.equal(informer.store.get('ns/ghost'), undefined);
  });

  it('watchdog: bookmarks count as activity', async () => {
    const { clock, lw, informer } = setup({ inactivityTimeoutMs: 70_000 });
    await startSynced(informer);
    for (let i = 0; i < 5; i++) {
      await clock.advance(60_000);
      lw.lastWatch().emit('BOOKMARK', { metadata: { resourceVersion: String(100 + i) } });
    }
    assert.equal(lw.watches.length, 1);
  });

  it('reconnects after watch errors with exponential backoff that caps, then resets after progress', async () => {
    const { clock, lw, informer, restarts } = setup({ backoffBaseMs: 500, backoffMaxMs: 8000 });
    const openedAt: number[] = [];
    let failing = true;
    lw.onWatch = (w) => {
      openedAt.push(clock.now());
      if (failing) queueMicrotask(() => w.close(new Error('ECONNRESET')));
    };
    await startSynced(informer);
    await clock.advance(60_000);
    const gaps = openedAt.slice(1).map((t, i) => t - (openedAt[i] ?? 0));
    assert.deepEqual(gaps.slice(0, 7), [500, 1000, 2000, 4000, 8000, 8000, 8000]);
    assert.ok(restarts.every((r) => r === 'error'));
    assert.equal(lw.listCalls, 1, 'plain errors re-watch, they do not relist');

    // A watch that delivers something resets the streak.
    failing = false;
    await clock.advance(8000);
    lw.lastWatch().emit('ADDED', obj('a', '2'));
    const before = openedAt.length;
    lw.lastWatch().close(new Error('ECONNRESET'));
    await clock.advance(499);
    assert.equal(openedAt.length, before);
    await clock.advance(1);
    assert.equal(openedAt.length, before + 1);
  });

  it('backoff jitter stays within ±jitter and never exceeds the cap', async () => {
    let r = 0;
    const randoms = [0, 1, 0, 1, 0, 1, 0, 1];
    const { clock, lw, informer } = setup({ backoffBaseMs: 1000, backoffMaxMs: 4000, jitter: 0.2, random: () => randoms[r++ % randoms.length] ?? 0 });
    const openedAt: number[] = [];
    lw.onWatch = (w) => {
      openedAt.push(clock.now());
      queueMicrotask(() => w.close(new Error('boom')));
    };
    await startSynced(informer);
    await clock.advance(30_000);
    const gaps = openedAt.slice(1, 5).map((t, i) => t - (openedAt[i] ?? 0));
    // 1000·0.8, 2000·1.2, 4000·0.8, min(4000·1.2, cap)
    assert.deepEqual(gaps, [800, 2400, 3200, 4000]);
  });

  it('counts restarts in tracejob_watch_restarts_total{resource}', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const { lw, informer } = setup({ metrics });
    await startSynced(informer);
    lw.lastWatch().emit('ADDED', obj('a', '2'));
    lw.lastWatch().close();
    await flushMicrotasks();
    lw.lastWatch().emit('ADDED', obj('b', '3'));
    lw.lastWatch().close();
    await flushMicrotasks();
    const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === 'tracejob_watch_restarts_total');
    assert.deepEqual(m?.values.map((v) => [v.labels['resource'], v.value]), [['things', 2]]);
  });

  it('a clean close after events re-watches at once; an empty one backs off', async () => {
    const { clock, lw, informer, restarts } = setup({ backoffBaseMs: 500 });
    await startSynced(informer);
    lw.lastWatch().emit('ADDED', obj('a', '2'));
    lw.lastWatch().close();
    await flushMicrotasks();
    assert.equal(lw.watches.length, 2);
    lw.lastWatch().close();
    await flushMicrotasks();
    assert.equal(lw.watches.length, 2);
    await clock.advance(500);
    assert.equal(lw.watches.length, 3);
    assert.deepEqual(restarts, ['closed', 'closed']);
  });

  it('retries a failing list with backoff and only syncs once it succeeds', async () => {
    const { clock, lw, informer, events } = setup({ backoffBaseMs: 500 });
    let calls = 0;
    lw.listImpl = async () => {
      calls++;
      if (calls < 3) throw new Error('connection refused');
      return { items: [obj('a', '1')], resourceVersion: '1' };
    };
    informer.start();
    await flushMicrotasks();
    assert.equal(informer.hasSynced(), false);
    await clock.advance(500);
    assert.equal(calls, 2);
    await clock.advance(1000);
    assert.equal(calls, 3);
    assert.equal(informer.hasSynced(), true);
    assert.deepEqual(events, [['add', 'ns/a', '1']]);
  });

  it('a hung list times out and is retried', async () => {
    const { clock, lw, informer } = setup({ listTimeoutMs: 10_000, backoffBaseMs: 500 });
    let calls = 0;
    lw.listImpl = () => {
      calls++;
      return calls === 1 ? new Promise(() => {}) : Promise.resolve({ items: [], resourceVersion: '1' });
    };
    informer.start();
    await clock.advance(10_000);
    assert.equal(informer.hasSynced(), false);
    await clock.advance(500);
    assert.equal(informer.hasSynced(), true);
  });

  it('resync re-emits every cached object as an update on its period', async () => {
    const { clock, lw, informer, events } = setup({ resyncPeriodMs: 300_000, inactivityTimeoutMs: 1e9 });
    lw.objects = [obj('a', '1'), obj('b', '2')];
    await startSynced(informer);
    events.length = 0;
    await clock.advance(299_999);
    assert.deepEqual(events, []);
    await clock.advance(1);
    assert.deepEqual(events.sort(), [
      ['update', 'ns/a', '1'],
      ['update', 'ns/b', '2'],
    ]);
    await clock.advance(300_000);
    assert.equal(events.length, 4);
  });

  it('answers label-selector queries from the cache', async () => {
    const { lw, informer } = setup();
    lw.objects = [obj('web-1', '1', { app: 'web', tier: 'fe' }), obj('web-2', '2', { app: 'web' }), obj('db', '3', { app: 'db' })];
    await startSynced(informer);
    const names = (sel: Parameters<typeof informer.store.list>[0]): string[] =>
      informer.store
        .list(sel)
        .map((o) => o.metadata?.name ?? '')
        .sort();
    assert.deepEqual(names({ matchLabels: { app: 'web' } }), ['web-1', 'web-2']);
    assert.deepEqual(names({ matchLabels: { app: 'web', tier: 'fe' } }), ['web-1']);
    assert.deepEqual(names({ matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }), ['db', 'web-1', 'web-2']);
    assert.deepEqual(names({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }), ['db', 'web-2']);
    assert.deepEqual(names({ namespace: 'other' }), []);
    // Watch updates move objects in and out of a selection.
    lw.lastWatch().emit('MODIFIED', obj('db', '4', { app: 'web' }));
    assert.deepEqual(names({ matchLabels: { app: 'web' } }), ['db', 'web-1', 'web-2']);
  });

  it('a throwing handler does not break the informer or other handlers', async () => {
    const { lw, informer, events } = setup();
    informer.addHandlers({
      onAdd: () => {
        throw new Error('handler bug');
      },
    });
    await startSynced(informer);
    lw.lastWatch().emit('ADDED', obj('a', '2'));
    lw.lastWatch().emit('ADDED', obj('b', '3'));
    assert.equal(events.length, 2);
    assert.equal(informer.store.size, 2);
  });

  it('stop() aborts the watch, ends the loop and leaves no timers behind', async () => {
    const { clock, lw, informer } = setup();
    await startSynced(informer);
    await informer.stop();
    assert.equal(lw.lastWatch().aborted, true);
    assert.equal(clock.pending(), 0);
    await clock.advance(1_000_000);
    assert.equal(lw.watches.length, 1);
  });

  it('stop() between the list and the first watch does not hang or open a watch', async () => {
    const { lw, informer } = setup();
    informer.start();
    await informer.waitForSync();
    await informer.stop();
    assert.equal(lw.watches.length, 0);
  });

  it('repeated immediate 410s back off instead of hammering list', async () => {
    const { clock, lw, informer } = setup({ backoffBaseMs: 500 });
    lw.onWatch = (w) => queueMicrotask(() => w.close(Object.assign(new Error('Gone'), { statusCode: 410 })));
    await startSynced(informer);
    // The first 410 relists at once; the next ones wait 1 s, 2 s, 4 s …
    assert.equal(lw.listCalls, 2);
    await clock.advance(999);
    assert.equal(lw.listCalls, 2);
    await clock.advance(1);
    assert.equal(lw.listCalls, 3);
    await clock.advance(2000);
    assert.equal(lw.listCalls, 4);
  });

  it('waitForSync resolves false if stopped before syncing', async () => {
    const { lw, informer } = setup();
    lw.listImpl = () => new Promise(() => {});
    informer.start();
    const synced = informer.waitForSync();
    await informer.stop();
    assert.equal(await synced, false);
  });
});
