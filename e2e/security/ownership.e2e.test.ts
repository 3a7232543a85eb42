// What a tenant must not be able to make the operator do with objects it did
// not create: overwrite or garbage-collect a ConfigMap, trace the node through
// a pod sharing its namespaces, or keep tracing after consent is withdrawn.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { apply, clusterReachable, createNamespace, deleteNamespace, getJson, k, kubectl, waitForAsync } from '../lib/kube.js';
import {
  OPERATOR_NS,
  createTraceJob,
  getTraceJob,
  installCrdsAndOperator,
  nodeJobsOf,
  readResult,
  waitForCondition,
  waitForPhase,
  waitPodReady,
  workloadPod,
} from '../lib/tracejob.js';

const reachable = clusterReachable();

interface ConfigMapObj {
  metadata: { resourceVersion: string; ownerReferences?: unknown[]; labels?: Record<string, string> };
  data?: Record<string, string>;
}

describe('objects the operator did not create', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  let target = '';
  before(() => {
    installCrdsAndOperator();
    ns = createNamespace('tj-sec-own');
    workloadPod(ns, 'app', ['node', '/workloads/noisy.js']);
    waitPodReady(ns, 'app');
  });
  after(() => {
    deleteNamespace(ns);
    if (target) deleteNamespace(target);
  });

  const appConfig = (name: string) => {
    apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns }, data: { db: 'postgres://prod' } });
    return getJson<ConfigMapObj>(['-n', ns, 'get', 'configmap', name]);
  };
  const assertUntouched = (name: string, before: ConfigMapObj) => {
    const now = getJson<ConfigMapObj>(['-n', ns, 'get', 'configmap', name]);
    assert.equal(now.metadata.resourceVersion, before.metadata.resourceVersion, `ConfigMap ${name} was written to`);
    assert.deepEqual(now.data, { db: 'postgres://prod' });
    assert.equal(now.metadata.ownerReferences, undefined);
  };
  const deleteAndWait = async (name: string) => {
    k(['-n', ns, 'delete', 'tracejob', name, '--wait=true', '--timeout=60s']);
    // Give the garbage collector the time it would need to remove a ConfigMap owned by the TraceJob.
    await new Promise((r) => setTimeout(r, 5000));
  };

  for (const [what, tjName, cmName, output] of [
    ['spec.output.configMapName naming an application ConfigMap', 'named', 'app-config', { configMapName: 'app-config' }],
    ['the default <name>-result already existing', 'plain', 'plain-result', undefined],
  ] as const) {
    test(`${what}: Failed/ResultConflict before any node job, the ConfigMap byte-identical, also after deletion`, async () => {
      const before = appConfig(cmName);
      const tj = createTraceJob(ns, tjName, { target: { pod: { name: 'app' } }, probe: { type: 'execs' }, duration: '3s', ...(output ? { output } : {}) });
      const done = await waitForPhase(ns, tjName, ['Succeeded', 'Failed']);
      assert.equal(done.status?.phase, 'Failed');
      assert.equal(done.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'ResultConflict');
      assert.match(done.status?.message ?? '', new RegExp(`ConfigMap ${ns}/${cmName} already exists.*spec\\.output\\.configMapName`));
      assert.equal(done.status?.nodeJobs, undefined, 'a node job was created for a run that cannot keep its result');
      assert.deepEqual(nodeJobsOf(tj.metadata.uid), []);
      assertUntouched(cmName, before);
      await deleteAndWait(tjName);
      assertUntouched(cmName, before);
    });
  }

  test('a ConfigMap created under the result name while the trace runs is not taken over', async () => {
    const tj = createTraceJob(ns, 'raced', { target: { pod: { name: 'app' } }, probe: { type: 'execs' }, duration: '5s' });
    await waitForCondition(ns, 'raced', 'Attached');
    const before = appConfig('raced-result');
    const done = await waitForPhase(ns, 'raced', ['Succeeded', 'Failed']);
    assert.equal(done.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'ResultConflict', done.status?.message);
    assert.equal(done.status?.resultRef, undefined);
    assertUntouched('raced-result', before);
    await waitForAsync('node jobs removed', 30_000, () => nodeJobsOf(tj.metadata.uid).length === 0);
    await deleteAndWait('raced');
    assertUntouched('raced-result', before);
  });

  test('the operator rewrites its own result ConfigMap on a new generation', async () => {
    createTraceJob(ns, 'rerun', { target: { pod: { name: 'app' } }, probe: { type: 'execs' }, duration: '2s' });
    const first = await waitForPhase(ns, 'rerun', ['Succeeded', 'Failed']);
    assert.equal(first.status?.phase, 'Succeeded', first.status?.message);
    k(['-n', ns, 'patch', 'tracejob', 'rerun', '--type=merge', '-p', '{"spec":{"duration":"3s"}}']);
    const second = await waitForAsync('generation 2 finished', 90_000, () => {
      const t = getTraceJob(ns, 'rerun');
      return t?.status?.observedGeneration === 2 && ['Succeeded', 'Failed'].includes(t.status.phase ?? '') ? t : undefined;
    });
    assert.equal(second.status?.phase, 'Succeeded', second.status?.message);
    const cm = getJson<ConfigMapObj>(['-n', ns, 'get', 'configmap', 'rerun-result']);
    assert.equal(cm.metadata.labels?.['tracing.tracejob.dev/generation'], '2');

    // Deleted and applied again at once (the garbage collector may not have removed the old result yet).
    k(['-n', ns, 'delete', 'tracejob', 'rerun', '--wait=true', '--timeout=60s']);
    const again = createTraceJob(ns, 'rerun', { target: { pod: { name: 'app' } }, probe: { type: 'execs' }, duration: '2s' });
    const third = await waitForPhase(ns, 'rerun', ['Succeeded', 'Failed']);
    assert.equal(third.status?.phase, 'Succeeded', third.status?.message);
    const owned = getJson<ConfigMapObj & { metadata: { ownerReferences?: Array<{ uid: string }> } }>(['-n', ns, 'get', 'configmap', 'rerun-result']);
    assert.equal(owned.metadata.ownerReferences?.[0]?.uid, again.metadata.uid);
  });

  test('a hostNetwork pod is node scope: PolicyDenied without the node grant, no node job', async () => {
    apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'hostnet', namespace: ns },
      spec: {
        hostNetwork: true,
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'app', image: 'localhost/tracejob-workload:dev', imagePullPolicy: 'Never', command: ['sleep', '3600'] }],
      },
    });
    waitPodReady(ns, 'hostnet');
    const tj = createTraceJob(ns, 'hostnet-sizes', { target: { pod: { name: 'hostnet' } }, probe: { type: 'packetSizes' }, duration: '3s' });
    const done = await waitForPhase(ns, 'hostnet-sizes', ['Succeeded', 'Failed']);
    assert.equal(done.status?.phase, 'Failed', 'a hostNetwork pod was traced (node-wide traffic) without the node grant');
    assert.equal(done.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'PolicyDenied');
    assert.match(done.status?.message ?? '', /spec\.hostNetwork.*policy\.nodeTargetNamespaces/);
    assert.deepEqual(nodeJobsOf(tj.metadata.uid), []);
  });

  test('withdrawing consent stops a running cross-namespace trace with partial results', async () => {
    target = createNamespace('tj-sec-consent', { 'tracing.tracejob.dev/allow-from': ns });
    workloadPod(target, 'victim', ['node', '/workloads/noisy.js']);
    waitPodReady(target, 'victim');
    const tj = createTraceJob(ns, 'across', { target: { pod: { name: 'victim', namespace: target } }, probe: { type: 'syscallCounts' }, duration: '5m' });
    await waitForCondition(ns, 'across', 'Attached');
    await new Promise((r) => setTimeout(r, 3000));
    const withdrawn = Date.now();
    k(['annotate', 'namespace', target, 'tracing.tracejob.dev/allow-from-']);
    const done = await waitForPhase(ns, 'across', ['Succeeded', 'Failed'], 90_000);
    const tookS = (Date.now() - withdrawn) / 1000;
    assert.equal(done.status?.phase, 'Failed');
    assert.equal(done.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'ConsentWithdrawn');
    assert.match(done.status?.message ?? '', /does not consent.*the trace was stopped.*partial results kept/);
    assert.ok(tookS < 60, `stopping took ${tookS}s`);
    const { doc } = readResult(ns, done);
    assert.equal(doc.partial, true);
    assert.ok(doc.notes.some((n) => /stopped \(SIGTERM\)/.test(n)), doc.notes.join('; '));
    assert.ok(Object.values(doc.counters).some((v) => v > 0) || doc.tables.some((t) => t.rows.length > 0), 'the partial result is empty');
    await waitForAsync('node jobs removed', 30_000, () => nodeJobsOf(tj.metadata.uid).length === 0);
    // The stopped agents linger briefly so their log can be read, then go.
    await waitForAsync('agent pods gone', 45_000, () => kubectl(['-n', OPERATOR_NS, 'get', 'pods', '-l', `tracing.tracejob.dev/uid=${tj.metadata.uid}`, '-o', 'name']).stdout.trim() === '');
  });
});
