// The reconciler refuses a custom SystemTap program that would act on the node at
// acceptance: phase Failed, reason PolicyDenied, and no node Job is ever created.
// Driven through an in-memory TraceJobPort (the real one is exercised by the e2e suite).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Job } from '@kubernetes/client-node';
import type { TraceJob, TraceJobStatus } from '../api/tracejob.js';
import { silentLogger } from '../runtime/logger.js';
import { OperatorConfig } from './config.js';
import type { TraceJobPort } from './port.js';
import { TraceJobReconciler } from './reconciler.js';

class MemoryPort implements TraceJobPort {
  readonly createdJobs: V1Job[] = [];
  readonly events: string[] = [];
  constructor(public tj: TraceJob) {}
  async getTraceJob(): Promise<TraceJob | undefined> {
    return this.tj;
  }
  async replaceStatus(tj: TraceJob, status: TraceJobStatus): Promise<TraceJob> {
    this.tj = { ...tj, status };
    return this.tj;
  }
  async setFinalizers(tj: TraceJob, finalizers: string[]): Promise<TraceJob> {
    this.tj = { ...tj, metadata: { ...tj.metadata, finalizers } };
    return this.tj;
  }
  async deleteTraceJob(): Promise<void> {}
  async getPod(): Promise<undefined> {
    throw new Error('a refused TraceJob must not look at pods');
  }
  async listPods(): Promise<never[]> {
    throw new Error('a refused TraceJob must not look at pods');
  }
  async getNamespace(): Promise<undefined> {
    return undefined;
  }
  async listNodeJobs(): Promise<V1Job[]> {
    return this.createdJobs;
  }
  async getJob(): Promise<undefined> {
    return undefined;
  }
  async createJob(job: V1Job): Promise<V1Job> {
    this.createdJobs.push(job);
    return job;
  }
  async deleteJob(): Promise<void> {}
  async listJobPods(): Promise<never[]> {
    return [];
  }
  async readPodLog(): Promise<string> {
    return '';
  }
  async getOperatorConfigMap(): Promise<undefined> {
    return undefined;
  }
  async applyConfigMap(): Promise<void> {}
  async event(_tj: TraceJob, type: string, reason: string, message: string): Promise<void> {
    this.events.push(`${type} ${reason} ${message}`);
  }
}

const traceJob = (program: string): TraceJob => ({
  apiVersion: 'tracing.tracejob.dev/v1alpha1',
  kind: 'TraceJob',
  metadata: { name: 'stap', namespace: 'team-a', uid: '7d1f5a2e-0000-4000-8000-000000000001', generation: 1 },
  spec: { target: { pod: { name: 'web' } }, probe: { type: 'systemtap', program }, duration: '5s' } as TraceJob['spec'],
});

describe('reconciler: custom SystemTap programs without guru policy', () => {
  const config = OperatorConfig.parse({ policy: { customProgramNamespaces: ['team-a'], systemtapGuruNamespaces: [] } });
  it('system() → Failed/PolicyDenied at acceptance, no node Job', async () => {
    const port = new MemoryPort(traceJob('probe begin { system("touch /proc/1/root/tmp/x") exit() }'));
    await new TraceJobReconciler({ port, config, log: silentLogger }).reconcile('team-a', 'stap');
    const status = port.tj.status;
    assert.equal(status?.phase, 'Failed');
    const failed = status?.conditions?.find((c) => c.type === 'Failed');
    assert.equal(failed?.reason, 'PolicyDenied');
    assert.match(failed?.message ?? '', /spec\.probe\.program line 1: system\(\).*policy\.systemtapGuruNamespaces/);
    assert.equal(port.createdJobs.length, 0);
    assert.ok(port.events.some((e) => e.startsWith('Warning PolicyDenied spec.probe.program')));
  });
  it('a program that only mentions system( in a comment is accepted (it goes on to resolve its target)', async () => {
    const port = new MemoryPort(traceJob('# system("x")\nprobe begin { printf("system(\\n") exit() }'));
    await assert.rejects(new TraceJobReconciler({ port, config, log: silentLogger }).reconcile('team-a', 'stap'), /must not look at pods/);
    assert.equal(port.tj.status?.phase, 'Pending');
  });
});
