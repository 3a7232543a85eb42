// Uninstall leaves nothing behind: the documented procedure (chart README) is
// run against the real cluster and every kind of object the operator or the
// chart creates is listed afterwards. The operator is reinstalled at the end
// so later suites find it.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { KUBECONFIG, clusterReachable, createNamespace, deleteNamespace, k, kubectl, waitForAsync } from '../lib/kube.js';
import { OPERATOR_NS, createTraceJob, installOperator, waitForPhase, waitPodReady, workloadPod } from '../lib/tracejob.js';

const reachable = clusterReachable();

function names(args: string[]): string[] {
  const r = kubectl([...args, '-o', 'name']);
  return r.code === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}

describe('uninstall', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  after(() => {
    deleteNamespace(ns);
    k(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
    installOperator();
  });

  test('TraceJobs, helm uninstall, CRD and namespace removal leave nothing behind', async () => {
    k(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
    installOperator();
    ns = createNamespace('tj-uninstall');
    workloadPod(ns, 'target', ['node', '/workloads/noisy.js']);
    waitPodReady(ns, 'target');
    // One finished run (result ConfigMap, capability report) and one mid-run (node job, finalizer).
    createTraceJob(ns, 'done', { target: { pod: { name: 'target' } }, probe: { type: 'execs' }, duration: '2s' });
    await waitForPhase(ns, 'done', ['Succeeded', 'Failed']);
    createTraceJob(ns, 'running', { target: { pod: { name: 'target' } }, probe: { type: 'execs' }, duration: '5m' });
    await waitForAsync('node job for the running trace', 30_000, () => names(['-n', OPERATOR_NS, 'get', 'jobs']).length > 0);

    k(['delete', 'tracejobs', '--all', '--all-namespaces', '--wait=true', '--timeout=60s']);
    k(['-n', OPERATOR_NS, 'get', 'deploy/tracejob-operator']); // still installed at this point
    execHelm(['uninstall', 'tracejob', '-n', OPERATOR_NS, '--wait', '--timeout', '120s']);
    k(['delete', 'crd', 'tracejobs.tracing.tracejob.dev', '--wait=true', '--timeout=60s']);
    k(['delete', 'namespace', OPERATOR_NS, '--wait=true', '--timeout=120s']);

    assert.deepEqual(names(['get', 'crd']).filter((n) => n.includes('tracejob')), []);
    // The chart's cluster-scoped RBAC (tracejob-operator, tracejob-edit, tracejob-view); the
    // local cluster's own `tracejob:apiserver-kubelet-api-admin` binding is not the chart's.
    assert.deepEqual(names(['get', 'clusterroles']).filter((n) => n.includes('/tracejob-')), []);
    assert.deepEqual(names(['get', 'clusterrolebindings']).filter((n) => n.includes('/tracejob-')), []);
    assert.equal(kubectl(['get', 'namespace', OPERATOR_NS]).code, 1);
    assert.deepEqual(names(['-n', ns, 'get', 'configmaps']).filter((n) => n.endsWith('-result')), [], 'result ConfigMaps go with their TraceJobs');
    // No agent pod survives anywhere (node jobs were deleted by the finalizer).
    const agents = names(['get', 'pods', '-A', '-l', 'app.kubernetes.io/component=node-agent']);
    assert.deepEqual(agents, []);
  });
});

function execHelm(args: string[]): void {
  const cached = `${process.env.TRACEJOB_CACHE ?? '/var/cache/tracejob'}/helm-v3.22.0/bin/helm`;
  execFileSync(existsSync(cached) ? cached : 'helm', args, { stdio: 'inherit', env: { ...process.env, KUBECONFIG } });
}
