import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { desiredNodeJob } from './node-job.js';
import { OperatorConfig } from './config.js';
import { nodeJobName, parseOwnerAnnotation, resultConfigMapName } from './names.js';
import { checkNamespaceConsent, checkSpecPolicy } from './policy.js';
import { TraceJobSpec } from '../api/tracejob.js';
import { groupByNode, labelSelectorString, resolvePodTarget } from './targets.js';
import { observeNodeJob } from './job-status.js';
import { setCondition, statusMessage } from './conditions.js';

const config = OperatorConfig.parse({});
const tjRef = { namespace: 'shop', name: 'checkout-retrans', uid: '0f3c2a9e-1111-2222-3333-444455556666', generation: 2 };

test('node job: pinned, privileged, hostPID, no token, minimal mounts, deadline', () => {
  const job = desiredNodeJob({
    traceJob: tjRef,
    node: 'node-a',
    durationSeconds: 30,
    config,
    agentConfig: { traceJob: tjRef, nodeName: 'node-a', probe: { type: 'execs', params: {} }, durationSeconds: 30, targets: [] },
  });
  const pod = job.spec?.template.spec;
  assert.equal(job.metadata?.name, 'tj-0f3c2a9e111122223333444455556666-g2-' + nodeJobName(tjRef.uid, 2, 'node-a').split('-').pop());
  assert.ok((job.metadata?.name ?? '').length <= 63);
  assert.equal(job.metadata?.namespace, 'tracejob-system');
  assert.equal(job.spec?.backoffLimit, 0);
  assert.equal(job.spec?.activeDeadlineSeconds, 30 + config.jobGraceSeconds);
  assert.equal(pod?.hostPID, true);
  assert.equal(pod?.automountServiceAccountToken, false);
  assert.deepEqual(pod?.tolerations, [{ operator: 'Exists' }]);
  assert.deepEqual(pod?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms, [
    { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-a'] }] },
  ]);
  const c = pod?.containers[0];
  assert.equal(c?.securityContext?.privileged, true);
  assert.deepEqual(c?.volumeMounts?.map((m) => `${m.mountPath}:${m.readOnly ? 'ro' : 'rw'}`), ['/sys:ro', '/tmp:rw']);
  assert.deepEqual(pod?.volumes?.map((v) => v.hostPath?.path ?? 'emptyDir'), ['/sys', 'emptyDir']);
  const env = Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value]));
  assert.equal(JSON.parse(env['TRACEJOB_AGENT_CONFIG'] ?? '{}').probe.type, 'execs');
  assert.equal(job.metadata?.annotations?.['tracing.tracejob.dev/owner'], 'shop/checkout-retrans');
});

test('names are deterministic and bounded', () => {
  assert.equal(nodeJobName('abc', 1, 'n'), nodeJobName('abc', 1, 'n'));
  assert.notEqual(nodeJobName('abc', 1, 'n'), nodeJobName('abc', 2, 'n'));
  assert.notEqual(nodeJobName('abc', 1, 'n1'), nodeJobName('abc', 1, 'n2'));
  assert.ok(nodeJobName('f'.repeat(36), 123456, 'x'.repeat(253)).length <= 63);
  assert.equal(resultConfigMapName('a'), 'a-result');
  assert.equal(resultConfigMapName('a', 'mine'), 'mine');
  assert.ok(resultConfigMapName('a'.repeat(253)).length <= 253);
  assert.deepEqual(parseOwnerAnnotation('ns/name'), { namespace: 'ns', name: 'name' });
  assert.equal(parseOwnerAnnotation('nope'), undefined);
});

test('policy: node targets and custom programs need cluster grants', () => {
  const node = TraceJobSpec.parse({ target: { node: { name: 'n' } }, probe: { type: 'interrupts' } });
  const custom = TraceJobSpec.parse({ target: { pod: { name: 'p' } }, probe: { type: 'bpftrace', program: 'BEGIN{}' } });
  const plain = TraceJobSpec.parse({ target: { pod: { name: 'p' } }, probe: { type: 'execs' } });
  const deny = config.policy;
  const allow = { ...config.policy, nodeTargetNamespaces: ['ops'], customProgramNamespaces: ['*'] };
  assert.equal(checkSpecPolicy('shop', plain, deny).allowed, true);
  const d1 = checkSpecPolicy('shop', node, deny);
  assert.equal(d1.allowed, false);
  assert.match(d1.allowed ? '' : d1.message, /nodeTargetNamespaces/);
  assert.equal(checkSpecPolicy('ops', node, allow).allowed, true);
  assert.equal(checkSpecPolicy('shop', node, allow).allowed, false);
  assert.equal(checkSpecPolicy('shop', custom, deny).allowed, false);
  assert.equal(checkSpecPolicy('shop', custom, allow).allowed, true);
});

