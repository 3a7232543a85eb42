// The dangerous tiers need a right of their own, enforced by the API server for
// the user who writes the TraceJob. Real users authenticated by client
// certificates signed with the local cluster's CA (no system:masters): alice and
// bob both have `edit` in the namespace the operator's policy allows custom
// programs and node targets for; only alice is bound to the tier ClusterRoles.
// carol is a namespace `admin` who tries to grant herself a tier.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clusterReachable, deleteNamespace, k, kubectl, kubectlPath, uniqueName, waitForAsync, type RunResult } from '../lib/kube.js';
import { PRIVILEGED_NS, getTraceJob, installCrdsAndOperator, waitForPhase, waitPodReady, workloadPod } from '../lib/tracejob.js';

const reachable = clusterReachable();
const PKI = `${process.env['TRACEJOB_CLUSTER_DIR'] ?? '/var/lib/tracejob-cluster'}/pki`;
const NS = PRIVILEGED_NS;
const POD = 'tj-sec-authz-target';
const DENIED = /ValidatingAdmissionPolicy 'tracejob-dangerous-tiers' with binding 'tracejob-dangerous-tiers' denied request/;

function openssl(args: string[]): void {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A kubeconfig for user `cn`: a client certificate signed by the cluster CA, no groups. */
function userKubeconfig(dir: string, cn: string): string {
  const key = join(dir, `${cn}.key`);
  const csr = join(dir, `${cn}.csr`);
  const crt = join(dir, `${cn}.crt`);
  const ext = join(dir, `${cn}.ext`);
  writeFileSync(ext, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-subj', `/CN=${cn}`, '-out', csr]);
  openssl(['x509', '-req', '-in', csr, '-CA', `${PKI}/ca.crt`, '-CAkey', `${PKI}/ca.key`, '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-days', '1', '-sha256', '-extfile', ext, '-out', crt]);
  const server = k(['config', 'view', '--raw', '-o', 'jsonpath={.clusters[0].cluster.server}']).trim();
  const b64 = (f: string): string => readFileSync(f).toString('base64');
  const file = join(dir, `${cn}.kubeconfig`);
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'local', cluster: { server, 'certificate-authority-data': b64(`${PKI}/ca.crt`) } }],
      users: [{ name: cn, user: { 'client-certificate-data': b64(crt), 'client-key-data': b64(key) } }],
      contexts: [{ name: cn, context: { cluster: 'local', user: cn, namespace: NS } }],
      'current-context': cn,
    }),
    { mode: 0o600 },
  );
  return file;
}

