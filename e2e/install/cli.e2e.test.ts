// The kubectl plugin end to end: `npx tsx src/cli/main.ts` against the real
// local cluster and operator. Exit codes are part of the contract.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { clusterReachable, createNamespace, deleteNamespace, k, kubectl } from '../lib/kube.js';
import { waitPodReady, workloadPod } from '../lib/tracejob.js';
import { ensureOperator, plugin } from './plugin.js';

const reachable = clusterReachable();

describe('kubectl-tracejob against the cluster', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  before(() => {
    k(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
    ensureOperator();
    ns = createNamespace('tj-cli');
    workloadPod(ns, 'noisy', ['node', '/workloads/noisy.js']);
    waitPodReady(ns, 'noisy');
  });
  after(() => deleteNamespace(ns));

  test('run --wait traces the pod, shows progress on stderr and prints the report (exit 0)', () => {
    const r = plugin(['run', 'cli-execs', '-n', ns, '--pod', 'noisy', '--probe', 'execs', '--duration', '3s', '--wait']);
    assert.equal(r.code, 0, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    assert.match(r.stdout, /TraceJob result: execs/);
    assert.match(r.stdout, /execs/);
    assert.match(r.stderr, /created in tj-cli-\w+; waiting \(3s trace\)/);
    assert.match(r.stderr, /^Running +4\/4 Attached/m);
    assert.match(r.stderr, /^Succeeded .*100% +done in \d+s$/m);
    // The same report again, and the document as JSON.
    const report = plugin(['report', 'cli-execs', '-n', ns]);
    assert.equal(report.code, 0, report.stderr);
    assert.equal(report.stdout, r.stdout);
    const doc = plugin(['report', 'cli-execs', '-n', ns, '-o', 'json']);
    assert.equal(doc.code, 0, doc.stderr);
    assert.equal((JSON.parse(doc.stdout) as { probe: string }).probe, 'execs');
  });

  test('get -o json, the table, describe and logs', () => {
    const list = plugin(['get', '-n', ns, '-o', 'json']);
    assert.equal(list.code, 0, list.stderr);
    const items = (JSON.parse(list.stdout) as { items: Array<{ metadata: { name: string }; status?: { phase?: string } }> }).items;
    const tj = items.find((i) => i.metadata.name === 'cli-execs');
    assert.equal(tj?.status?.phase, 'Succeeded');
    const one = plugin(['get', 'cli-execs', '-n', ns, '-o', 'json']);
    assert.equal((JSON.parse(one.stdout) as { kind: string }).kind, 'TraceJob');
    const table = plugin(['get', '-n', ns]);
    assert.match(table.stdout, /^NAME +PROBE +TARGET +PHASE +SUMMARY +AGE$/m);
    assert.match(table.stdout, /^cli-execs +execs +pod\/noisy\S* +Succeeded +execs=\d+/m);
    const all = plugin(['get', '-A', '-o', 'wide']);
    assert.match(all.stdout, new RegExp(`^${ns} +cli-execs +execs `, 'm'));
    const d = plugin(['describe', 'cli-execs', '-n', ns]);
    assert.equal(d.code, 0, d.stderr);
    assert.match(d.stdout, /^Phase: +Succeeded$/m);
    assert.match(d.stdout, /^ {2}Attached +True +Attached /m);
    assert.match(d.stdout, /Succeeded +Trace finished: execs=\d+/);
    const logs = plugin(['logs', 'cli-execs', '-n', ns]);
    assert.equal(logs.code, 0, logs.stderr);
    assert.match(logs.stdout, /Normal +NodeJobCreated/);
  });

  test('probes -o json lists the 28 catalog probes', () => {
    const r = plugin(['probes', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const probes = JSON.parse(r.stdout) as Array<{ name: string; scope: string; params: unknown[] }>;
    assert.equal(probes.length, 28);
    assert.ok(probes.some((p) => p.name === 'cpuProfile' && p.params.length === 3));
    // Node support from the operator's capability reports (one per node that ran a trace).
    const nodes = plugin(['probes', 'execs', '--nodes', '-o', 'json']);
    assert.equal(nodes.code, 0, nodes.stderr);
    const support = (JSON.parse(nodes.stdout) as { nodes: Record<string, string> }).nodes;
    for (const [node, v] of Object.entries(support)) assert.equal(v, 'yes', `execs on ${node}`);
  });

  test('run with a bad param exits 2 and creates nothing', () => {
    const r = plugin(['run', 'cli-bad', '-n', ns, '--pod', 'noisy', '--probe', 'cpuProfile', '--param', 'hz=0', '--param', 'nosuch=1']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /spec\.probe\.params\.hz: hz must be >= 1/);
    assert.match(r.stderr, /unknown parameter "nosuch"/);
    assert.equal(kubectl(['-n', ns, 'get', 'tracejob', 'cli-bad']).code, 1, 'the TraceJob must not exist');
  });

  test('a TraceJob that fails exits 1 with its reason; unknown names exit 3; delete', () => {
    const r = plugin(['run', 'cli-ghost', '-n', ns, '--pod', 'ghost', '--probe', 'execs', '--duration', '3s', '--wait', '--timeout', '90s']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /Failed: PodNotFound: pod tj-cli-\w+\/ghost not found/);
    assert.equal(plugin(['report', 'cli-ghost', '-n', ns]).code, 1);
    assert.equal(plugin(['get', 'no-such', '-n', ns]).code, 3);
    const del = plugin(['delete', 'cli-ghost', '-n', ns]);
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, /"cli-ghost" deleted/);
    assert.equal(plugin(['delete', 'cli-ghost', '-n', ns]).code, 3);
  });

  test('an unreachable API server exits 3', () => {
    const r = plugin(['get', '-n', ns, '--kubeconfig', '/dev/null']);
    assert.equal(r.code, 3, r.stderr);
  });
});
