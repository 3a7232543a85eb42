// The Helm chart and the one-file install: manifests/install.yaml is exactly
// what the chart renders with defaults, `helm lint` is clean, values.schema.json
// rejects wrong values with the key's path, and every rendered object is
// accepted by the real API server (server-side dry run: nothing is changed).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { KUBECONFIG, clusterReachable, kubectl } from '../lib/kube.js';

const CHART = 'charts/tracejob-operator';
const HELM_CANDIDATES = ['/var/cache/tracejob/helm-v3.22.0/bin/helm', 'helm'];

function findHelm(): string | undefined {
  for (const c of HELM_CANDIDATES) {
    const r = spawnSync(c, ['version', '--short'], { encoding: 'utf8' });
    if (r.status === 0) return c;
  }
  return undefined;
}

const helmBin = findHelm();
const reachable = clusterReachable();

function helm(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(helmBin as string, args, { encoding: 'utf8', env: { ...process.env, KUBECONFIG }, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function render(extra: string[] = []): string {
  const r = helm(['template', 'tracejob', CHART, '--namespace', 'tracejob-system', '--include-crds', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

describe('Helm chart and install manifests', { skip: !helmBin && 'helm not installed' }, () => {
  test('manifests/install.yaml is in sync with the chart (rerun hack/render-manifests.sh)', () => {
    assert.ok(existsSync('manifests/install.yaml'), 'manifests/install.yaml is missing: run bash hack/render-manifests.sh');
    const r = spawnSync('bash', ['hack/render-manifests.sh', '-'], { encoding: 'utf8', env: { ...process.env, PATH: `${(helmBin as string).replace(/\/helm$/, '')}:${process.env.PATH}` }, maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const committed = readFileSync('manifests/install.yaml', 'utf8');
    assert.ok(committed === r.stdout, 'manifests/install.yaml drifted from the chart: run `bash hack/render-manifests.sh`');
    // A Namespace first, then the CRD, then the operator.
    const kinds = [...committed.matchAll(/^kind: (\w+)$/gm)].map((m) => m[1]);
    assert.equal(kinds[0], 'Namespace');
    assert.equal(kinds[1], 'CustomResourceDefinition');
    for (const k of ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Deployment', 'Service']) assert.ok(kinds.includes(k), `install.yaml lacks a ${k}`);
  });

  test('helm lint --strict is clean', () => {
    const r = helm(['lint', '--strict', CHART]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /\[(ERROR|WARNING)\]/);
  });

  test('values.schema.json rejects wrong values with the key path', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--set', 'replicas=abc'], /\/replicas': got string, want integer/],
      [['--set', 'image.pullPolicy=Sometimes'], /\/image\/pullPolicy': value must be one of 'Always', 'IfNotPresent', 'Never'/],
      [['--set', 'agent.image.pullPolicy=always'], /\/agent\/image\/pullPolicy'/],
      [['--set', 'replcas=2'], /additional properties 'replcas' not allowed/],
      [['--set', 'workers=0'], /\/workers'.*minimum/],
      [['--set', 'logLevel=loud'], /\/logLevel'/],
      [['--set', 'agent.resources.limits.memory=lots'], /\/agent\/resources\/limits\/memory'/],
      [['--set-json', 'policy.nodeTargetNamespaces=["Bad_NS"]'], /\/policy\/nodeTargetNamespaces\/0'/],
      [['--set', 'metrics.port=70000'], /\/metrics\/port'/],
      [['--set', 'leaderElection=maybe'], /\/leaderElection': got string, want boolean/],
    ];
    for (const [args, re] of cases) {
      const r = helm(['template', 'tracejob', CHART, ...args]);
      assert.notEqual(r.code, 0, `${args.join(' ')} was accepted`);
      assert.match(r.stderr, /values don't meet the specifications of the schema/, args.join(' '));
      assert.match(r.stderr, re, args.join(' '));
    }
    // The same check on `helm install` (client-side dry run: nothing installed).
    const install = helm(['install', 'tj-schema-check', CHART, '--namespace', 'tj-schema-check', '--dry-run=client', '--set', 'replicas=abc']);
    assert.notEqual(install.code, 0);
    assert.match(install.stderr, /\/replicas': got string, want integer/);
    // Good non-default values pass.
    render(['--set', 'replicas=3', '--set', 'image.tag=1.2.3', '--set-json', 'policy.customProgramNamespaces=["*"]', '--set', 'metrics.serviceMonitor.enabled=true']);
  });

  test('every rendered object is accepted by the API server (--dry-run=server)', { skip: !reachable && 'local cluster not running' }, () => {
    // A server-side dry run of namespaced objects needs their namespace to exist (on a
    // fresh cluster nothing has created it yet); the chart installs into it anyway.
    kubectl(['create', 'namespace', 'tracejob-system']);
    assert.equal(kubectl(['get', 'namespace', 'tracejob-system']).code, 0);
    for (const [what, yaml] of [
      ['helm template (defaults)', render()],
      ['helm template (policy, apiServer, 3 replicas)', render(['--set', 'replicas=3', '--set', 'apiServer.host=10.0.0.1', '--set-json', 'policy.nodeTargetNamespaces=["ops","*"]', '--set-json', 'tolerations=[{"operator":"Exists"}]'])],
      ['manifests/install.yaml', readFileSync('manifests/install.yaml', 'utf8')],
    ] as const) {
      const r = kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager', 'tracejob-e2e-dry-run', '--dry-run=server', '-f', '-'], yaml);
      assert.equal(r.code, 0, `${what}: ${r.stderr}`);
      assert.match(r.stdout, /deployment\.apps\/tracejob-operator serverside-applied \(server dry run\)/, what);
      assert.match(r.stdout, /customresourcedefinition\.apiextensions\.k8s\.io\/tracejobs\.tracing\.tracejob\.dev serverside-applied \(server dry run\)/, what);
    }
  });
});
