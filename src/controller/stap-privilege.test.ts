// The reconciler refuses a custom SystemTap program that would act on the node at
// acceptance: phase Failed, reason PolicyDenied, and no node Job is ever created.
// Driven through an in-memory TraceJobPort (the real one is exercised by the e2e suite).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceJob } from '../api/tracejob.js';
import { silentLogger } from '../runtime/logger.js';
import { OperatorConfig } from './config.js';
import { MemoryPort } from './testing.js';
import { TraceJobReconciler } from './reconciler.js';

const traceJob = (program: string): TraceJob => ({
  apiVersion: 'tracing.tracejob.dev/v1alpha1',
  kind: 'TraceJob',
  metadata: { name: 'stap', namespace: 'team-a', uid: '7d1f5a2e-0000-4000-8000-000000000001', generation: 1 },
  spec: { target: { pod: { name: 'web' } }, probe: { type: 'systemtap', program }, duration: '5s' } as TraceJob['spec'],
});

describe('reconciler: custom SystemTap programs without guru policy', () => {
  const config = OperatorConfig.parse({ policy: { customProgramNamespaces: ['team-a'], systemtapGuruNamespaces: [] } });
  it('system() → Failed/PolicyDenied at acceptance, no node Job', async () => {
    const port = new MemoryPort();
    port.traceJobs.set('team-a/stap', traceJob('probe begin { system("touch /proc/1/root/tmp/x") exit() }'));
    await new TraceJobReconciler({ port, config, log: silentLogger }).reconcile('team-a', 'stap');
    const status = port.traceJobs.get('team-a/stap')?.status;
    assert.equal(status?.phase, 'Failed');
    const failed = status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'PolicyDenied');
    assert.match(failed?.message ?? '', /spec\.probe\.program line 1: system\(\).*policy\.systemtapGuruNamespaces/);
    assert.deepEqual(port.created, []);
    assert.ok(port.events.some((e) => e.startsWith('PolicyDenied: spec.probe.program')));
  });
  it('a program that only mentions system( in a comment is accepted (it goes on to resolve its target)', async () => {
    const port = new MemoryPort();
    port.traceJobs.set('team-a/stap', traceJob('# system("x")\nprobe begin { printf("system(\\n") exit() }'));
    await new TraceJobReconciler({ port, config, log: silentLogger }).reconcile('team-a', 'stap');
    // Accepted, then the (absent) target pod decides.
    const status = port.traceJobs.get('team-a/stap')?.status;
    assert.equal(status?.conditions?.find((c) => c.type === 'Accepted')?.status, 'True');
    assert.equal(status?.conditions?.find((c) => c.type === 'Failed')?.reason, 'PodNotFound');
  });
});
