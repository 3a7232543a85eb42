// An in-memory TraceJobPort for reconciler tests: the decisions run for real,
// the cluster is a few maps. What a run created, stopped and said is recorded.
import type { V1ConfigMap, V1Job, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { TraceJob, TraceJobStatus } from '../api/tracejob.js';
import { JobNameConflict, type TraceJobPort } from './port.js';

export class MemoryPort implements TraceJobPort {
  traceJobs = new Map<string, TraceJob>();
  namespaces = new Map<string, V1Namespace>();
  pods = new Map<string, V1Pod>();
  jobs = new Map<string, V1Job>();
  configMaps = new Map<string, V1ConfigMap>();
  created: string[] = [];
  stopped: string[] = [];
  conflictOnCreate = false;
  /** `<reason>: <message>` of every Event. */
  events: string[] = [];

  constructor(pods: readonly V1Pod[] = []) {
    for (const p of pods) this.pods.set(`${p.metadata?.namespace}/${p.metadata?.name}`, p);
  }

  add(tj: TraceJob): void {
    this.traceJobs.set(`${tj.metadata.namespace}/${tj.metadata.name}`, structuredClone(tj));
  }
  /** Names of the node jobs of TraceJob `namespace/name`. */
  jobsOf(name: string, namespace = 'shop'): string[] {
    const uid = this.traceJobs.get(`${namespace}/${name}`)?.metadata.uid;
    return [...this.jobs.values()].filter((j) => j.metadata?.labels?.['tracing.tracejob.dev/uid'] === uid).map((j) => j.metadata?.name ?? '');
  }
  status(name: string, namespace = 'shop'): TraceJobStatus | undefined {
    return this.traceJobs.get(`${namespace}/${name}`)?.status;
  }

  async getTraceJob(namespace: string, name: string) {
    return structuredClone(this.traceJobs.get(`${namespace}/${name}`));
  }
  async listTraceJobs() {
    return [...this.traceJobs.values()].map((tj) => structuredClone(tj));
  }
  async replaceStatus(tj: TraceJob, status: TraceJobStatus) {
    const next = { ...structuredClone(tj), status };
    this.traceJobs.set(`${tj.metadata.namespace}/${tj.metadata.name}`, next);
    return structuredClone(next);
  }
  async setFinalizers(tj: TraceJob, finalizers: string[]) {
    const next = { ...structuredClone(tj), metadata: { ...tj.metadata, finalizers } };
    this.traceJobs.set(`${tj.metadata.namespace}/${tj.metadata.name}`, next);
    return structuredClone(next);
  }
  async deleteTraceJob(namespace: string, name: string) {
    this.traceJobs.delete(`${namespace}/${name}`);
  }
  async getPod(namespace: string, name: string) {
    return this.pods.get(`${namespace}/${name}`);
  }
  async listPods(namespace: string) {
    return [...this.pods.values()].filter((p) => p.metadata?.namespace === namespace);
  }
  async getNamespace(name: string) {
    return this.namespaces.get(name) ?? { metadata: { name } };
  }
  async listNodeJobs(uid: string) {
    return [...this.jobs.values()].filter((j) => j.metadata?.labels?.['tracing.tracejob.dev/uid'] === uid);
  }
  async getJob(name: string) {
    return this.jobs.get(name);
  }
  async createJob(job: V1Job) {
    if (this.conflictOnCreate) throw new JobNameConflict(job.metadata?.name ?? '');
    this.created.push(job.metadata?.name ?? '');
    this.jobs.set(job.metadata?.name ?? '', job);
    return job;
  }
  async deleteJob(name: string) {
    this.jobs.delete(name);
  }
  async listJobPods(jobName: string): Promise<V1Pod[]> {
    return this.jobs.has(jobName) ? [{ metadata: { name: `${jobName}-x`, creationTimestamp: new Date() }, status: { phase: 'Running', containerStatuses: [{ name: 'agent', ready: true, restartCount: 0, image: 'i', imageID: '', state: { running: {} } }] } }] : [];
  }
  async stopJob(jobName: string) {
    this.stopped.push(jobName);
  }
  async streamPodLog() {
    return { bytes: 0, cut: false };
  }
  async getOperatorConfigMap() {
    return undefined;
  }
  async getConfigMap(namespace: string, name: string) {
    return this.configMaps.get(`${namespace}/${name}`);
  }
  async writeResultConfigMap(cm: V1ConfigMap) {
    this.configMaps.set(`${cm.metadata?.namespace}/${cm.metadata?.name}`, cm);
    return {};
  }
  async applyConfigMap() {}
  async event(_tj: TraceJob, _type: string, reason: string, message: string) {
    this.events.push(`${reason}: ${message}`);
  }
}
