// The Kube facade against a real API server (the local cluster): server-side
// apply, merge patches, the /status subresource, typed errors, events and
// delete. Uses ConfigMaps and a throwaway CRD (not TraceJobs, which a running
// operator would pick up). Skips when the cluster is unreachable.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { CoreV1Event, KubernetesObject, V1ConfigMap, V1CustomResourceDefinition } from '@kubernetes/client-node';
import { FIELD_MANAGER, Kube, loadKubeConfig } from './client.js';
import { AlreadyExistsError, ConflictError, InvalidError, NotFoundError } from './errors.js';

const KUBECONFIG = process.env['TRACEJOB_KUBECONFIG'] ?? '/var/lib/tracejob-cluster/kubeconfig';

async function connect(): Promise<Kube | string> {
  if (!existsSync(KUBECONFIG)) return `no kubeconfig at ${KUBECONFIG}`;
  try {
    const kube = new Kube(loadKubeConfig({ kubeconfig: KUBECONFIG }));
    await Promise.race([
      kube.core.listNamespace({ limit: 1 }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref()),
    ]);
    return kube;
  } catch (err) {
    return `API server unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const conn = await connect();

describe('Kube facade against the real API server', { skip: typeof conn === 'string' ? conn : false }, () => {
  const kube = conn as Kube;
  const suffix = randomBytes(3).toString('hex');
  const ns = `k8s-it-${suffix}`;
  const group = `k8s-it-${suffix}.tracejob.dev`;
  const crdName = `widgets.${group}`;
  const widgetApi = `${group}/v1`;
  const cmRef = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name });

  const crd: V1CustomResourceDefinition = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdName },
    spec: {
      group,
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: { type: 'object', properties: { size: { type: 'integer' } } },
                // client-node's model names it `_enum`; its serializer writes `enum` (a plain `enum` key would be dropped).
                status: { type: 'object', properties: { phase: { type: 'string', _enum: ['Pending', 'Running'] } } },
              },
            },
          },
        },
      ],
    },
  };

  before(async () => {
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await kube.create(crd);
    await waitFor(async () => {
      const got = await kube.get<V1CustomResourceDefinition>({ apiVersion: crd.apiVersion ?? '', kind: crd.kind ?? '', name: crdName });
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    }, 'CRD established');
  });
  after(async () => {
    await kube.delete({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: crdName });
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns });
  });

  it('server-side apply creates, is idempotent, and records our field manager', async () => {
    const desired: V1ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: ns }, data: { a: '1' } };
    const first = await kube.apply(desired);
    const second = await kube.apply(desired);
    assert.equal(second.metadata?.resourceVersion, first.metadata?.resourceVersion, 'no-op apply changes nothing');
    assert.deepEqual(second.data, { a: '1' });
    assert.ok(second.metadata?.managedFields?.some((f) => f.manager === FIELD_MANAGER && f.operation === 'Apply'));
  });

  it('merge patch: null deletes a key; a stale resourceVersion is a ConflictError', async () => {
    const created = await kube.create<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patched', namespace: ns, labels: { a: '1', b: '2' } } });
    await assert.rejects(kube.create<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patched', namespace: ns } }), AlreadyExistsError);
    const patched = await kube.mergePatch<V1ConfigMap>(cmRef('patched'), { metadata: { labels: { b: null, c: '3' } } });
    assert.deepEqual(patched.metadata?.labels, { a: '1', c: '3' });
    await assert.rejects(kube.mergePatch(cmRef('patched'), { metadata: { resourceVersion: created.metadata?.resourceVersion, labels: { d: '4' } } }), ConflictError);
  });

  it('patchStatus writes only status; spec patches leave status alone; a bad status is InvalidError with causes', async () => {
    type Widget = KubernetesObject & { spec?: { size?: number }; status?: { phase?: string } };
    const ref = { group, version: 'v1', plural: 'widgets', namespace: ns, name: 'w1' };
    const objRef = { apiVersion: widgetApi, kind: 'Widget', namespace: ns, name: 'w1' };
    await kube.create<Widget>({ apiVersion: widgetApi, kind: 'Widget', metadata: { name: 'w1', namespace: ns }, spec: { size: 1 }, status: { phase: 'Running' } });
    const fresh = await kube.get<Widget>(objRef);
    assert.equal(fresh.status, undefined, 'status is ignored on create when the subresource is on');

    await kube.patchStatus(ref, { status: { phase: 'Running' } });
    await kube.mergePatch(objRef, { spec: { size: 2 } });
    const got = await kube.get<Widget>(objRef);
    assert.deepEqual([got.spec?.size, got.status?.phase], [2, 'Running']);

    const err = await kube.patchStatus(ref, { status: { phase: 'Exploded' } }).catch((e: unknown) => e);
    assert.ok(err instanceof InvalidError, String(err));
    assert.equal(err.causes[0]?.field, 'status.phase');

    assert.equal(await kube.delete(objRef), true);
    assert.equal(await kube.delete(objRef), false);
    await assert.rejects(kube.get(objRef), NotFoundError);
  });

  it('createEvent records a core/v1 Event about the object', async () => {
    const target = await kube.create<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'evented', namespace: ns } });
    assert.equal(await kube.createEvent({ ...target, apiVersion: 'v1', kind: 'ConfigMap' }, { type: 'Normal', reason: 'Tested', message: 'Event from the integration test' }), true);
    const events = await kube.list<CoreV1Event>('v1', 'Event', { namespace: ns, fieldSelector: 'involvedObject.name=evented' });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.reason, 'Tested');
    assert.equal(events[0]?.involvedObject.uid, target.metadata?.uid);
  });
});
