// What the TraceJob reconciler needs from the cluster. Implemented over the
// API server in src/k8s/tracejob-port.ts; kept as an interface so the
// reconciler's decisions read as one story and stay free of client details.
import type { V1ConfigMap, V1Job, V1Namespace, V1Pod } from '@kubernetes/client-node';
import type { TraceJob, TraceJobStatus } from '../api/tracejob.js';

export interface TraceJobPort {
  getTraceJob(namespace: string, name: string): Promise<TraceJob | undefined>;
  /** Every TraceJob of the cluster, from the informer cache (admission counts runs). Read only. */
  listTraceJobs(): Promise<readonly TraceJob[]>;
  /** Replaces status with optimistic concurrency (resourceVersion of `tj`); throws ConflictError when stale. */
  replaceStatus(tj: TraceJob, status: TraceJobStatus): Promise<TraceJob>;
  setFinalizers(tj: TraceJob, finalizers: string[]): Promise<TraceJob>;
  deleteTraceJob(namespace: string, name: string): Promise<void>;

  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
  getNamespace(name: string): Promise<V1Namespace | undefined>;

  /** Node jobs live in the operator namespace, found by the TraceJob uid label. */
  listNodeJobs(uid: string): Promise<V1Job[]>;
  getJob(name: string): Promise<V1Job | undefined>;
  /** Creates the Job; an existing Job with the same name is returned as is. */
  createJob(job: V1Job): Promise<V1Job>;
  deleteJob(name: string): Promise<void>;
  listJobPods(jobName: string): Promise<V1Pod[]>;
  readPodLog(podName: string, container: string): Promise<string>;

  /** A ConfigMap in the operator namespace (node capability reports); undefined when absent. */
  getOperatorConfigMap(name: string): Promise<V1ConfigMap | undefined>;
  /** Creates or replaces the result ConfigMap. */
  applyConfigMap(cm: V1ConfigMap): Promise<void>;
  event(tj: TraceJob, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}
