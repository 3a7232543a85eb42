// The Kube facade and the lease client against a fake API server: proves what
// actually goes over the wire with client-node 1.4 (paths, content types,
// query parameters, time formats) and how error responses come back.

import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { type V1ConfigMap } from '@kubernetes/client-node';
import { FIELD_MANAGER, Kube } from './client.js';
import { AlreadyExistsError, ConflictError, ForbiddenError, InvalidError, NotFoundError } from './errors.js';
import { leaseClient } from './lease.js';
import { FakeApiServer, type RecordedRequest, json, statusBody } from './testing.js';

const discovery: Record<string, unknown> = {
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: [] },
      { name: 'pods', kind: 'Pod', namespaced: true, verbs: [] },
    ],
  },
  '/apis/tracing.tracejob.dev/v1alpha1': {
    kind: 'APIResourceList',
    groupVersion: 'tracing.tracejob.dev/v1alpha1',
    resources: [{ name: 'tracejobs', kind: 'TraceJob', namespaced: true, verbs: [] }],
  },
};

const cm = (name: string, data: Record<string, string> = {}): V1ConfigMap => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: '5', uid: 'u-1' },
  data,
});

describe('Kube facade over client-node 1.4 (fake API server)', () => {
  const server = new FakeApiServer();
  let kube: Kube;
  let last: () => RecordedRequest;

  before(async () => {
    await server.start();
    kube = new Kube(server.kubeConfig());
    last = () => {
      const r = server.requests.at(-1);
      assert.ok(r, 'no request');
      return r;
    };
  });
  after(() => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.routes = [(req, res) => (req.method === 'GET' && req.path in discovery ? json(res, 200, discovery[req.path]) : false)];
  });

  it('get() reads by apiVersion/kind/name and sends the bearer token', async () => {
    server.routes.push((req, res) => req.path === '/api/v1/namespaces/ns/configmaps/a' && json(res, 200, cm('a', { k: 'v' })));
    const got = await kube.get<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'a' });
    assert.deepEqual(got.data, { k: 'v' });
    assert.equal(last().headers.authorization, 'Bearer test-token');
  });

  it('get() of a missing object throws NotFoundError; tryGet() returns undefined', async () => {
    await assert.rejects(kube.get({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'missing' }), NotFoundError);
    assert.equal(await kube.tryGet({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'missing' }), undefined);
  });

  it('custom resources keep their spec and status through get()', async () => {
    const tj = { apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { name: 'tj', namespace: 'ns' }, spec: { duration: '30s' }, status: { phase: 'Running' } };
    server.routes.push((req, res) => req.path === '/apis/tracing.tracejob.dev/v1alpha1/namespaces/ns/tracejobs/tj' && json(res, 200, tj));
    const got = await kube.get<typeof tj>({ apiVersion: tj.apiVersion, kind: 'TraceJob', namespace: 'ns', name: 'tj' });
    assert.deepEqual(got.spec, { duration: '30s' });
    assert.deepEqual(got.status, { phase: 'Running' });
  });

  it('list() passes label and field selectors', async () => {
    server.routes.push(
      (req, res) => req.path === '/api/v1/namespaces/ns/pods' && json(res, 200, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [{ metadata: { name: 'p' } }] }),
    );
    const pods = await kube.list('v1', 'Pod', { namespace: 'ns', labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1' });
    assert.equal(pods.length, 1);
    assert.equal(last().query.get('labelSelector'), 'app=web');
    assert.equal(last().query.get('fieldSelector'), 'spec.nodeName=n1');
  });

  it('create() of a taken name throws AlreadyExistsError', async () => {
    server.routes.push((req, res) => req.method === 'POST' && json(res, 409, statusBody(409, 'AlreadyExists', 'configmaps "a" already exists')));
    await assert.rejects(kube.create(cm('a')), AlreadyExistsError);
    assert.equal(last().path, '/api/v1/namespaces/ns/configmaps');
    assert.equal(last().query.get('fieldManager'), FIELD_MANAGER);
  });

  it('apply() is a server-side apply with our field manager and force', async () => {
    server.routes.push((req, res) => req.method === 'PATCH' && json(res, 200, cm('a', { x: '1' })));
    await kube.apply(cm('a', { x: '1' }));
    const r = last();
    assert.equal(r.path, '/api/v1/namespaces/ns/configmaps/a');
    assert.equal(r.headers['content-type'], 'application/apply-patch+yaml');
    assert.equal(r.query.get('fieldManager'), 'tracejob-operator');
    assert.equal(r.query.get('force'), 'true');
    assert.deepEqual(JSON.parse(r.body).data, { x: '1' });
  });

  it('mergePatch() sends application/merge-patch+json with the patch (null deletes)', async () => {
    server.routes.push((req, res) => req.method === 'PATCH' && json(res, 200, cm('a')));
    await kube.mergePatch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'a' }, {
      metadata: { labels: { keep: 'yes', drop: null }, resourceVersion: '5' },
    });
    const r = last();
    assert.equal(r.headers['content-type'], 'application/merge-patch+json');
    const body = JSON.parse(r.body);
    assert.deepEqual(body.metadata.labels, { keep: 'yes', drop: null });
    assert.equal(body.metadata.resourceVersion, '5');
  });

  it('mergePatch() with a stale resourceVersion throws ConflictError', async () => {
    server.routes.push((req, res) => req.method === 'PATCH' && json(res, 409, statusBody(409, 'Conflict', 'the object has been modified')));
    await assert.rejects(kube.mergePatch({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'a' }, { metadata: { resourceVersion: '1' } }), ConflictError);
  });

  it('patchStatus() merge-patches the /status subresource', async () => {
    server.routes.push((req, res) => req.method === 'PATCH' && json(res, 200, { status: { phase: 'Running' } }));
    const out = await kube.patchStatus<{ status: { phase: string } }>(
      { group: 'tracing.tracejob.dev', version: 'v1alpha1', plural: 'tracejobs', namespace: 'ns', name: 'tj' },
      { status: { phase: 'Running' } },
    );
    assert.equal(out.status.phase, 'Running');
    const r = last();
    assert.equal(r.path, '/apis/tracing.tracejob.dev/v1alpha1/namespaces/ns/tracejobs/tj/status');
    assert.equal(r.headers['content-type'], 'application/merge-patch+json');
    assert.deepEqual(JSON.parse(r.body), { status: { phase: 'Running' } });
  });

  it('patchStatus() surfaces 422 causes', async () => {
    server.routes.push(
      (req, res) =>
        req.method === 'PATCH' &&
        json(res, 422, { ...statusBody(422, 'Invalid', 'TraceJob "tj" is invalid'), details: { causes: [{ field: 'status.phase', reason: 'FieldValueNotSupported', message: 'Unsupported value' }] } }),
    );
    const err = await kube.patchStatus({ group: 'g', version: 'v', plural: 'p', namespace: 'ns', name: 'n' }, { status: { phase: 'Nope' } }).catch((e: unknown) => e);
    assert.ok(err instanceof InvalidError);
    assert.equal(err.causes[0]?.field, 'status.phase');
  });

  it('delete() uses propagationPolicy=Background and reports whether it existed', async () => {
    server.routes.push((req, res) => req.method === 'DELETE' && req.path.endsWith('/a') && json(res, 200, statusBody(200, '', '')));
    assert.equal(await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'a' }), true);
    assert.equal(last().query.get('propagationPolicy'), 'Background');
    assert.equal(await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', namespace: 'ns', name: 'gone' }), false);
  });

  it('readPodLog() returns the text and passes container/tailLines', async () => {
    server.routes.push((req, res) => {
      if (req.path !== '/api/v1/namespaces/ops/pods/p/log') return false;
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('line1\nline2\n');
      return true;
    });
    assert.equal(await kube.readPodLog('ops', 'p', { container: 'tracer', tailLines: 100 }), 'line1\nline2\n');
    assert.equal(last().query.get('container'), 'tracer');
    assert.equal(last().query.get('tailLines'), '100');
  });

  it('createEvent() posts a core/v1 Event about the object, and never throws', async () => {
    server.routes.push((req, res) => req.method === 'POST' && req.path === '/api/v1/namespaces/ns/events' && json(res, 201, JSON.parse(req.body)));
    const tj = { apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { name: 'tj', namespace: 'ns', uid: 'uid-1', resourceVersion: '7' } };
    assert.equal(await kube.createEvent(tj, { type: 'Normal', reason: 'Accepted', message: 'Spec is valid' }), true);
    const ev = JSON.parse(last().body);
    assert.deepEqual(ev.involvedObject, { apiVersion: tj.apiVersion, kind: 'TraceJob', name: 'tj', namespace: 'ns', uid: 'uid-1', resourceVersion: '7' });
    assert.equal(ev.reason, 'Accepted');
    assert.equal(ev.type, 'Normal');
    assert.equal(ev.count, 1);
    assert.match(ev.metadata.name, /^tj\.[0-9a-f]+$/);
    assert.ok(ev.firstTimestamp && ev.lastTimestamp);

    server.routes = [(req, res) => req.method === 'POST' && json(res, 403, statusBody(403, 'Forbidden', 'events is forbidden'))];
    assert.equal(await kube.createEvent(tj, { type: 'Warning', reason: 'X', message: 'y' }), false);
  });

  it('typed API calls through the raw clients can be wrapped the same way', async () => {
    server.routes.push((req, res) => json(res, 403, statusBody(403, 'Forbidden', `${req.path} is forbidden`)));
    const { wrapApi } = await import('./errors.js');
    await assert.rejects(wrapApi(kube.core.readNamespace({ name: 'x' })), ForbiddenError);
  });
});