test('policy: cross-namespace targets need consent', () => {
  const ann = 'tracing.tracejob.dev/allow-from';
  assert.equal(checkNamespaceConsent('a', 'a', undefined, ann).allowed, true);
  assert.equal(checkNamespaceConsent('a', 'b', undefined, ann).allowed, false);
  assert.equal(checkNamespaceConsent('a', 'b', { [ann]: 'c, a' }, ann).allowed, true);
  assert.equal(checkNamespaceConsent('a', 'b', { [ann]: 'ab' }, ann).allowed, false);
  assert.equal(checkNamespaceConsent('a', 'b', { [ann]: '*' }, ann).allowed, true);
});

function pod(over: Partial<{ node: string; phase: string; id: string; running: boolean }> = {}): V1Pod {
  return {
    metadata: { name: 'web-0', namespace: 'shop' },
    spec: { nodeName: over.node ?? 'node-a', containers: [{ name: 'app' }, { name: 'sidecar' }] },
    status: {
      phase: over.phase ?? 'Running',
      containerStatuses: [
        { name: 'app', ready: true, restartCount: 0, image: 'x', imageID: 'x', containerID: over.id ?? `containerd://${'a'.repeat(64)}`, state: over.running === false ? { waiting: {} } : { running: {} } },
        { name: 'sidecar', ready: true, restartCount: 0, image: 'x', imageID: 'x', containerID: `cri-o://${'b'.repeat(64)}`, state: { running: {} } },
      ],
    },
  };
}

test('target resolution: every failure has a reason and a message', () => {
  const ref = { name: 'web-0', namespace: 'shop' };
  const table: Array<[V1Pod | undefined, string | undefined, string]> = [
    [undefined, undefined, 'PodNotFound'],
    [pod({ node: '' }), undefined, 'PodNotScheduled'],
    [pod({ phase: 'Pending' }), undefined, 'PodNotRunning'],
    [pod(), 'db', 'ContainerNotFound'],
    [pod({ running: false }), 'app', 'ContainerNotRunning'],
    [pod({ id: 'weird://123' }), 'app', 'ContainerNotRunning'],
  ];
  for (const [p, container, reason] of table) {
    const r = resolvePodTarget(p, { ...ref, container });
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.reason, reason);
      assert.match(r.message, /shop\/web-0|db/);
    }
  }
  const first = resolvePodTarget(pod(), ref);
  assert.ok(first.ok && first.target.container === 'app' && first.target.node === 'node-a');
  const side = resolvePodTarget(pod(), { ...ref, container: 'sidecar' });
  assert.ok(side.ok && side.target.containerID.startsWith('cri-o://'));
});

test('selector strings and grouping by node', () => {
  assert.equal(
    labelSelectorString({ matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['x', 'y'] }, { key: 'gone', operator: 'DoesNotExist' }] }),
    'a=1,b=2,tier in (x,y),!gone',
  );
  const t = (pod: string, node: string) => ({ pod, namespace: 'n', container: 'c', containerID: 'x', node });
  const g = groupByNode([t('p1', 'b'), t('p2', 'a'), t('p3', 'b')]);
  assert.deepEqual([...g.keys()], ['a', 'b']);
  assert.deepEqual(g.get('b')?.map((x) => x.pod), ['p1', 'p3']);
});

