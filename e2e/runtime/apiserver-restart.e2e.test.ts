// A real kube-apiserver restart under a running informer: the watch breaks,
// the informer reconnects (backoff, relist if the resourceVersion is gone) and
// sees an object created after the restart. Stops the real process, so it
// runs in the sequential e2e suite, not with the unit tests.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../src/k8s/client.js';
import { ApiListWatcher } from '../../src/k8s/listwatch.js';
import { Informer } from '../../src/runtime/informer.js';
import type { KubeObject } from '../../src/runtime/store.js';
import { KUBECONFIG, apply, clusterReachable, createNamespace, deleteNamespace, kubectl, waitForAsync } from '../lib/kube.js';

const STATE = process.env.TRACEJOB_CLUSTER_DIR ?? '/var/lib/tracejob-cluster';
const reachable = clusterReachable();

describe('informer across a real API server restart', { skip: !reachable && 'local cluster not running' }, () => {
  const ns = reachable ? createNamespace('tj-restart') : '';
  after(() => deleteNamespace(ns));

  test('the watch resumes and delivers objects created after the restart', async () => {
    const kc = loadKubeConfig({ kubeconfig: KUBECONFIG });
    const seen = new Set<string>();
    let restarts = 0;
    const informer = new Informer<V1ConfigMap & KubeObject>({
      resource: 'configmaps',
      listWatcher: new ApiListWatcher(kc, `/api/v1/namespaces/${ns}/configmaps`),
      backoffBaseMs: 200,
      backoffMaxMs: 2000,
      onWatchRestart: () => restarts++,
    });
    informer.addHandlers({ onAdd: (cm) => seen.add(cm.metadata?.name ?? '') });
    informer.start();
    try {
      await informer.waitForSync();
      apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'before', namespace: ns } });
      await waitForAsync('ConfigMap before', 10_000, () => seen.has('before'));

      const pid = Number(readFileSync(`${STATE}/run/kube-apiserver.pid`, 'utf8').trim());
      process.kill(pid, 'SIGTERM');
      // Wait for the process itself to exit (graceful shutdown drains first).
      await waitForAsync('API server process gone', 90_000, () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      });
      // `up` restarts what is not running; its output goes to the test log for diagnosis.
      execFileSync('bash', ['e2e/cluster/cluster.sh', 'up'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 240_000 });
      await waitForAsync('API server back', 60_000, () => kubectl(['get', '--raw', '/readyz']).code === 0);

      apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after', namespace: ns } });
      await waitForAsync('ConfigMap created after the restart', 30_000, () => seen.has('after'));
      assert.ok(restarts >= 1, 'the watch was restarted');
      assert.ok(informer.store.get(`${ns}/after`));
    } finally {
      informer.stop();
    }
  });
});
