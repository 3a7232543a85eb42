// A tenant strips the operator's finalizer and deletes a running TraceJob: the
// finalizer never runs, and owner references cannot reach the node job in the
// operator's namespace. The operator's orphan sweep must still remove the
// privileged job and its pod (here well before its 5-minute trace would end).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { GROUP, PLURAL, VERSION } from '../../src/api/tracejob.js';
import { loadKubeConfig } from '../../src/k8s/client.js';
import { KUBECONFIG, clusterReachable, createNamespace, deleteNamespace, waitForAsync } from '../lib/kube.js';
import { agentPodsOf, createTraceJob, getTraceJob, installCrdsAndOperator, nodeJobsOf, waitForCondition, waitPodReady, workloadPod } from '../lib/tracejob.js';

const reachable = clusterReachable();

/**
 * Removes the finalizer (JSON merge patch) and deletes the TraceJob, as a
 * tenant with patch and delete on TraceJobs can. The operator re-adds its
 * finalizer as soon as it sees it gone, so both requests share one kept-alive
 * connection: the DELETE leaves the moment the PATCH is answered. The DELETE's
 * answer says whether the finalizer was back by then (the object, still
 * carrying it, is only marked for deletion: the normal path). Returns whether
 * the TraceJob vanished without its finalizer.
 */
async function stripFinalizerAndDelete(namespace: string, name: string): Promise<boolean> {
  const kc = loadKubeConfig({ kubeconfig: KUBECONFIG });
  const server = new URL(kc.getCurrentCluster()?.server ?? '');
  const tls: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(tls);
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: tls.ca, cert: tls.cert, key: tls.key });
  const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}/${name}`;
  const send = (method: string, body: string, contentType: string) =>
    new Promise<{ status: number; body: { kind?: string; status?: string; metadata?: { finalizers?: string[] } } }>((resolve, reject) => {
      const req = https.request(
        { ...tls, host: server.hostname, port: server.port || 443, path, method, agent, headers: { ...tls.headers, 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) } },
        (res) => {
          let data = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (data += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data || '{}') as never }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  try {
    const [patch, del] = await Promise.all([
      send('PATCH', JSON.stringify({ metadata: { finalizers: [] } }), 'application/merge-patch+json'),
      send('DELETE', '{}', 'application/json'),
    ]);
    assert.equal(patch.status, 200, `patch: ${JSON.stringify(patch.body)}`);
    assert.ok(del.status === 200 || del.status === 202, `delete: ${del.status} ${JSON.stringify(del.body)}`);
    // Deleted at once: a Status, or the object without finalizers. Marked only: the object with them.
    return del.body.kind === 'Status' ? del.body.status === 'Success' : (del.body.metadata?.finalizers ?? []).length === 0;
  } finally {
    agent.destroy();
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
    let uid = '';
    let attempts = 0;
    // The operator may win the race and re-add its finalizer first; then the
    // attack did not happen and a new TraceJob is tried.
    for (let i = 1; i <= 10 && !uid; i++) {
      attempts = i;
      const name = `long-${i}`;
      const tj = createTraceJob(ns, name, { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '5m' });
      await waitForCondition(ns, name, 'Attached', 90_000);
      assert.equal(nodeJobsOf(tj.metadata.uid).length, 1, 'a running trace has its node job');
      // Otherwise the TraceJob is already on its way out through the finalizer.
      if (await stripFinalizerAndDelete(ns, name)) uid = tj.metadata.uid;
    }
    assert.ok(uid, `the TraceJob could not be deleted without its finalizer in ${attempts} attempts`);
    assert.equal(getTraceJob(ns, `long-${attempts}`), undefined, 'the TraceJob is gone');

    const t0 = Date.now();
    await waitForAsync('the orphaned node job and its agent pod to be removed', 60_000, () => nodeJobsOf(uid).length === 0 && agentPodsOf(uid).length === 0, 1000);
    t.diagnostic(`deleted without its finalizer at attempt ${attempts}; job and pod gone ${((Date.now() - t0) / 1000).toFixed(1)} s later`);
  });
});
