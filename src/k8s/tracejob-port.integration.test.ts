// ApiTraceJobPort's ownership checks against the real API server (the local
// cluster): a Job with a node job's name is adopted only when it is labelled
// for the same run, and a result ConfigMap is written only when absent or ours.
// Uses a throwaway namespace as the "operator namespace"; the Jobs are
// suspended and never run. Skips when the cluster is unreachable.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApiextensionsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, type V1ConfigMap, type V1Job } from '@kubernetes/client-node';
import { loadKubeConfig } from './client.js';
import { ApiTraceJobPort } from './tracejob-port.js';
import { CLUSTER_KUBECONFIG, clusterUnreachable } from './testing.js';
import { JobNameConflict } from '../controller/port.js';
import { LABELS, MANAGER, nodeJobName } from '../controller/names.js';
import { resultConfigMapConflict } from '../controller/collect.js';

const KUBECONFIG = CLUSTER_KUBECONFIG;

const skip = await clusterUnreachable();

describe('ApiTraceJobPort ownership against the real API server', { skip }, () => {
  const kc = loadKubeConfig({ kubeconfig: KUBECONFIG });
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const ns = `port-own-${randomBytes(3).toString('hex')}`;
  const port = new ApiTraceJobPort(kc, ns);

  const job = (name: string, labels: Record<string, string>): V1Job => ({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns, labels },
    spec: {
      suspend: true,
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'localhost/pause:3.10' }] } },
    },
  });
  const runLabels = (uid: string, generation: number) => ({ [LABELS.managedBy]: MANAGER, [LABELS.uid]: uid, [LABELS.generation]: String(generation) });

  before(async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
  });
  after(async () => {
    await core.deleteNamespace({ name: ns });
  });

  it('a 409 adopts the Job of the same run, and refuses one with the name but other labels', async () => {
    const uid = randomUUID();
    const name = nodeJobName(uid, 1, 'node-a');
    // Someone else's Job under the name: never adopted, left as it was.
    await batch.createNamespacedJob({ namespace: ns, body: job(name, { app: 'other' }) });
    const foreign = await batch.readNamespacedJob({ namespace: ns, name });
    await assert.rejects(port.createJob(job(name, runLabels(uid, 1))), JobNameConflict);
    const after = await batch.readNamespacedJob({ namespace: ns, name });
    assert.equal(after.metadata?.resourceVersion, foreign.metadata?.resourceVersion);

    // The same run's Job (a previous reconcile made it): adopted.
    const uid2 = randomUUID();
    const name2 = nodeJobName(uid2, 3, 'node-a');
    const first = await port.createJob(job(name2, runLabels(uid2, 3)));
    const again = await port.createJob(job(name2, runLabels(uid2, 3)));
    assert.equal(again.metadata?.uid, first.metadata?.uid);
    // Another generation of that TraceJob under the same name is not this run.
    await assert.rejects(port.createJob({ ...job(name2, runLabels(uid2, 4)) }), JobNameConflict);
  });

  it('the result ConfigMap: created when absent, replaced when ours, refused and untouched otherwise', async (t) => {
    // The owner must exist, or the garbage collector removes the ConfigMap under the test.
    const crd = await kc.makeApiClient(ApiextensionsV1Api).readCustomResourceDefinition({ name: 'tracejobs.tracing.tracejob.dev' }).catch(() => undefined);
    if (!crd) return t.skip('the TraceJob CRD is not installed');
    const owner = (await kc.makeApiClient(CustomObjectsApi).createNamespacedCustomObject({
      group: 'tracing.tracejob.dev',
      version: 'v1alpha1',
      plural: 'tracejobs',
      namespace: ns,
      body: { apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { name: 't' }, spec: { target: { pod: { name: 'absent' } }, probe: { type: 'execs' }, duration: '1s' } },
    })) as { metadata: { uid: string } };
    const tj = { metadata: { name: 't', namespace: ns, uid: owner.metadata.uid } };
    const mayWrite = (existing: V1ConfigMap) => resultConfigMapConflict(existing, tj);
    const result = (data: Record<string, string>): V1ConfigMap => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 't-result',
        namespace: ns,
        labels: { [LABELS.managedBy]: MANAGER, [LABELS.uid]: tj.metadata.uid },
        ownerReferences: [{ apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', name: 't', uid: tj.metadata.uid, controller: true }],
      },
      data,
    });
    assert.deepEqual(await port.writeResultConfigMap(result({ 'report.txt': 'one' }), mayWrite), {});
    assert.deepEqual(await port.writeResultConfigMap(result({ 'report.txt': 'two' }), mayWrite), {});
    assert.deepEqual((await core.readNamespacedConfigMap({ namespace: ns, name: 't-result' })).data, { 'report.txt': 'two' });

    await core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'app-config' }, data: { db: 'postgres://prod' } } });
    const before = await core.readNamespacedConfigMap({ namespace: ns, name: 'app-config' });
    const takeover = { ...result({ 'report.txt': 'x' }), metadata: { ...result({}).metadata, name: 'app-config' } };
    const out = await port.writeResultConfigMap(takeover, mayWrite);
    assert.match(out.refused ?? '', /app-config already exists and was not created by this TraceJob/);
    const now = await core.readNamespacedConfigMap({ namespace: ns, name: 'app-config' });
    assert.equal(now.metadata?.resourceVersion, before.metadata?.resourceVersion);
    assert.deepEqual(now.data, { db: 'postgres://prod' });
    assert.equal(now.metadata?.ownerReferences, undefined);
  });
});
