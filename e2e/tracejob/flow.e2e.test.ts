// TraceJob end to end on the real local cluster: operator installed with the
// Helm chart, real node jobs running bpftrace on this kernel, ground-truth
// workloads. Every assertion compares with what the workload is known to do.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { INVALID_CASES } from '../../src/api/invalid-cases.js';
import { clusterReachable, createNamespace, deleteNamespace, k, kubectl, sleep, waitForAsync } from '../lib/kube.js';
import {
  OPERATOR_NS,
  PRIVILEGED_NS,
  agentPodsOf,
  condition,
  createTraceJob,
  getTraceJob,
  installCrdsAndOperator,
  installOperator,
  traceTriggered,
  nodeJobsOf,
  readResult,
  tableRows,
  trigger,
  waitForCondition,
  waitForPhase,
  waitPodReady,
  workloadPod,
} from '../lib/tracejob.js';

const reachable = clusterReachable();

describe('TraceJob end to end', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  before(() => {
    installCrdsAndOperator();
    ns = createNamespace('tj-e2e');
    workloadPod(ns, 'execer', ['node', '/workloads/exec-n.js', '7', '/bin/true']);
    workloadPod(ns, 'noisy', ['node', '/workloads/noisy.js']);
    workloadPod(ns, 'connector', ['node', '/workloads/connect-n.js', '25']);
    for (const p of ['execer', 'noisy', 'connector']) waitPodReady(ns, p);
  });
  after(() => deleteNamespace(ns));

  test('execs counts exactly the 7 execs of the target and nothing from the noisy neighbour', async () => {
    createTraceJob(ns, 'execs-target', { target: { pod: { name: 'execer' } }, probe: { type: 'execs' }, duration: '8s' });
    createTraceJob(ns, 'execs-noisy', { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '8s' });
    await waitForCondition(ns, 'execs-target', 'Attached');
    trigger(ns, 'execer');
    const tj = await waitForPhase(ns, 'execs-target', ['Succeeded', 'Failed']);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    const { doc, report } = readResult(ns, tj);
    const byFile = new Map(tableRows(doc, 'execs by binary').map((r) => [String(r[0]), Number(r[1])]));
    assert.equal(byFile.get('/bin/true'), 7, `execs by binary: ${JSON.stringify([...byFile])}`);
    assert.equal(byFile.get('/bin/ls'), undefined, 'the neighbour leaked into the target trace');
    assert.match(tj.status?.summary?.headline ?? '', /execs=\d+/);
    assert.match(report, /\/bin\/true/);
    // Status carries the resolved target: host pids and the cgroup v2 id.
    const target = tj.status?.targets?.[0] ?? {};
    assert.equal(target['pod'], 'execer');
    assert.match(String(target['containerID']), /^containerd:\/\/[0-9a-f]{64}$/);
    assert.match(String(target['cgroupID']), /^\d+$/);
    assert.ok((target['hostPIDs'] as number[]).length >= 1);
    for (const key of ['accepted', 'nodeJobCreated', 'attached', 'finished']) assert.ok(tj.status?.timing?.[key], `timing.${key}`);

    // The neighbour's own trace sees its /bin/ls and none of the target's /bin/true.
    const noisy = await waitForPhase(ns, 'execs-noisy', ['Succeeded', 'Failed']);
    assert.equal(noisy.status?.phase, 'Succeeded', noisy.status?.message);
    const noisyFiles = new Map(tableRows(readResult(ns, noisy).doc, 'execs by binary').map((r) => [String(r[0]), Number(r[1])]));
    assert.ok((noisyFiles.get('/bin/ls') ?? 0) >= 20, `noisy neighbour execs: ${JSON.stringify([...noisyFiles])}`);
    assert.equal(noisyFiles.get('/bin/true'), undefined);

    // Cleaned up: no node job or agent pod is left.
    await waitForAsync('node jobs to be removed', 20_000, () => nodeJobsOf(tj.metadata.uid).length === 0 && agentPodsOf(tj.metadata.uid).length === 0);
  });

  test('tcpConnectLatency counts exactly the 25 connections and fills the histogram', async () => {
    const { tj, doc } = await traceTriggered(ns, 'connects', 'connector', { target: { pod: { name: 'connector', container: 'app' } }, probe: { type: 'tcpConnectLatency' }, duration: '8s' });
    assert.equal(doc.counters['connections'], 25);
    const hist = doc.histograms[0];
    assert.ok(hist, 'a latency histogram');
    assert.equal(hist.count, 25);
    assert.equal(hist.buckets.reduce((n, b) => n + b.count, 0), 25);
    assert.ok((hist.p99 ?? 0) > 0);
    assert.match(tj.status?.summary?.headline ?? '', /connections=25/);
  });

  test('cpuProfile puts the busy process on top of a flame graph rendered into the ConfigMap', async () => {
    workloadPod(ns, 'spinner', ['sh', '-c', 'while :; do :; done']);
    waitPodReady(ns, 'spinner');
    createTraceJob(ns, 'profile', { target: { pod: { name: 'spinner' } }, probe: { type: 'cpuProfile', params: { hz: 99 } }, duration: '5s' });
    const tj = await waitForPhase(ns, 'profile', ['Succeeded', 'Failed'], 120_000);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    assert.deepEqual([...(tj.status?.resultRef?.keys ?? [])].sort(), ['flamegraph.svg', 'report.txt', 'result.json', 'stacks.folded']);
    const cm = JSON.parse(k(['-n', ns, 'get', 'configmap', tj.status?.resultRef?.configMap ?? '', '-o', 'json'])) as { data: Record<string, string> };
    const folded = cm.data['stacks.folded'] ?? '';
    let total = 0;
    let busy = 0;
    for (const line of folded.split('\n').filter(Boolean)) {
      const count = Number(line.slice(line.lastIndexOf(' ') + 1));
      total += count;
      if (/^(sh|dash)(;|\s)/.test(line)) busy += count;
    }
    // A spinning shell on a 2-core node at 99 Hz for 5 s: hundreds of samples, nearly all its own.
    assert.ok(total >= 200, `samples: ${total}`);
    assert.ok(busy / total > 0.9, `busy share ${busy}/${total}`);
    const svg = cm.data['flamegraph.svg'] ?? '';
    assert.match(svg, /^<\?xml|^<svg/);
    assert.match(svg, /<title>(sh|dash) \(/);
    k(['-n', ns, 'delete', 'pod', 'spinner', '--wait=false']);
  });

  test('re-applying an unchanged TraceJob does not run it again; editing the spec does', async () => {
    const name = 'rerun';
    const spec = { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '3s' };
    createTraceJob(ns, name, spec);
    const first = await waitForPhase(ns, name, ['Succeeded', 'Failed']);
    assert.equal(first.status?.phase, 'Succeeded', first.status?.message);
    createTraceJob(ns, name, spec);
    await sleep(4000);
    const same = getTraceJob(ns, name);
    assert.equal(same?.metadata.generation, 1);
    assert.equal(same?.status?.timing?.['accepted'], first.status?.timing?.['accepted']);
    assert.equal(nodeJobsOf(first.metadata.uid).length, 0, 'no node job for an unchanged spec');

    createTraceJob(ns, name, { ...spec, duration: '4s' });
    const second = await waitForAsync('second run to finish', 60_000, () => {
      const tj = getTraceJob(ns, name);
      return tj?.status?.observedGeneration === 2 && ['Succeeded', 'Failed'].includes(tj.status.phase ?? '') ? tj : undefined;
    });
    assert.equal(second.status?.phase, 'Succeeded', second.status?.message);
    assert.notEqual(second.status?.timing?.['accepted'], first.status?.timing?.['accepted']);
  });

  test('deleting a running TraceJob removes its node job within seconds', async () => {
    const tj = createTraceJob(ns, 'deleted-midway', { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '60s' });
    await waitForCondition(ns, 'deleted-midway', 'Attached');
    assert.equal(nodeJobsOf(tj.metadata.uid).length, 1);
    const t0 = Date.now();
    k(['-n', ns, 'delete', 'tracejob', 'deleted-midway', '--wait=true', '--timeout=30s']);
    await waitForAsync('node job and agent pod gone', 30_000, () => nodeJobsOf(tj.metadata.uid).length === 0 && agentPodsOf(tj.metadata.uid).length === 0);
    const seconds = (Date.now() - t0) / 1000;
    assert.ok(seconds < 30, `took ${seconds}s`);
  });

  test('killing the operator mid-trace: the new leader still collects the result', async () => {
    createTraceJob(ns, 'survives', { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '15s' });
    await waitForCondition(ns, 'survives', 'Attached');
    // Hard-kill every operator pod: no graceful lease release.
    k(['-n', OPERATOR_NS, 'delete', 'pod', '-l', 'app.kubernetes.io/name=tracejob-operator', '--grace-period=0', '--force']);
    const tj = await waitForPhase(ns, 'survives', ['Succeeded', 'Failed'], 120_000);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    const { doc } = readResult(ns, tj);
    assert.ok((doc.counters['execs'] ?? 0) >= 30, `execs=${doc.counters['execs']}`);
    k(['-n', OPERATOR_NS, 'rollout', 'status', 'deploy/tracejob-operator', '--timeout=120s']);
  });

  test('a target that exits mid-trace gives a partial result, not a failure', async () => {
    workloadPod(ns, 'short-lived', ['node', '/workloads/exec-n.js', '3', '/bin/true', '--exit'], {}, 'Never');
    waitPodReady(ns, 'short-lived');
    createTraceJob(ns, 'partial', { target: { pod: { name: 'short-lived' } }, probe: { type: 'execs' }, duration: '60s' });
    await waitForCondition(ns, 'partial', 'Attached');
    const t0 = Date.now();
    trigger(ns, 'short-lived');
    const tj = await waitForPhase(ns, 'partial', ['Succeeded', 'Failed'], 50_000);
    assert.ok(Date.now() - t0 < 45_000, 'stopped early instead of tracing the full 60s');
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    assert.equal(condition(tj, 'Succeeded')?.reason, 'CompletedPartial');
    const { doc } = readResult(ns, tj);
    assert.equal(doc.partial, true);
    const byFile = new Map(tableRows(doc, 'execs by binary').map((r) => [String(r[0]), Number(r[1])]));
    assert.equal(byFile.get('/bin/true'), 3);
  });

  describe('failure modes end in Failed with a reason and leave nothing behind', () => {
    const cases: Array<{ name: string; spec: Record<string, unknown>; reason: string; message: RegExp; inNs?: () => string }> = [
      { name: 'no-such-pod', spec: { target: { pod: { name: 'ghost' } }, probe: { type: 'execs' }, duration: '5s' }, reason: 'PodNotFound', message: /ghost not found/ },
      { name: 'no-such-container', spec: { target: { pod: { name: 'noisy', container: 'db' } }, probe: { type: 'execs' }, duration: '5s' }, reason: 'ContainerNotFound', message: /container db not found/ },
      { name: 'bad-params', spec: { target: { pod: { name: 'noisy' } }, probe: { type: 'execs', params: { bogus: 1 } }, duration: '5s' }, reason: 'Invalid', message: /spec\.probe\.params/ },
      { name: 'custom-denied', spec: { target: { pod: { name: 'noisy' } }, probe: { type: 'bpftrace', program: 'BEGIN { exit(); }' }, duration: '5s' }, reason: 'PolicyDenied', message: /customProgramNamespaces/ },
      { name: 'node-denied', spec: { target: { node: { name: 'tracejob-node' } }, probe: { type: 'execs' }, duration: '5s' }, reason: 'PolicyDenied', message: /nodeTargetNamespaces/ },
      { name: 'other-namespace', spec: { target: { pod: { name: 'x', namespace: 'kube-system' } }, probe: { type: 'execs' }, duration: '5s' }, reason: 'PolicyDenied', message: /does not consent/ },
    ];
    // The rules the CRD cannot express, from the shared invalid-spec table.
    INVALID_CASES.filter((c) => c.rejectedBy === 'operator').forEach((c, i) => {
      test(`operator rejects: ${c.name}`, async () => {
        createTraceJob(ns, `invalid-${i}`, c.spec as Record<string, unknown>);
        const tj = await waitForPhase(ns, `invalid-${i}`, ['Succeeded', 'Failed'], 30_000);
        assert.equal(tj.status?.phase, 'Failed');
        assert.equal(condition(tj, 'Accepted')?.status, 'False');
        assert.equal(condition(tj, 'Accepted')?.reason, 'Invalid');
        assert.ok((tj.status?.message ?? '').includes(c.expect), `${tj.status?.message} should mention ${c.expect}`);
      });
    });
    for (const c of cases) {
      test(`${c.name} → ${c.reason}`, async () => {
        const created = createTraceJob(ns, c.name, c.spec);
        const tj = await waitForPhase(ns, c.name, ['Succeeded', 'Failed'], 60_000);
        assert.equal(tj.status?.phase, 'Failed');
        const failed = condition(tj, 'Failed');
        assert.equal(failed?.reason, c.reason, JSON.stringify(tj.status?.conditions));
        assert.match(failed?.message ?? '', c.message);
        assert.equal(nodeJobsOf(created.metadata.uid).length, 0);
        const events = k(['-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${c.name}`, '-o', 'jsonpath={.items[*].reason}']);
        assert.match(events, new RegExp(c.reason));
      });
    }
  });

  test('a missing agent image fails fast with ImageUnavailable', async () => {
    installOperator(['--set', 'agent.image.tag=does-not-exist']);
    try {
      const created = createTraceJob(ns, 'no-image', { target: { pod: { name: 'noisy' } }, probe: { type: 'execs' }, duration: '5s' });
      const tj = await waitForPhase(ns, 'no-image', ['Succeeded', 'Failed'], 60_000);
      assert.equal(tj.status?.phase, 'Failed');
      assert.equal(condition(tj, 'Failed')?.reason, 'ImageUnavailable');
      assert.match(condition(tj, 'Failed')?.message ?? '', /ErrImageNeverPull/);
      await waitForAsync('node job removed', 20_000, () => nodeJobsOf(created.metadata.uid).length === 0);
    } finally {
      installOperator();
    }
  });

  describe('custom programs (policy-gated)', () => {
    let adminNs = '';
    before(() => {
      kubectl(['create', 'namespace', PRIVILEGED_NS]);
      adminNs = PRIVILEGED_NS;
      workloadPod(adminNs, 'execer', ['node', '/workloads/exec-n.js', '5', '/bin/true']);
      waitPodReady(adminNs, 'execer');
    });
    after(() => deleteNamespace(adminNs));

    test('a custom bpftrace program with the {{filter}} placeholder counts the target only', async () => {
      const program = 'tracepoint:sched:sched_process_exec /{{filter}}/ { @execs[comm] = count(); }';
      const { doc } = await traceTriggered(adminNs, 'custom', 'execer', { target: { pod: { name: 'execer' } }, probe: { type: 'bpftrace', program }, duration: '8s' });
      const rows = doc.tables.flatMap((t) => t.rows);
      const trueRow = rows.find((r) => r[0] === 'true');
      assert.equal(Number(trueRow?.at(-1)), 5, JSON.stringify(doc.tables));
    });

    test('a bpftrace compile error fails with CompileError and bpftrace\'s message', async () => {
      const created = createTraceJob(adminNs, 'broken', { target: { pod: { name: 'execer' } }, probe: { type: 'bpftrace', program: 'tracepoint:sched:sched_process_exec { @x = nosuchfunction(); }' }, duration: '5s' });
      const tj = await waitForPhase(adminNs, 'broken', ['Succeeded', 'Failed'], 60_000);
      assert.equal(tj.status?.phase, 'Failed');
      assert.equal(condition(tj, 'Failed')?.reason, 'CompileError');
      assert.match(condition(tj, 'Failed')?.message ?? '', /nosuchfunction/);
      await waitForAsync('node job removed', 20_000, () => nodeJobsOf(created.metadata.uid).length === 0);
    });
  });
});
