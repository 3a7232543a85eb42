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
  /**
   * Creates the Job; an existing Job with the same name is returned as is when
   * its labels name the same run, otherwise JobNameConflict.
   */
  createJob(job: V1Job): Promise<V1Job>;
  deleteJob(name: string): Promise<void>;
  listJobPods(jobName: string): Promise<V1Pod[]>;
  /**
   * Stops a node job early: deletes it in the foreground, so its pods get
   * SIGTERM and their grace period (the agent ends the trace, prints its result
   * and lingers while the log is read).
   */
  stopJob(name: string): Promise<void>;
  /**
   * Streams at most `limitBytes` of a node Job pod's container log to `onLine`, line by
   * line (a line cut by the limit is not passed on). `cut`: the log reached the limit.
   */
  streamPodLog(podName: string, container: string, limitBytes: number, onLine: (line: string) => void): Promise<{ bytes: number; cut: boolean }>;

  /** A ConfigMap in the operator namespace (node capability reports); undefined when absent. */
  getOperatorConfigMap(name: string): Promise<V1ConfigMap | undefined>;
  /** A ConfigMap in a tenant namespace; undefined when absent. */
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  /**
   * Writes the result ConfigMap: created when absent, replaced (with its
   * resourceVersion) only when `mayWrite` accepts the existing object; otherwise
   * nothing is written and the refusal is returned.
   */
  writeResultConfigMap(cm: V1ConfigMap, mayWrite: (existing: V1ConfigMap) => string | undefined): Promise<{ refused?: string }>;
  /** Creates or replaces a ConfigMap of the operator namespace (node capability reports). */
  applyConfigMap(cm: V1ConfigMap): Promise<void>;
  event(tj: TraceJob, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/** A Job with the node job's name exists but belongs to something else. */
export class JobNameConflict extends Error {
  override name = 'JobNameConflict';
  constructor(readonly jobName: string) {
    super(`a Job named ${jobName} already exists in the operator namespace and does not belong to this run`);
  }
}