test('node job verdicts', () => {
  const now = Date.parse('2026-01-01T00:10:00Z');
  const job = (conds: Array<{ type: string; status: string; reason?: string }> = []): V1Job => ({ metadata: { name: 'j', creationTimestamp: new Date('2026-01-01T00:09:55Z') }, status: { conditions: conds.map((c) => ({ ...c, lastTransitionTime: new Date() })) } as V1Job['status'] });
  const jp = (status: V1Pod['status'], created = '2026-01-01T00:09:58Z'): V1Pod => ({ metadata: { name: 'j-x', creationTimestamp: new Date(created) }, status });
  const agent = (state: object) => ({ containerStatuses: [{ name: 'agent', ready: false, restartCount: 0, image: 'i', imageID: '', state }] });
  assert.equal(observeNodeJob(job(), undefined, now, 60_000).state, 'pending');
  assert.equal(observeNodeJob(job(), jp({ phase: 'Running', ...agent({ running: {} }) }), now, 60_000).state, 'running');
  assert.equal(observeNodeJob(job([{ type: 'Complete', status: 'True' }]), undefined, now, 60_000).state, 'succeeded');
  const never = observeNodeJob(job(), jp({ phase: 'Pending', ...agent({ waiting: { reason: 'ErrImageNeverPull', message: 'image not present' } }) }), now, 60_000);
  assert.deepEqual([never.state, never.state === 'stuck' ? never.reason : ''], ['stuck', 'ImageUnavailable']);
  const backoffFresh = observeNodeJob(job(), jp({ phase: 'Pending', ...agent({ waiting: { reason: 'ImagePullBackOff' } }) }), now, 60_000);
  assert.equal(backoffFresh.state, 'pending');
  const unsched = observeNodeJob(job(), jp({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes available' }] }, '2026-01-01T00:00:00Z'), now, 60_000);
  assert.equal(unsched.state === 'stuck' && unsched.reason, 'Unschedulable');
  const compile = observeNodeJob(job([{ type: 'Failed', status: 'True' }]), jp({ phase: 'Failed', ...agent({ terminated: { exitCode: 4, message: JSON.stringify({ reason: 'CompileError', message: 'stdin:1:1-4: ERROR: syntax error' }) } }) }), now, 60_000);
  assert.deepEqual(compile, { state: 'failed', reason: 'CompileError', message: 'stdin:1:1-4: ERROR: syntax error', exitCode: 4 });
  const bare = observeNodeJob(job(), jp({ phase: 'Failed', ...agent({ terminated: { exitCode: 3 } }) }), now, 60_000);
  assert.equal(bare.state === 'failed' && bare.reason, 'ContainerNotFound');
  const deadline = observeNodeJob(job([{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }]), undefined, now, 60_000);
  assert.equal(deadline.state === 'failed' && deadline.reason, 'NodeJobDeadlineExceeded');
});

test('conditions keep lastTransitionTime unless status flips', () => {
  let c = setCondition([], { type: 'Attached', status: 'Unknown', reason: 'Waiting' }, 't1');
  c = setCondition(c, { type: 'Attached', status: 'Unknown', reason: 'StillWaiting' }, 't2');
  assert.equal(c[0]?.lastTransitionTime, 't1');
  assert.equal(c[0]?.reason, 'StillWaiting');
  c = setCondition(c, { type: 'Attached', status: 'True', reason: 'Attached' }, 't3');
  assert.equal(c.length, 1);
  assert.equal(c[0]?.lastTransitionTime, 't3');
});

test('node job: a fresh channel key per job in the agent config, read back from the Job', async () => {
  const { agentChannelKey } = await import('./node-job.js');
  const input = {
    traceJob: tjRef,
    node: 'node-a',
    durationSeconds: 30,
    config,
    agentConfig: { traceJob: tjRef, nodeName: 'node-a', probe: { type: 'execs', params: {} }, durationSeconds: 30, targets: [] },
  };
  const a = desiredNodeJob(input);
  const b = desiredNodeJob(input);
  const ka = agentChannelKey(a);
  const kb = agentChannelKey(b);
  assert.match(ka ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(ka, kb, 'crypto-random per job');
  assert.equal(agentChannelKey(desiredNodeJob({ ...input, channelKey: 'x'.repeat(43) })), 'x'.repeat(43));
  // Nowhere but the agent's env: not in labels, annotations or the job's other fields.
  const withoutEnv = structuredClone(a);
  for (const c of withoutEnv.spec?.template.spec?.containers ?? []) delete c.env;
  assert.doesNotMatch(JSON.stringify(withoutEnv), new RegExp(ka ?? 'none'));
  assert.equal(agentChannelKey(undefined), undefined);
  assert.equal(agentChannelKey({ spec: { template: { spec: { containers: [{ name: 'agent', env: [{ name: 'TRACEJOB_AGENT_CONFIG', value: '{}' }] }] } } } }), undefined);
});

test('condition messages quoting tracer output are escaped; their line breaks stay', () => {
  const c = setCondition([], { type: 'Failed', status: 'True', reason: 'CompileError', message: 'stdin:1: ERROR: unknown \x1b]0;pwned\x07\x1b[2J\u202E\n   ^~~~' }, 't1');
  assert.equal(c[0]?.message, 'stdin:1: ERROR: unknown \\x1b]0;pwned\\x07\\x1b[2J\\u202e\n   ^~~~');
  assert.equal(statusMessage('a\rb\x9bc'), 'a\\rb\\x9bc');
});
