// ApiListWatcher over client-node's Watch against a fake API server: what the
// requests look like, how streams, 410s and aborts surface, and an Informer
// running on top of the real transport.

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Informer } from '../runtime/informer.js';
import type { KubeObject } from '../runtime/store.js';
import { ForbiddenError, isGone } from './errors.js';
import { ApiListWatcher } from './listwatch.js';
import { FakeApiServer, json, statusBody } from './testing.js';

const PATH = '/api/v1/namespaces/ns/configmaps';

const cm = (name: string, rv: string): Record<string, unknown> => ({ metadata: { name, namespace: 'ns', resourceVersion: rv } });

function until(cond: () => boolean, what: string, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}

describe('ApiListWatcher (fake API server)', () => {
  const server = new FakeApiServer();
  /** Open watch streams, newest last. */
  let streams: ServerResponse[];
  let pages: Array<Record<string, unknown>>;
  let watchStatus: number;

  const send = (res: ServerResponse | undefined, type: string, object: unknown): void => {
    res?.write(`${JSON.stringify({ type, object })}\n`);
  };

  before(() => server.start());
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    streams = [];
    watchStatus = 200;
    pages = [{ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '10' }, items: [cm('a', '9'), cm('b', '10')] }];
    server.routes = [
      (req, res) => {
        if (req.path !== PATH) return false;
        if (req.query.get('watch') === 'true') {
          if (watchStatus !== 200) return json(res, watchStatus, statusBody(watchStatus, 'Expired', 'too old resource version'));
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.flushHeaders();
          streams.push(res);
          return true;
        }
        const i = Number(req.query.get('continue') ?? '0');
        return json(res, 200, pages[i]);
      },
    ];
  });

  it('list() follows continue tokens, fills apiVersion/kind and passes selectors', async () => {
    pages = [
      { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '20', continue: '1' }, items: [cm('a', '1')] },
      { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '20' }, items: [cm('b', '2')] },
    ];
    const lw = new ApiListWatcher<KubeObject>(server.kubeConfig(), PATH, { labelSelector: 'app=x', pageSize: 1 });
    const res = await lw.list();
    assert.equal(res.resourceVersion, '20');
    assert.deepEqual(
      res.items.map((i) => [(i as { kind?: string }).kind, (i as { apiVersion?: string }).apiVersion, i.metadata?.name]),
      [
        ['ConfigMap', 'v1', 'a'],
        ['ConfigMap', 'v1', 'b'],
      ],
    );
    assert.equal(server.requests.length, 2);
    assert.equal(server.requests[0]?.query.get('limit'), '1');
    assert.equal(server.requests[0]?.query.get('labelSelector'), 'app=x');
    assert.equal(server.requests[1]?.query.get('continue'), '1');
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer test-token');
  });

  it('list() errors are typed', async () => {
    server.routes = [(_req, res) => json(res, 403, statusBody(403, 'Forbidden', 'configmaps is forbidden'))];
    const lw = new ApiListWatcher<KubeObject>(server.kubeConfig(), PATH);
    await assert.rejects(lw.list(), ForbiddenError);
  });

  it('watch() asks for bookmarks from the RV, delivers events, and reports a clean close', async () => {
    const lw = new ApiListWatcher<KubeObject>(server.kubeConfig(), PATH, { fieldSelector: 'metadata.name=a', random: () => 0.5 });
    const events: Array<[string, unknown]> = [];
    let done: unknown = 'not yet';
    lw.watch('10', (t, o) => events.push([t, o]), (err) => (done = err));
    await until(() => streams.length === 1, 'watch request');
    const q = server.requests.at(-1)?.query;
    assert.equal(q?.get('resourceVersion'), '10');
    assert.equal(q?.get('allowWatchBookmarks'), 'true');
    assert.equal(q?.get('timeoutSeconds'), '450');
    assert.equal(q?.get('fieldSelector'), 'metadata.name=a');
    send(streams[0], 'ADDED', cm('c', '11'));
    send(streams[0], 'BOOKMARK', { kind: 'ConfigMap', metadata: { resourceVersion: '12' } });
    await until(() => events.length === 2, 'two events');
    assert.equal(events[0]?.[0], 'ADDED');
    assert.equal(events[1]?.[0], 'BOOKMARK');
    streams[0]?.end();
    await until(() => done !== 'not yet', 'onDone');
    assert.equal(done, undefined);
  });

  it('an HTTP 410 on watch reaches onDone as a Gone error', async () => {
    watchStatus = 410;
    const lw = new ApiListWatcher<KubeObject>(server.kubeConfig(), PATH);
    let done: unknown = 'not yet';
    lw.watch('1', () => {}, (err) => (done = err));
    await until(() => done !== 'not yet', 'onDone');
    assert.equal(isGone(done), true);
  });

  it('after abort() nothing is delivered and the connection is closed', async () => {
    const lw = new ApiListWatcher<KubeObject>(server.kubeConfig(), PATH);
    const events: string[] = [];
    let doneCalls = 0;
    const handle = lw.watch('10', (t) => events.push(t), () => doneCalls++);
    await until(() => streams.length === 1, 'watch request');
    const stream = streams[0];
    const closed = new Promise<void>((resolve) => stream?.on('close', () => resolve()));
    handle.abort();
    await closed;
    send(stream, 'ADDED', cm('late', '99'));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(events, []);
    assert.equal(doneCalls, 0);
  });

  it('abort() during connect still closes the watch once it connects', async () => {
    const lw = new ApiListWatcher<KubeObject>(server.kubeConfig(), PATH);
    const handle = lw.watch('10', () => assert.fail('no events expected'), () => assert.fail('no onDone expected'));
    handle.abort();
    await until(() => streams.length === 1, 'watch request');
    const stream = streams[0];
    await new Promise<void>((resolve) => (stream?.closed ? resolve() : stream?.on('close', () => resolve())));
    send(stream, 'ADDED', cm('late', '99'));
  });

  it('an Informer on the real transport lists, watches, and relists after an ERROR 410 event', async () => {
    const lw = new ApiListWatcher<KubeObject>(server.kubeConfig(), PATH);
    const informer = new Informer<KubeObject>({ resource: 'configmaps', listWatcher: lw, resyncPeriodMs: 0 });
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onUpdate: (_o, n) => seen.push(`update ${n.metadata?.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    informer.start();
    try {
      await informer.waitForSync();
      await until(() => streams.length === 1, 'first watch');
      assert.equal(server.requests.at(-1)?.query.get('resourceVersion'), '10');
      send(streams[0], 'MODIFIED', cm('a', '11'));
      await until(() => seen.includes('update a'), 'update a');

      // Compaction: the server expires our watch; meanwhile b was deleted and c created.
      pages = [{ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: '30' }, items: [cm('a', '11'), cm('c', '29')] }];
      send(streams[0], 'ERROR', statusBody(410, 'Expired', 'too old resource version: 10 (25)'));
      await until(() => streams.length === 2, 'second watch');
      assert.equal(server.requests.at(-1)?.query.get('resourceVersion'), '30');
      assert.deepEqual(seen, ['add a', 'add b', 'update a', 'add c', 'delete b']);
      assert.deepEqual(informer.store.keys().sort(), ['ns/a', 'ns/c']);
    } finally {
      await informer.stop();
    }
  });
});
