// What the operator may write, adopt and trace: result ConfigMaps it did not
// create, Jobs with a node job's name, pods sharing the node's namespaces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1ConfigMap, V1Pod } from '@kubernetes/client-node';
import { OperatorConfig } from './config.js';
import { resultConfigMapConflict, resultConfigMapVerdict } from './collect.js';
import { LABELS, MANAGER, isJobOfRun, nodeJobName, preflightJobName } from './names.js';
import { checkHostNamespaces } from './policy.js';
import { resolvePodTarget } from './targets.js';

const tj = { metadata: { name: 'probe', namespace: 'shop', uid: '0f3c2a9e-1111-2222-3333-444455556666' } };
const ownerRef = (uid: string, controller = true) => ({ apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', name: 'probe', uid, controller });

test('result ConfigMap: written only when absent or owned by this TraceJob', () => {
  const cm = (over: Partial<V1ConfigMap['metadata']>): V1ConfigMap => ({ metadata: { name: 'app-config', namespace: 'shop', ...over }, data: { db: 'postgres://prod' } });
  const ours = { [LABELS.managedBy]: MANAGER, [LABELS.uid]: tj.metadata.uid };
  const table: Array<[string, V1ConfigMap | undefined, boolean]> = [
    ['absent', undefined, true],
    ['an application ConfigMap', cm({}), false],
    ['our labels but no owner reference (labels are easy to copy)', cm({ labels: ours }), false],
    ['owned by another TraceJob', cm({ labels: { ...ours, [LABELS.uid]: 'other' }, ownerReferences: [ownerRef('other')] }), false],
    ['our uid as a non-controller owner', cm({ labels: ours, ownerReferences: [ownerRef(tj.metadata.uid, false)] }), false],
    ['an earlier generation of this TraceJob', cm({ labels: ours, ownerReferences: [ownerRef(tj.metadata.uid)] }), true],
    ['a deleted namesake TraceJob (waits for its garbage collection, never writes)', cm({ labels: ours, ownerReferences: [{ ...ownerRef('gone'), name: 'probe' }] }), false],
  ];
  for (const [what, existing, writable] of table) {
    const conflict = resultConfigMapConflict(existing, tj);
    assert.equal(conflict === undefined, writable, what);
    if (conflict) assert.match(conflict, /ConfigMap shop\/app-config (already exists.*spec\.output\.configMapName|still holds the result of a deleted TraceJob)/, what);
  }
  const kind = (existing: V1ConfigMap) => resultConfigMapVerdict(existing, tj).kind;
  assert.equal(kind(cm({ ownerReferences: [{ ...ownerRef('gone'), name: 'probe' }] })), 'wait');
  assert.equal(kind(cm({ ownerReferences: [{ ...ownerRef('gone'), name: 'other' }] })), 'conflict');
  assert.equal(kind(cm({ ownerReferences: [{ ...ownerRef('gone'), name: 'probe', kind: 'Deployment', apiVersion: 'apps/v1' }] })), 'conflict');
});

test('node job names carry the whole uid, stay ≤ 63 with the preflight suffix, and differ per TraceJob', () => {
  const a = '0f3c2a9e-1111-2222-3333-444455556666';
  const b = '0f3c2a9e-9999-2222-3333-444455556666'; // same first 32 bits
  assert.notEqual(nodeJobName(a, 1, 'n'), nodeJobName(b, 1, 'n'));
  assert.match(nodeJobName(a, 1, 'n'), /^tj-0f3c2a9e111122223333444455556666-g1-[0-9a-f]{8}$/);
  for (const gen of [1, 999_999_999_999, Number.MAX_SAFE_INTEGER]) {
    const name = preflightJobName(a, gen, 'x'.repeat(253));
    assert.ok(name.length <= 63, `${name} is ${name.length} characters`);
    assert.match(name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  }
  assert.notEqual(nodeJobName(a, Number.MAX_SAFE_INTEGER, 'n'), nodeJobName(a, Number.MAX_SAFE_INTEGER - 1, 'n'));
});

test('a Job is adopted only when its labels name the same run', () => {
  const uid = tj.metadata.uid;
  const labels = { [LABELS.managedBy]: MANAGER, [LABELS.uid]: uid, [LABELS.generation]: '2' };
  assert.equal(isJobOfRun(labels, uid, 2), true);
  assert.equal(isJobOfRun(labels, uid, 3), false);
  assert.equal(isJobOfRun({ ...labels, [LABELS.uid]: 'someone-else' }, uid, 2), false);
  assert.equal(isJobOfRun({ ...labels, [LABELS.managedBy]: 'kubectl' }, uid, 2), false);
  assert.equal(isJobOfRun(undefined, uid, 2), false);
});

test('pods sharing the node namespaces are node scope', () => {
  const policy = OperatorConfig.parse({}).policy;
  const granted = { ...policy, nodeTargetNamespaces: ['ops'] };
  const pod = (spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod => ({
    metadata: { name: 'ds-0', namespace: 'shop' },
    spec: { nodeName: 'node-a', containers: [{ name: 'app' }], ...spec },
    status: { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, image: 'x', imageID: 'x', containerID: `containerd://${'a'.repeat(64)}`, state: { running: {} } }] },
  });
  const resolve = (p: V1Pod) => {
    const r = resolvePodTarget(p, { name: 'ds-0', namespace: 'shop' });
    assert.ok(r.ok);
    return r.target;
  };
  assert.equal(checkHostNamespaces('shop', [resolve(pod({}))], policy).allowed, true);
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
    const target = resolve(pod({ [field]: true }));
    const d = checkHostNamespaces('shop', [target], policy);
    assert.equal(d.allowed, false, field);
    assert.match(d.allowed ? '' : d.message, new RegExp(`shop/ds-0 .*spec\\.${field}.*policy\\.nodeTargetNamespaces`));
    assert.equal(checkHostNamespaces('ops', [target], granted).allowed, true, `${field} with the node grant`);
  }
});
