// SystemTap on the real local cluster (issue 6). These nodes cannot run SystemTap
// (CONFIG_MODULES off, no kernel build tree, no CAP_SYS_RESOURCE for stapbpf's
// RLIMIT_MEMLOCK): `backend: systemtap` must fail fast with Unsupported naming
// exactly that and leave nothing on the node; `backend: auto` on the same probe
// falls back to bpftrace and succeeds; the node capability report says so.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterReachable, createNamespace, deleteNamespace, getJson, k, waitForAsync } from '../lib/kube.js';
import { OPERATOR_NS, agentPodsOf, condition, createTraceJob, installOperator, nodeJobsOf, readResult, waitForPhase, waitPodReady, workloadPod } from '../lib/tracejob.js';

const reachable = clusterReachable();

describe('SystemTap backend and backend: auto', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  let node = '';
  before(() => {
    k(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
    installOperator();
    ns = createNamespace('tj-stap');
    workloadPod(ns, 'connector', ['node', '/workloads/connect-n.js', '5']);
    waitPodReady(ns, 'connector');
    node = k(['-n', ns, 'get', 'pod', 'connector', '-o', 'jsonpath={.spec.nodeName}']).trim();
  });
  after(() => deleteNamespace(ns));

  test('backend: systemtap → Failed/Unsupported fast, naming modules, build tree and memlock; nothing left', async () => {
    const t0 = Date.now();
    const created = createTraceJob(ns, 'stap', { target: { pod: { name: 'connector' } }, probe: { type: 'tcpRetransmits' }, backend: 'systemtap', duration: '10s' });
    const tj = await waitForPhase(ns, 'stap', ['Succeeded', 'Failed'], 60_000);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(tj.status?.phase, 'Failed', tj.status?.message);
    const failed = condition(tj, 'Failed');
    assert.equal(failed?.reason, 'Unsupported', JSON.stringify(tj.status?.conditions));
    const msg = failed?.message ?? '';
    assert.match(msg, /SystemTap cannot run/);
    assert.match(msg, /no loadable module support \(CONFIG_MODULES off/);
    assert.match(msg, /no kernel build tree at \/lib\/modules\/[^ ]+\/build/);
    assert.match(msg, /RLIMIT_MEMLOCK/);
    // Faster than the 10 s trace it was asked for: it never traced.
    assert.ok(seconds < 30, `took ${seconds}s`);
    assert.equal(tj.status?.timing?.['attached'], undefined, 'never attached');
    await waitForAsync('node job and agent pod gone', 30_000, () => nodeJobsOf(created.metadata.uid).length === 0 && agentPodsOf(created.metadata.uid).length === 0);
  });

  test('backend: auto on the same probe picks bpftrace and succeeds', async () => {
    createTraceJob(ns, 'auto', { target: { pod: { name: 'connector' } }, probe: { type: 'tcpRetransmits' }, backend: 'auto', duration: '4s' });
    const tj = await waitForPhase(ns, 'auto', ['Succeeded', 'Failed'], 90_000);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    const status = tj.status as { tracer?: { name?: string } } | undefined;
    assert.equal(status?.tracer?.name, 'bpftrace');
    const { doc } = readResult(ns, tj);
    assert.equal(doc.probe, 'tcpRetransmits');
    assert.equal(typeof doc.counters['retransmits'], 'number');
  });

  test('the node capability report ConfigMap says what the kernel says', async () => {
    const name = `tracejob-node-${node}`;
    const cm = await waitForAsync(`ConfigMap ${name}`, 30_000, () => {
      try {
        return getJson<{ metadata: { labels?: Record<string, string> }; data: Record<string, string> }>(['-n', OPERATOR_NS, 'get', 'configmap', name]);
      } catch {
        return undefined;
      }
    });
    assert.equal(cm.metadata.labels?.['app.kubernetes.io/component'], 'node-capabilities');
    const r = JSON.parse(cm.data['report.json'] ?? '{}') as Record<string, unknown>;
    assert.equal(r['node'], node);
    assert.equal(r['kprobes'], false);
    assert.equal(r['modules'], false);
    assert.equal(r['btf'], true);
    assert.equal(r['tracefs'], true);
    assert.equal(r['uprobes'], true);
    assert.equal(r['perfEvents'], true);
    assert.equal(r['kfunc'], false);
    assert.equal(r['kernelBuildTree'], false);
    assert.equal(r['canRaiseMemlock'], false);
    assert.equal(r['stapModuleRuntime'], false);
    assert.equal(r['stapbpf'], false);
    assert.equal(r['cgroupVersion'], 'hybrid');
    assert.equal(r['kernel'], k(['get', 'node', node, '-o', 'jsonpath={.status.nodeInfo.kernelVersion}']).trim());
    assert.match(String(r['bpftrace']), /^\d+\.\d+\.\d+/);
    assert.ok(Number(r['tracepoints']) > 100);
    assert.deepEqual(r['backends'], ['bpftrace']);
    assert.ok(['none', 'unknown'].includes(String(r['lockdown'])), String(r['lockdown']));
  });
});