describe('leaseClient over CoordinationV1Api (fake API server)', () => {
  const server = new FakeApiServer();
  const path = '/apis/coordination.k8s.io/v1/namespaces/ops/leases/tracejob-operator';
  let stored: Record<string, unknown> | undefined;
  let rv = 0;

  before(() => server.start());
  after(() => server.close());
  beforeEach(() => {
    stored = undefined;
    server.requests.length = 0;
    server.routes = [
      (req, res) => {
        if (req.method === 'GET' && req.path === path) return stored ? json(res, 200, stored) : json(res, 404, statusBody(404, 'NotFound', 'not found'));
        if (req.method === 'POST' && req.path === '/apis/coordination.k8s.io/v1/namespaces/ops/leases') {
          if (stored) return json(res, 409, statusBody(409, 'AlreadyExists', 'exists'));
          const body = JSON.parse(req.body);
          stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
          return json(res, 201, stored);
        }
        if (req.method === 'PUT' && req.path === path) {
          const body = JSON.parse(req.body);
          const current = (stored?.['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
          if (body.metadata.resourceVersion !== current) return json(res, 409, statusBody(409, 'Conflict', 'the object has been modified'));
          stored = { ...body, metadata: { ...body.metadata, resourceVersion: String(++rv) } };
          return json(res, 200, stored);
        }
        return false;
      },
    ];
  });

  it('get → undefined, create, update with resourceVersion, and a stale update → null', async () => {
    const kube = new Kube(server.kubeConfig());
    const client = leaseClient(kube.coordination, 'ops', 'tracejob-operator');
    assert.equal(await client.get(), undefined);

    const t = new Date('2025-01-02T03:04:05.678Z');
    const created = await client.create({ holderIdentity: 'a', leaseDurationSeconds: 15, acquireTime: t, renewTime: t, leaseTransitions: 0 });
    assert.ok(created);
    // MicroTime on the wire: exactly six fractional digits.
    const sent = JSON.parse(server.requests.at(-1)?.body ?? '{}');
    assert.equal(sent.spec.renewTime, '2025-01-02T03:04:05.678000Z');
    assert.equal(sent.spec.acquireTime, '2025-01-02T03:04:05.678000Z');
    assert.equal(await client.create({ holderIdentity: 'b' }), null, 'AlreadyExists → lost the race');

    const read = await client.get();
    assert.equal(read?.holderIdentity, 'a');
    assert.equal(read?.renewTime?.getTime(), t.getTime());
    assert.equal(read?.resourceVersion, created.resourceVersion);

    const renewed = await client.update({ ...read, renewTime: new Date(t.getTime() + 2000) });
    assert.ok(renewed);
    assert.notEqual(renewed.resourceVersion, read?.resourceVersion);
    assert.equal(await client.update({ ...read, holderIdentity: 'b' }), null, 'stale RV → conflict → null');
  });
});
