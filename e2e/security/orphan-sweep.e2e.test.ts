// A tenant strips the operator's finalizer and deletes a running TraceJob: the
// finalizer never runs, and owner references cannot reach the node job in the
// operator's namespace. The operator's orphan sweep must still remove the
// privileged job and its pod (here well before its 5-minute trace would end).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { GROUP, PLURAL, VERSION } from '../../src/api/tracejob.js';
import { loadKubeConfig } from '../../src/k8s/client.js';
import { KUBECONFIG, clusterReachable, createNamespace, deleteNamespace, kubectl, waitForAsync } from '../lib/kube.js';
import { agentPodsOf, createTraceJob, getTraceJob, installCrdsAndOperator, nodeJobsOf, waitForCondition, waitPodReady, workloadPod } from '../lib/tracejob.js';

const reachable = clusterReachable();

/**
 * Removes the finalizer (JSON merge patch) and deletes the TraceJob on the
 * resourceVersion the patch returned. The operator re-adds its finalizer when
 * it sees it gone, so the delete is conditional: it succeeds only if the
 * operator did not get there first, i.e. only when the TraceJob vanished
 * without its finalizer ever running. Returns whether it did.
 */
async function stripFinalizerAndDelete(api: CustomObjectsApi, namespace: string, name: string): Promise<boolean> {
  const cr = { group: GROUP, version: VERSION, plural: PLURAL, namespace, name };
  const patched = (await api.patchNamespacedCustomObject({ ...cr, body: { metadata: { finalizers: [] } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch))) as {
    metadata: { resourceVersion: string };
  };
  try {
    await api.deleteNamespacedCustomObject({ ...cr, body: { preconditions: { resourceVersion: patched.metadata.resourceVersion } } });
    return true;
  } catch (e) {
    if ((e as { code?: number }).code === 409) return false;
    throw e;
  }
}

describe('orphan sweep', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  before(() => {
    installCrdsAndOperator();
    ns = createNamespace('tj-sec-orphan');
    workloadPod(ns, 'noisy', ['node', '/workloads/noisy.js']);
    waitPodReady(ns, 'noisy');
  });
  after(() => deleteNamespace(ns));

  test('the node job of a TraceJob deleted past its finalizer is removed within 60 s', async (t) => {
    const api = loadKubeConfig({ kubeconfig: KUBECONFIG }).makeApiClient(CustomObjectsApi);
    let uid = '';
    let attempts = 0;
    // The operator may win the race and re-add its finalizer; then the attack
    // did not happen (the TraceJob goes the normal way) and a new one is tried.
    for (let i = 1; i <= 10 && !uid; i++) {
      attempts = i;
      const name = `long-${i}`;
      const tj = createTraceJob(ns, name, { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '5m' });
      await waitForCondition(ns, name, 'Attached', 90_000);
      assert.equal(nodeJobsOf(tj.metadata.uid).length, 1, 'a running trace has its node job');
      if (await stripFinalizerAndDelete(api, ns, name)) uid = tj.metadata.uid;
      else kubectl(['-n', ns, 'delete', 'tracejob', name, '--wait=false']);
    }
    assert.ok(uid, `the TraceJob could not be deleted without its finalizer in ${attempts} attempts`);
    assert.equal(getTraceJob(ns, `long-${attempts}`), undefined, 'the TraceJob is gone');

    const t0 = Date.now();
    await waitForAsync('the orphaned node job and its agent pod to be removed', 60_000, () => nodeJobsOf(uid).length === 0 && agentPodsOf(uid).length === 0, 1000);
    t.diagnostic(`deleted without its finalizer at attempt ${attempts}; job and pod gone ${((Date.now() - t0) / 1000).toFixed(1)} s later`);
  });
});
