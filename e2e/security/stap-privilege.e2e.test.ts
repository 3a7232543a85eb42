// A custom SystemTap program that would act on the node is refused before any node
// job exists, on the real cluster: in the namespace the e2e install allows custom
// programs for (and not guru mode), `system("touch /proc/1/root/tmp/tj-x")` — root on
// the node through the privileged, hostPID agent — ends Failed/PolicyDenied naming
// spec.probe.program, system() and policy.systemtapGuruNamespaces; a watch on the
// operator namespace, started before the TraceJob, sees no Job with its uid; the file
// never appears on the node (this machine). A program that only mentions system( in
// a comment and a string is accepted and fails later for this node's lack of modules.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { KUBECONFIG, clusterReachable, deleteNamespace, ensureNamespace, k, kubectl, kubectlPath, sleep, uniqueName } from '../lib/kube.js';
import { OPERATOR_NS, PRIVILEGED_NS, condition, createTraceJob, installCrdsAndOperator, waitForPhase, waitPodReady, workloadPod } from '../lib/tracejob.js';

const reachable = clusterReachable();
const MARKER = '/tmp/tj-x';

/** Every Job event in the operator namespace from now on: `TYPE NAME UID-LABEL` lines. */
function watchJobs(): { stop: () => Promise<string[]> } {
  const lines: string[] = [];
  let buf = '';
  const child: ChildProcess = spawn(
    kubectlPath(),
    ['--kubeconfig', KUBECONFIG, '-n', OPERATOR_NS, 'get', 'jobs', '-w', '--output-watch-events', '-o', 'jsonpath={.type} {.object.metadata.name} {.object.metadata.labels.tracing\\.tracejob\\.dev/uid}{"\\n"}'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  child.stdout?.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  });
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('close', r));
      return lines;
    },
  };
}


describe('custom SystemTap programs without guru policy', { skip: !reachable && 'local cluster not running' }, () => {
  const ns = PRIVILEGED_NS;
  const pod = uniqueName('tj-sec-stap-target');
  let createdNs = false;
  const traceJobs: string[] = [];
  before(async () => {
    installCrdsAndOperator();
    createdNs = await ensureNamespace(ns);
    workloadPod(ns, pod, ['sleep', '3600']);
    waitPodReady(ns, pod);
    rmSync(MARKER, { force: true });
  });
  after(() => {
    for (const t of traceJobs) kubectl(['-n', ns, 'delete', 'tracejob', t, '--ignore-not-found', '--wait=false']);
    kubectl(['-n', ns, 'delete', 'pod', pod, '--ignore-not-found', '--wait=false']);
    if (createdNs) deleteNamespace(ns);
  });

  test('system() → Failed/PolicyDenied at acceptance; no node Job ever; nothing on the node', async () => {
    const name = uniqueName('tj-sec-stap-system');
    traceJobs.push(name);
    const watch = watchJobs();
    // The watch is running (its initial list arrived) before the TraceJob exists.
    await sleep(1000);
    let uid = '';
    let events: string[] = [];
    try {
      uid = createTraceJob(ns, name, {
        target: { pod: { name: pod } },
        probe: { type: 'systemtap', program: 'probe begin { system("touch /proc/1/root/tmp/tj-x") exit() }' },
        duration: '5s',
      }).metadata.uid;
      const tj = await waitForPhase(ns, name, ['Succeeded', 'Failed', 'Running'], 60_000);
      assert.equal(tj.status?.phase, 'Failed', JSON.stringify(tj.status));
      const failed = condition(tj, 'Failed');
      assert.equal(failed?.reason, 'PolicyDenied', JSON.stringify(tj.status?.conditions));
      assert.match(failed?.message ?? '', /^spec\.probe\.program line 1: system\(\) is refused without SystemTap guru mode/);
      assert.match(failed?.message ?? '', new RegExp(`namespace ${ns} in policy\\.systemtapGuruNamespaces`));
      assert.equal(tj.status?.timing?.['attached'], undefined);
      // Nothing is started later either: a refused generation is final.
      await sleep(5000);
    } finally {
      events = await watch.stop();
    }
    assert.ok(uid !== '');
    const mine = events.filter((l) => l.split(' ')[2] === uid);
    assert.deepEqual(mine, [], `node Job events for ${uid}: ${mine.join('; ')}`);
    assert.equal(k(['-n', OPERATOR_NS, 'get', 'jobs', '-l', `tracing.tracejob.dev/uid=${uid}`, '-o', 'name']).trim(), '');
    assert.equal(existsSync(MARKER), false, `${MARKER} exists on the node`);
  });

  test('system( only in a comment and a string → accepted, then fails for the node (not PolicyDenied)', async () => {
    const name = uniqueName('tj-sec-stap-comment');
    traceJobs.push(name);
    const program = '# system("touch /proc/1/root/tmp/tj-x")\nprobe begin { printf("system(\\n") exit() }';
    createTraceJob(ns, name, { target: { pod: { name: pod } }, probe: { type: 'systemtap', program }, duration: '5s' });
    const tj = await waitForPhase(ns, name, ['Succeeded', 'Failed'], 120_000);
    assert.equal(condition(tj, 'Accepted')?.status, 'True', JSON.stringify(tj.status?.conditions));
    const failed = condition(tj, 'Failed');
    assert.notEqual(failed?.reason, 'PolicyDenied', JSON.stringify(tj.status?.conditions));
    // This node cannot load SystemTap modules.
    assert.equal(failed?.reason, 'Unsupported', JSON.stringify(tj.status?.conditions));
    assert.equal(existsSync(MARKER), false);
  });
});
