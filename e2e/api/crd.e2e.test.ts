// The invalid-spec table against the real API server: everything marked
// 'crd' must be refused by the CRD schema/CEL with a message naming the rule.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { INVALID_CASES } from '../../src/api/invalid-cases.js';
import { clusterReachable, createNamespace, deleteNamespace, k, kubectl } from '../lib/kube.js';

const reachable = clusterReachable();

describe('TraceJob CRD on the real API server', { skip: !reachable && 'local cluster not running' }, () => {
  let ns = '';
  before(() => {
    k(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
    k(['wait', '--for=condition=Established', 'crd/tracejobs.tracing.tracejob.dev', '--timeout=30s']);
    ns = createNamespace('tj-api');
  });
  after(() => deleteNamespace(ns));

  INVALID_CASES.filter((c) => c.rejectedBy === 'crd').forEach((c, i) => {
    test(`API server rejects: ${c.name}`, () => {
      const obj = { apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { name: `bad-${i}`, namespace: ns }, spec: c.spec };
      const r = kubectl(['create', '-f', '-'], JSON.stringify(obj));
      assert.notEqual(r.code, 0, `expected rejection, got: ${r.stdout}`);
      assert.match(r.stderr, /is invalid|Invalid value|Required value|Unsupported value|Too long|must be/);
      assert.ok(r.stderr.includes(c.expect), `stderr should mention ${JSON.stringify(c.expect)}:\n${r.stderr}`);
    });
  });

  test('a valid TraceJob is admitted with defaults filled in by the schema', () => {
    const obj = { apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { name: 'good', namespace: ns }, spec: { target: { pod: { name: 'web-0' } }, probe: { type: 'execs' } } };
    k(['create', '-f', '-'], JSON.stringify(obj));
    const got = JSON.parse(k(['get', 'tracejob', 'good', '-n', ns, '-o', 'json'])) as { spec: Record<string, unknown> };
    assert.equal(got.spec['duration'], '30s');
    assert.equal(got.spec['backend'], 'auto');
    assert.deepEqual(got.spec['output'], { topN: 20, maxEvents: 1000 });
    const short = k(['get', 'tj', '-n', ns, '-o', 'name']);
    assert.match(short, /tracejob.tracing.tracejob.dev\/good/);
  });
});
