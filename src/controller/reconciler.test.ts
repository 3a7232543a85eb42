// The reconciler's security decisions against an in-memory cluster: policy is
// checked again where a run is launched, a running trace is stopped when its
// target namespace withdraws consent, and a name clash is never adopted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../runtime/logger.js';
import type { TraceJob, TraceJobStatus } from '../api/tracejob.js';
import { OperatorConfig } from './config.js';
import { MemoryPort } from './testing.js';
import { TraceJobReconciler } from './reconciler.js';

const log = silentLogger;
const config = (policy: Partial<OperatorConfig['policy']> = {}) => OperatorConfig.parse({ policy: { ...policy } });

function traceJob(spec: Record<string, unknown>, status?: TraceJobStatus): TraceJob {
  return {
    apiVersion: 'tracing.tracejob.dev/v1alpha1',
    kind: 'TraceJob',
    metadata: { name: 't', namespace: 'ops', uid: '0f3c2a9e-1111-2222-3333-444455556666', generation: 1, finalizers: ['tracing.tracejob.dev/cleanup'] },
    spec,
    ...(status ? { status } : {}),
  } as TraceJob;
}

const accepted: TraceJobStatus = { observedGeneration: 1, phase: 'Pending', conditions: [], timing: { accepted: '2026-01-01T00:00:00Z' } };

test('a Pending run whose grant was removed since acceptance fails PolicyDenied at launch, no node job', async () => {
  const port = new MemoryPort();
  port.traceJobs.set('ops/t', traceJob({ target: { node: { name: 'node-a' } }, probe: { type: 'interrupts' }, duration: '5s' }, accepted));
  // The operator restarted with nodeTargetNamespaces no longer listing "ops".
  await new TraceJobReconciler({ port, config: config(), log }).reconcile('ops', 't');
  const tj = port.traceJobs.get('ops/t');
  assert.equal(tj?.status?.phase, 'Failed');
  assert.equal(tj?.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'PolicyDenied');
  assert.match(tj?.status?.message ?? '', /policy\.nodeTargetNamespaces/);
  assert.deepEqual(port.created, []);
});

test('a Pending run still granted launches its node job', async () => {
  const port = new MemoryPort();
  port.traceJobs.set('ops/t', traceJob({ target: { node: { name: 'node-a' } }, probe: { type: 'interrupts' }, duration: '5s' }, accepted));
  await new TraceJobReconciler({ port, config: config({ nodeTargetNamespaces: ['ops'] }), log }).reconcile('ops', 't');
  assert.equal(port.created.length, 1);
  assert.equal(port.traceJobs.get('ops/t')?.status?.phase, 'Running');
});

test('a node job name held by a foreign Job fails NodeJobConflict instead of adopting it', async () => {
  const port = new MemoryPort();
  port.conflictOnCreate = true;
  port.traceJobs.set('ops/t', traceJob({ target: { node: { name: 'node-a' } }, probe: { type: 'interrupts' }, duration: '5s' }, accepted));
  await new TraceJobReconciler({ port, config: config({ nodeTargetNamespaces: ['ops'] }), log }).reconcile('ops', 't');
  const tj = port.traceJobs.get('ops/t');
  assert.equal(tj?.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'NodeJobConflict');
});

test('withdrawn consent stops a running cross-namespace trace: pods signalled, Stopping, then Failed ConsentWithdrawn', async () => {
  const port = new MemoryPort();
  const ann = 'tracing.tracejob.dev/allow-from';
  port.namespaces.set('shop', { metadata: { name: 'shop', annotations: { [ann]: 'ops' } } });
  const running: TraceJobStatus = { ...accepted, phase: 'Running', nodeJobs: [{ name: 'tj-job', node: 'node-a' }], timing: { ...accepted.timing, attached: '2026-01-01T00:00:01Z' } };
  port.traceJobs.set('ops/t', traceJob({ target: { pod: { name: 'web', namespace: 'shop' } }, probe: { type: 'execs' }, duration: '5m' }, running));
  port.jobs.set('tj-job', { metadata: { name: 'tj-job', labels: { 'tracing.tracejob.dev/uid': '0f3c2a9e-1111-2222-3333-444455556666' } }, status: {} });
  let now = Date.parse('2026-01-01T00:00:10Z');
  const r = new TraceJobReconciler({ port, config: config(), log, now: () => new Date(now) });

  await r.reconcile('ops', 't');
  assert.deepEqual(port.stopped, [], 'consent still given: nothing stopped');

  port.namespaces.set('shop', { metadata: { name: 'shop', annotations: {} } });
  await r.reconcile('ops', 't');
  assert.deepEqual(port.stopped, ['tj-job']);
  const stopping = port.traceJobs.get('ops/t')?.status?.conditions?.find((c) => c.type === 'Stopping');
  assert.equal(stopping?.reason, 'ConsentWithdrawn');
  assert.equal(port.traceJobs.get('ops/t')?.status?.phase, 'Running', 'waits for the partial result');

  // The agent never answers: after the wait the run ends without results.
  now += 60_000;
  await r.reconcile('ops', 't');
  const tj = port.traceJobs.get('ops/t');
  assert.equal(tj?.status?.phase, 'Failed');
  assert.equal(tj?.status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'ConsentWithdrawn');
  assert.match(tj?.status?.message ?? '', /does not consent.*the trace was stopped/);
  assert.equal(port.jobs.size, 0, 'node jobs removed');
});
