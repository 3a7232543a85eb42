// The admission policy for the dangerous tiers as installed (manifests/install.yaml,
// rendered from the chart): what it matches, that its lists of custom and
// node-wide probe types follow the API and the catalog, that its binding has no
// selector a namespace could opt out with, and that the tier ClusterRoles are
// not aggregated into edit/admin. Its behaviour with real users is
// e2e/security/authz.e2e.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { CUSTOM_PROBES } from '../../src/api/probe-names.js';
import { CATALOG } from '../../src/probes/catalog.js';

interface Obj {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  rules?: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
}

const objects = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJSON() as Obj | null)
    .filter((o): o is Obj => o !== null);
const installed = objects(readFileSync('manifests/install.yaml', 'utf8'));
const find = (kind: string, name: string): Obj => {
  const o = installed.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(o, `manifests/install.yaml has no ${kind} ${name}`);
  return o;
};

interface PolicySpec {
  failurePolicy: string;
  matchConstraints: { resourceRules: Array<{ apiGroups: string[]; resources: string[]; operations: string[] }> };
  matchConditions: Array<{ name: string; expression: string }>;
  variables: Array<{ name: string; expression: string }>;
  validations: Array<{ expression: string; reason?: string; messageExpression?: string }>;
}

/** The string list of `… in ['a', 'b']` in a CEL expression. */
const inList = (expr: string): string[] => {
  const m = /in \[([^\]]*)\]/.exec(expr);
  assert.ok(m, `no list in ${expr}`);
  return (m[1] as string).split(',').map((s) => s.trim().replace(/^'|'$/g, '')).filter(Boolean).sort();
};

describe('admission policy for the dangerous tiers (install manifests)', () => {
  const policy = find('ValidatingAdmissionPolicy', 'tracejob-dangerous-tiers').spec as unknown as PolicySpec;
  const variable = (name: string): string => {
    const v = policy.variables.find((x) => x.name === name);
    assert.ok(v, `variable ${name}`);
    return v.expression;
  };

  test('matches creates and updates of tracejobs (not status), refuses when it cannot decide', () => {
    assert.equal(policy.failurePolicy, 'Fail');
    assert.deepEqual(policy.matchConstraints.resourceRules.map((r) => [r.apiGroups, r.resources, [...r.operations].sort()]), [[['tracing.tracejob.dev'], ['tracejobs'], ['CREATE', 'UPDATE']]]);
    // Updates that keep the spec (finalizers, labels) are not runs: they are let through.
    assert.deepEqual(policy.matchConditions, [{ name: 'starts-a-run', expression: "request.operation == 'CREATE' || object.spec != oldObject.spec" }]);
  });

  test("its probe lists follow the API's custom types and the catalog's node-scope probes", () => {
    assert.deepEqual(inList(variable('custom')), [...CUSTOM_PROBES].sort());
    const nodeScope = Object.entries(CATALOG).filter(([, d]) => d.scope === 'node').map(([n]) => n).sort();
    assert.ok(nodeScope.length > 0);
    assert.deepEqual(inList(variable('node')), nodeScope);
    assert.match(variable('node'), /^has\(object\.spec\.target\.node\) \|\| /);
  });

  test('one authorizer check per tier, on the pseudo-subresource, in the request namespace', () => {
    const tiers = policy.validations.map((v) => {
      const m = /^!variables\.(\w+) \|\| authorizer\.group\('tracing\.tracejob\.dev'\)\.resource\('tracejobs'\)\.subresource\('(\w+)'\)\.namespace\(request\.namespace\)\.check\('create'\)\.allowed\(\)$/.exec(v.expression);
      assert.ok(m, v.expression);
      assert.equal(v.reason, 'Forbidden');
      return [m[1], m[2]];
    });
    assert.deepEqual(tiers, [
      ['custom', 'custom'],
      ['node', 'node'],
      ['guru', 'guru'],
    ]);
  });

  test('the binding denies everywhere: no selector, no params', () => {
    const binding = find('ValidatingAdmissionPolicyBinding', 'tracejob-dangerous-tiers');
    assert.deepEqual(binding.spec, { policyName: 'tracejob-dangerous-tiers', validationActions: ['Deny'] });
  });

  test('tier ClusterRoles grant only their pseudo-subresource and are not aggregated; edit gets no tier', () => {
    for (const [name, sub] of [
      ['tracejob-custom-programs', 'custom'],
      ['tracejob-node-targets', 'node'],
      ['tracejob-systemtap-guru', 'guru'],
    ] as const) {
      const role = find('ClusterRole', name);
      assert.deepEqual(role.rules, [{ apiGroups: ['tracing.tracejob.dev'], resources: [`tracejobs/${sub}`], verbs: ['create'] }]);
      assert.deepEqual(Object.keys(role.metadata.labels ?? {}).filter((l) => l.startsWith('rbac.authorization.k8s.io/aggregate')), [], `${name} is aggregated`);
    }
    for (const name of ['tracejob-edit', 'tracejob-view']) {
      for (const rule of find('ClusterRole', name).rules ?? []) {
        for (const r of rule.resources) assert.ok(r === 'tracejobs' || r === 'tracejobs/status', `${name} grants ${r}`);
      }
    }
  });
});

const helmBin = ['/var/cache/tracejob/helm-v3.22.0/bin/helm', 'helm'].find((c) => spawnSync(c, ['version', '--short']).status === 0);

test('admissionPolicy.enabled=false renders no policy; the value is schema-checked', { skip: !helmBin && 'helm not installed' }, () => {
  const render = (...args: string[]) => spawnSync(helmBin as string, ['template', 'tracejob', 'charts/tracejob-operator', '--namespace', 'tracejob-system', ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const off = render('--set', 'admissionPolicy.enabled=false');
  assert.equal(off.status, 0, off.stderr);
  const kinds = objects(off.stdout).map((o) => o.kind);
  assert.ok(!kinds.includes('ValidatingAdmissionPolicy') && !kinds.includes('ValidatingAdmissionPolicyBinding'));
  assert.ok(kinds.includes('Deployment'));
  const bad = render('--set', 'admissionPolicy.enabled=maybe');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /\/admissionPolicy\/enabled': got string, want boolean/);
  const typo = render('--set', 'admissionPolicy.enable=true');
  assert.notEqual(typo.status, 0);
  assert.match(typo.stderr, /additional properties 'enable' not allowed/);
});
