// A traced workload chooses the strings that reach people: here it opens a file
// whose name is a terminal attack (OSC retitles the window, CSI clears the
// screen). Through real bpftrace, the operator and the plugin, report.txt, the
// headline (`kubectl get`'s Result column), `kubectl get` and `kubectl tracejob
// report` never carry a control character. bpftrace 0.23 (the agent's) already
// prints a string's control bytes as the text `\u001b` (observed), so the last
// test takes the path where raw bytes do arrive: a result ConfigMap is the
// tenant's to edit, and the plugin must not trust its report.txt.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterReachable, createNamespace, deleteNamespace, k, kubectl, uniqueName, waitForAsync } from '../lib/kube.js';
import { PRIVILEGED_NS, installCrdsAndOperator, tableRows, traceTriggered, waitPodReady, workloadPod } from '../lib/tracejob.js';
import { plugin } from '../install/plugin.js';

const reachable = clusterReachable();
const EVIL = '/tmp/\x1b]0;pwned\x07\x1b[2J evil';
const SHOWN = '/tmp/\\x1b]0;pwned\\x07\\x1b[2J evil';
/** The name as bpftrace 0.23 prints it. */
const BPFTRACE_SHOWN = '/tmp/\\u001b]0;pwned\\u0007\\u001b[2J evil';
/** What a terminal would act on (LF allowed: line structure). */
const ACTIVE = /(?![\n])[\p{Cc}\p{Cf}]/u;
/** Creates the file, then opens it 5 times after the trigger. */
const OPENER = ['sh', '-c', ': > "$EVIL" && exec node /workloads/ops-n.js open 5 "$EVIL"'];

describe('workload-chosen strings reach people escaped', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  let createdPrivileged = false;
  before(() => {
    installCrdsAndOperator();
    ns = createNamespace('tj-sec-output');
  });
  after(() => {
    deleteNamespace(ns);
    if (createdPrivileged) deleteNamespace(PRIVILEGED_NS);
  });

  test('fileOpens: report.txt and `kubectl tracejob report` show the file name escaped', async () => {
    workloadPod(ns, 'opener', OPENER, {}, 'Always', { env: [{ name: 'EVIL', value: EVIL }] });
    waitPodReady(ns, 'opener');
    const { tj, doc, report } = await traceTriggered(ns, 'opens', 'opener', { target: { pod: { name: 'opener' } }, probe: { type: 'fileOpens' }, duration: '6s' });
    // The opens are counted under the name (raw, or as bpftrace escaped it).
    const row = tableRows(doc, 'opens by path').find((r) => r[0] === EVIL || r[0] === BPFTRACE_SHOWN);
    assert.equal(row?.[1], 5, JSON.stringify(doc.tables));
    assert.doesNotMatch(report, ACTIVE);
    assert.match(report, /\/tmp\/\\(x1b|u001b)\]0;pwned/, report);
    assert.doesNotMatch(tj.status?.summary?.headline ?? '', ACTIVE);
    for (const format of ['text', 'yaml', 'json']) {
      const out = plugin(['report', 'opens', '-n', ns, '-o', format]);
      assert.equal(out.code, 0, out.stderr);
      assert.doesNotMatch(out.stdout, ACTIVE, format);
      assert.match(out.stdout, /pwned/, format);
    }
  });

  test('a result ConfigMap edited to hold raw control bytes: `kubectl tracejob report` prints them escaped', () => {
    const raw = `TraceJob result: fileOpens\nopened ${EVIL} \u202Etxt.exe\n`;
    k(['-n', ns, 'patch', 'configmap', 'opens-result', '--type=merge', '-p', JSON.stringify({ data: { 'report.txt': raw } })]);
    const out = plugin(['report', 'opens', '-n', ns]);
    assert.equal(out.code, 0, out.stderr);
    assert.doesNotMatch(out.stdout, ACTIVE);
    assert.equal(out.stdout, `TraceJob result: fileOpens\nopened ${SHOWN} \\u202etxt.exe\n`);
  });

  test("a custom program's map keyed by the name: the headline and `kubectl get` show it escaped", async () => {
    createdPrivileged = await waitForAsync(`namespace ${PRIVILEGED_NS} active`, 90_000, () => {
      const phase = kubectl(['get', 'namespace', PRIVILEGED_NS, '-o', 'jsonpath={.status.phase}']);
      if (phase.code === 0) return phase.stdout === 'Active' ? { created: false } : undefined;
      return kubectl(['create', 'namespace', PRIVILEGED_NS]).code === 0 ? { created: true } : undefined;
    }).then((r) => r.created);
    const pod = uniqueName('tj-sec-output');
    workloadPod(PRIVILEGED_NS, pod, OPENER, {}, 'Always', { env: [{ name: 'EVIL', value: EVIL }] });
    try {
      waitPodReady(PRIVILEGED_NS, pod);
      const program = 'tracepoint:syscalls:sys_enter_openat /{{filter}}/ { @opens[str(args.filename)] = count(); }';
      const { tj, report } = await traceTriggered(PRIVILEGED_NS, pod, pod, { target: { pod: { name: pod } }, probe: { type: 'bpftrace', program }, duration: '6s' });
      const headline = tj.status?.summary?.headline ?? '';
      assert.doesNotMatch(headline, ACTIVE);
      assert.match(headline, /\\(x1b|u001b)\]0;pwned/, headline);
      assert.doesNotMatch(report, ACTIVE);
      const get = k(['-n', PRIVILEGED_NS, 'get', 'tracejob', pod]);
      assert.doesNotMatch(get, ACTIVE);
      assert.match(get, /\\(x1b|u001b)\]0;pwned/, get);
    } finally {
      kubectl(['-n', PRIVILEGED_NS, 'delete', 'tracejob', pod, '--wait=false', '--ignore-not-found']);
      kubectl(['-n', PRIVILEGED_NS, 'delete', 'pod', pod, '--wait=false', '--ignore-not-found']);
    }
  });
});