function as(kubeconfig: string, args: string[], input?: string): RunResult {
  const r = spawnSync(kubectlPath(), ['--kubeconfig', kubeconfig, ...args], { input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

const traceJob = (name: string, spec: Record<string, unknown>): string => JSON.stringify({ apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { name, namespace: NS }, spec });
const PROGRAM = 'tracepoint:sched:sched_process_exec /{{filter}}/ { @execs[comm] = count(); }';

describe('authorisation: custom programs, node targets and guru mode need their own right', { skip: !reachable && 'local cluster not running' }, () => {
  let dir = '';
  let alice = '';
  let bob = '';
  let carol = '';
  let createdNs = false;
  const bindings: string[] = [];
  const node = (): string => k(['get', 'nodes', '-o', 'jsonpath={.items[0].metadata.name}']).trim();

  before(async () => {
    installCrdsAndOperator();
    createdNs = await waitForAsync(`namespace ${NS} active`, 90_000, () => {
      const phase = kubectl(['get', 'namespace', NS, '-o', 'jsonpath={.status.phase}']);
      if (phase.code === 0) return phase.stdout === 'Active' ? { created: false } : undefined;
      return kubectl(['create', 'namespace', NS]).code === 0 ? { created: true } : undefined;
    }).then((r) => r.created);
    dir = mkdtempSync(join(tmpdir(), 'tj-sec-authz-'));
    alice = userKubeconfig(dir, 'alice');
    bob = userKubeconfig(dir, 'bob');
    carol = userKubeconfig(dir, 'carol');
    const bind = (role: string, users: string[]): void => {
      const name = uniqueName(`tj-sec-authz-${role}`);
      bindings.push(name);
      k(['-n', NS, 'create', 'rolebinding', name, `--clusterrole=${role}`, ...users.map((u) => `--user=${u}`)]);
    };
    bind('edit', ['alice', 'bob']);
    bind('admin', ['carol']);
    bind('tracejob-custom-programs', ['alice']);
    bind('tracejob-node-targets', ['alice']);
    // RBAC is served from an informer cache: wait until the grants are visible.
    await waitForAsync('alice may create tracejobs/custom', 30_000, () => as(alice, ['auth', 'can-i', 'create', 'tracejobs.tracing.tracejob.dev', '--subresource=custom', '-n', NS]).stdout.trim() === 'yes');
    await waitForAsync('bob may create tracejobs', 30_000, () => as(bob, ['auth', 'can-i', 'create', 'tracejobs.tracing.tracejob.dev', '-n', NS]).stdout.trim() === 'yes');
    workloadPod(NS, POD, ['node', '-e', 'setInterval(() => {}, 1e9)']);
    waitPodReady(NS, POD);
  });

  after(() => {
    kubectl(['-n', NS, 'delete', 'tracejobs', '-l', 'tj-sec-authz=1', '--wait=false']);
    for (const b of bindings) kubectl(['-n', NS, 'delete', 'rolebinding', b, '--ignore-not-found']);
    kubectl(['-n', NS, 'delete', 'pod', POD, '--wait=false', '--ignore-not-found']);
    if (createdNs) deleteNamespace(NS);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const labelled = (json: string): string => {
    const o = JSON.parse(json) as { metadata: Record<string, unknown> };
    o.metadata['labels'] = { 'tj-sec-authz': '1' };
    return JSON.stringify(o);
  };

  test('the users are who the API server thinks: no system:masters, edit only', () => {
    for (const [file, user] of [[alice, 'alice'], [bob, 'bob']] as const) {
      const who = JSON.parse(as(file, ['auth', 'whoami', '-o', 'json']).stdout) as { status: { userInfo: { username: string; groups?: string[] } } };
      assert.equal(who.status.userInfo.username, user);
      assert.ok(!(who.status.userInfo.groups ?? []).includes('system:masters'));
    }
    assert.equal(as(bob, ['auth', 'can-i', 'create', 'tracejobs.tracing.tracejob.dev', '--subresource=custom', '-n', NS]).stdout.trim(), 'no');
    assert.equal(as(bob, ['auth', 'can-i', 'create', 'tracejobs.tracing.tracejob.dev', '--subresource=node', '-n', NS]).stdout.trim(), 'no');
  });

  test('bob (edit only): custom programs and node-wide tracing are refused at create, with the reason', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['bob-custom', { target: { pod: { name: POD } }, probe: { type: 'bpftrace', program: PROGRAM }, duration: '3s' }, /user bob may not run custom bpftrace programs in namespace tj-e2e-admin: a cluster admin must bind the ClusterRole tracejob-custom-programs/],
      ['bob-stap', { target: { pod: { name: POD } }, probe: { type: 'systemtap', program: 'probe begin { exit() }' }, duration: '3s' }, /user bob may not run custom systemtap programs/],
      ['bob-node', { target: { node: { name: node() } }, probe: { type: 'execs' }, duration: '3s' }, /user bob may not trace whole nodes in namespace tj-e2e-admin: a cluster admin must bind the ClusterRole tracejob-node-targets/],
      ['bob-irqs', { target: { pod: { name: POD } }, probe: { type: 'interrupts' }, duration: '3s' }, /user bob may not trace whole nodes/],
    ];
    for (const [name, spec, message] of cases) {
      const r = as(bob, ['create', '-f', '-'], labelled(traceJob(name, spec)));
      assert.notEqual(r.code, 0, `${name} was admitted`);
      assert.match(r.stderr, /\(Forbidden\)/, name);
      assert.match(r.stderr, DENIED, name);
      assert.match(r.stderr, message, name);
      assert.equal(getTraceJob(NS, name), undefined, `${name} exists`);
    }
  });

  test('bob (edit only): a catalog probe on a pod is admitted', async () => {
    const r = as(bob, ['create', '-f', '-'], labelled(traceJob('bob-execs', { target: { pod: { name: POD } }, probe: { type: 'execs' }, duration: '3s' })));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(getTraceJob(NS, 'bob-execs')?.metadata.uid);
    // The operator's own writes (finalizer patch, status) pass: the run finishes.
    const tj = await waitForPhase(NS, 'bob-execs', ['Succeeded', 'Failed']);
    assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
    // Events are best effort in the operator (a refused one is silent): they must be there.
    const reasons = await waitForAsync('the operator events of bob-execs', 20_000, () => {
      const r = k(['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=bob-execs', '-o', 'jsonpath={.items[*].reason}']).split(' ');
      return r.includes('Succeeded') ? r : undefined;
    });
    assert.ok(reasons.includes('Accepted'), reasons.join(' '));
  });

  test('alice (edit + tier roles): her custom program and node target are admitted and run', async () => {
    for (const [name, spec] of [
      ['alice-custom', { target: { pod: { name: POD } }, probe: { type: 'bpftrace', program: PROGRAM }, duration: '3s' }],
      ['alice-node', { target: { node: { name: node() } }, probe: { type: 'interrupts' }, duration: '3s' }],
    ] as const) {
      const r = as(alice, ['create', '-f', '-'], labelled(traceJob(name, spec)));
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    }
    for (const name of ['alice-custom', 'alice-node']) {
      const tj = await waitForPhase(NS, name, ['Succeeded', 'Failed']);
      assert.equal(tj.status?.phase, 'Succeeded', `${name}: ${tj.status?.message}`);
      assert.ok(tj.status?.resultRef?.configMap, `${name} has a result`);
    }
  });

  test('guru mode needs its own right: alice (custom, no guru role) is refused', () => {
    const r = as(alice, ['create', '-f', '-'], labelled(traceJob('alice-guru', { target: { pod: { name: POD } }, probe: { type: 'systemtap', program: 'probe begin { exit() }', params: { guru: true } }, duration: '3s' })));
    assert.notEqual(r.code, 0, 'alice-guru was admitted');
    assert.match(r.stderr, /user alice may not use SystemTap guru mode in namespace tj-e2e-admin: a cluster admin must bind the ClusterRole tracejob-systemtap-guru/);
  });

  test("bob cannot turn alice's run into his own: a spec edit is refused, a label edit and deletion pass", async () => {
    assert.ok(getTraceJob(NS, 'alice-custom'), 'alice-custom exists');
    const spec = as(bob, ['-n', NS, 'patch', 'tracejob', 'alice-custom', '--type=merge', '-p', JSON.stringify({ spec: { duration: '5s', probe: { program: 'BEGIN { printf("bob\\n"); exit(); }' } } })]);
    assert.notEqual(spec.code, 0, 'bob changed the program of alice-custom');
    assert.match(spec.stderr, /user bob may not run custom bpftrace programs/);
    const label = as(bob, ['-n', NS, 'label', 'tracejob', 'alice-custom', 'reviewed-by=bob']);
    assert.equal(label.code, 0, label.stderr);
    // Deleting runs the operator's finalizer removal (an update that keeps the spec).
    const del = as(bob, ['-n', NS, 'delete', 'tracejob', 'alice-custom', '--wait=false']);
    assert.equal(del.code, 0, del.stderr);
    await waitForAsync('alice-custom gone (finalizer removed by the operator)', 60_000, () => getTraceJob(NS, 'alice-custom') === undefined);
  });

  test('no way around it for namespace users: the policy is cluster-scoped, a tier cannot be self-granted', () => {
    for (const file of [bob, carol]) {
      for (const what of ['validatingadmissionpolicybindings', 'validatingadmissionpolicies']) {
        const r = as(file, ['delete', what, 'tracejob-dangerous-tiers']);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /Forbidden/);
      }
    }
    // edit has no RoleBinding rights; admin has, but RBAC refuses to grant what the granter lacks.
    for (const [file, user] of [[bob, 'bob'], [carol, 'carol']] as const) {
      const r = as(file, ['-n', NS, 'create', 'rolebinding', uniqueName('tj-sec-authz-self'), '--clusterrole=tracejob-custom-programs', `--user=${user}`]);
      assert.notEqual(r.code, 0, `${user} granted themselves tracejob-custom-programs`);
      assert.match(r.stderr, user === 'carol' ? /attempting to grant RBAC permissions not currently held/ : /User "bob" cannot create resource "rolebindings"/);
    }
    const r = as(carol, ['create', '-f', '-'], labelled(traceJob('carol-custom', { target: { pod: { name: POD } }, probe: { type: 'bpftrace', program: PROGRAM }, duration: '3s' })));
    assert.match(r.stderr, /user carol may not run custom bpftrace programs/);
  });
});
