// SystemTap on the real local cluster (issue 6). These nodes cannot run SystemTap
// (CONFIG_MODULES off, no kernel build tree, no CAP_SYS_RESOURCE for stapbpf's
// RLIMIT_MEMLOCK): `backend: systemtap` must fail fast with Unsupported naming
// exactly that and leave nothing on the node; `backend: auto` on the same probe
// falls back to bpftrace and succeeds; the node capability report says so, and is
// refreshed by a preflight-only job when missing. A node whose report says it could
// run SystemTap but whose kernel has no debuginfo packages gets DebuginfoUnavailable
// from the real init container, and nothing is left in the node cache.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { apply, clusterReachable, createNamespace, deleteNamespace, getJson, k, waitForAsync } from '../lib/kube.js';
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

  test('no capability report for the node → a preflight-only job writes one first, then the run proceeds', async () => {
    const cmName = `tracejob-node-${node}`;
    k(['-n', OPERATOR_NS, 'delete', 'configmap', cmName, '--ignore-not-found']);
    const t0 = new Date();
    const created = createTraceJob(ns, 'probing', { target: { pod: { name: 'connector' } }, probe: { type: 'tcpRetransmits' }, backend: 'systemtap', duration: '10s' });
    const tj = await waitForPhase(ns, 'probing', ['Succeeded', 'Failed'], 90_000);
    // The refreshed report says this node cannot run SystemTap: the agent then names why.
    assert.equal(condition(tj, 'Failed')?.reason, 'Unsupported', JSON.stringify(tj.status?.conditions));
    const caps = condition(tj, 'NodeCapabilities');
    assert.equal(caps?.status, 'True', JSON.stringify(tj.status?.conditions));
    assert.equal(caps?.reason, 'Reported');
    const events = k(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=probing`, '-o', 'jsonpath={range .items[*]}{.reason}:{.message}{"\\n"}{end}']);
    assert.match(events, new RegExp(`Probing:Refreshing the capability report of node ${node}: the node has no capability report yet`));
    const cm = getJson<{ data: Record<string, string> }>(['-n', OPERATOR_NS, 'get', 'configmap', cmName]);
    const report = JSON.parse(cm.data['report.json'] ?? '{}') as { reportedAt: string; modules: boolean; stapInstalled: boolean; stapVersion?: string };
    assert.ok(Date.parse(report.reportedAt) >= t0.getTime() - 1000, report.reportedAt);
    assert.equal(report.modules, false);
    // Written by the SystemTap agent image, which ships stap (the bpftrace image does not).
    assert.equal(report.stapInstalled, true);
    assert.match(String(report.stapVersion), /^\d+\.\d+/);
    assert.doesNotMatch(condition(tj, 'Failed')?.message ?? '', /stap is not installed/);
    await waitForAsync('preflight and node jobs gone', 30_000, () => nodeJobsOf(created.metadata.uid).length === 0 && agentPodsOf(created.metadata.uid).length === 0);
  });

  test('a node that could run SystemTap but has no debuginfo packages for its kernel → DebuginfoUnavailable from the init container; cache left clean', async () => {
    // This node cannot run SystemTap, so its report is planted: a Debian 12 node with
    // modules and stap but no headers or debuginfo for a kernel no mirror carries. The
    // operator plans the fetch from the report; the real init container (apt in the agent
    // image, set by the e2e install) finds no package and exits 42.
    const cmName = `tracejob-node-${node}`;
    const release = '6.1.0-99-amd64';
    const planted = {
      node, reportedAt: new Date().toISOString(), kernel: release, arch: 'x86_64', os: 'Debian GNU/Linux 12 (bookworm)',
      osRelease: { id: 'debian', idLike: [], versionId: '12', codename: 'bookworm' },
      btf: true, tracefs: true, kprobes: true, kfunc: true, uprobes: true, perfEvents: true, modules: true, lockdown: 'none',
      kernelBuildTree: false, stapInstalled: true, stapModuleRuntime: false, stapbpf: false, canRaiseMemlock: false,
      debuginfo: { present: false, debuginfod: false }, cgroupVersion: 'hybrid', backends: ['bpftrace'],
    };
    try {
      apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName, namespace: OPERATOR_NS }, data: { 'report.json': JSON.stringify(planted) } });
      const created = createTraceJob(ns, 'nodebug', { target: { pod: { name: 'connector' } }, probe: { type: 'syscallLatency' }, backend: 'systemtap', duration: '5s' });
      // While it runs, the node job carries the init container and the read-only cache mount.
      const job = await waitForAsync('node job with the debuginfo init container', 30_000, () => {
        const jobs = getJson<{ items: Array<{ spec: { template: { spec: { initContainers?: Array<{ name: string; image: string }>; containers: Array<{ volumeMounts: Array<{ mountPath: string; readOnly?: boolean }> }> } } } }> }>(
          ['-n', OPERATOR_NS, 'get', 'jobs', '-l', `tracing.tracejob.dev/uid=${created.metadata.uid}`],
        ).items;
        return jobs[0];
      });
      assert.deepEqual(job.spec.template.spec.initContainers?.map((c) => [c.name, c.image]), [['debuginfo', 'localhost/tracejob-agent:dev']]);
      assert.ok(job.spec.template.spec.containers[0]?.volumeMounts.some((m) => m.mountPath === '/debuginfo' && m.readOnly === true));
      const tj = await waitForPhase(ns, 'nodebug', ['Succeeded', 'Failed'], 120_000);
      const failed = condition(tj, 'Failed');
      assert.equal(failed?.reason, 'DebuginfoUnavailable', JSON.stringify(tj.status?.conditions));
      assert.match(failed?.message ?? '', /none of linux-image-6\.1\.0-99-amd64-dbg, linux-image-6\.1\.0-99-amd64-dbgsym is available/);
      assert.equal(condition(tj, 'Debuginfo')?.status, 'False');
      assert.equal(condition(tj, 'Debuginfo')?.reason, 'DebuginfoUnavailable');
      assert.equal(tj.status?.timing?.['attached'], undefined, 'never attached');
      await waitForAsync('node job and pod gone', 30_000, () => nodeJobsOf(created.metadata.uid).length === 0 && agentPodsOf(created.metadata.uid).length === 0);
      // This machine is the node: the half-made cache directory was removed by the init container.
      assert.equal(existsSync(`/var/cache/tracejob/debuginfo/${release}`), false);
    } finally {
      k(['-n', OPERATOR_NS, 'delete', 'configmap', cmName, '--ignore-not-found']);
    }
  });

  test('a report naming a kernel no distribution ships → DebuginfoUnavailable before any node job', async () => {
    const cmName = `tracejob-node-${node}`;
    const planted = {
      node, reportedAt: new Date().toISOString(), kernel: '6.18.44-custom', arch: 'x86_64',
      osRelease: { id: 'debian', idLike: [], versionId: '12' }, btf: true, tracefs: true, kprobes: false, kfunc: false, uprobes: true, perfEvents: true,
      modules: true, lockdown: 'none', kernelBuildTree: false, stapInstalled: true, stapModuleRuntime: false, stapbpf: false, canRaiseMemlock: false,
      debuginfo: { present: false, debuginfod: false }, cgroupVersion: 'v2', backends: ['bpftrace'],
    };
    try {
      apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: cmName, namespace: OPERATOR_NS }, data: { 'report.json': JSON.stringify(planted) } });
      const created = createTraceJob(ns, 'custom-kernel', { target: { pod: { name: 'connector' } }, probe: { type: 'tcpRetransmits' }, backend: 'systemtap', duration: '5s' });
      const tj = await waitForPhase(ns, 'custom-kernel', ['Succeeded', 'Failed'], 30_000);
      assert.equal(condition(tj, 'Failed')?.reason, 'DebuginfoUnavailable');
      assert.match(condition(tj, 'Failed')?.message ?? '', new RegExp(`^node ${node}: kernel 6\\.18\\.44-custom is not a debian 12 distribution kernel`));
      assert.equal(condition(tj, 'Debuginfo')?.status, 'False');
      assert.equal(tj.status?.nodeJobs, undefined, 'no node job was created');
      assert.equal(nodeJobsOf(created.metadata.uid).length, 0);
    } finally {
      k(['-n', OPERATOR_NS, 'delete', 'configmap', cmName, '--ignore-not-found']);
    }
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
