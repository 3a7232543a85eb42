// TraceJobPort over the real API server (@kubernetes/client-node 1.x).
import {
  BatchV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Log,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1ConfigMap,
  type V1Job,
  type V1Namespace,
  type V1Pod,
} from '@kubernetes/client-node';
import type { TraceJob, TraceJobStatus } from '../api/tracejob.js';
import { GROUP, PLURAL, VERSION } from '../api/tracejob.js';
import { JobNameConflict, type TraceJobPort } from '../controller/port.js';
import { LABELS, isJobOfRun } from '../controller/names.js';
import { parseApiError, wrapApi } from './errors.js';
import { printable } from '../results/safe-text.js';
import { LineSplitter } from './lines.js';
import { Writable } from 'node:stream';

/** How long one pod log read may take (a few MiB from the kubelet). */
const LOG_READ_TIMEOUT_MS = 60_000;

const CR = { group: GROUP, version: VERSION, plural: PLURAL };
const FIELD_MANAGER = 'tracejob-operator';

function statusCode(e: unknown): number | undefined {
  const code = (parseApiError(e) as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

/** Typed errors (NotFound, Conflict, …) instead of client-node's raw ApiException. */
async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await wrapApi(p);
  } catch (e) {
    if (statusCode(e) === 404) return undefined;
    throw e;
  }
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  await orUndefined(p);
}

/** Counts API calls by verb for the operator's metrics and benchmarks. */
export type CallCounter = (verb: string, resource: string) => void;

/**
 * Informer caches to read from instead of the API server (controller-runtime's
 * "read from the cache, write to the API"). A stale read is safe: writes carry
 * the resourceVersion and a conflict requeues the key.
 */
export interface CachedReads {
  traceJob?(namespace: string, name: string): TraceJob | undefined;
  traceJobs?(): readonly TraceJob[];
  job?(name: string): V1Job | undefined;
}

export class ApiTraceJobPort implements TraceJobPort {
  private readonly core: CoreV1Api;
  private readonly batch: BatchV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly log: Log;

  constructor(
    kc: KubeConfig,
    private readonly operatorNamespace: string,
    private readonly count: CallCounter = () => undefined,
    private readonly reporter = 'tracejob-operator',
    private readonly cache: CachedReads = {},
  ) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.log = new Log(kc);
  }

  async getTraceJob(namespace: string, name: string): Promise<TraceJob | undefined> {
    // A copy: the reconciler must never mutate the shared cache.
    if (this.cache.traceJob) return structuredClone(this.cache.traceJob(namespace, name));
    this.count('get', 'tracejobs');
    return (await orUndefined(this.custom.getNamespacedCustomObject({ ...CR, namespace, name }))) as TraceJob | undefined;
  }

  async listTraceJobs(): Promise<readonly TraceJob[]> {
    // Not copied: callers only read, and this runs on every admission decision.
    if (this.cache.traceJobs) return this.cache.traceJobs();
    this.count('list', 'tracejobs');
    const list = (await wrapApi(this.custom.listClusterCustomObject(CR))) as { items?: TraceJob[] };
    return list.items ?? [];
  }

  /** Straight from the API server, past the cache: to confirm that a TraceJob is really gone. */
  async getTraceJobLive(namespace: string, name: string): Promise<TraceJob | undefined> {
    this.count('get', 'tracejobs');
    return (await orUndefined(this.custom.getNamespacedCustomObject({ ...CR, namespace, name }))) as TraceJob | undefined;
  }

  async replaceStatus(tj: TraceJob, status: TraceJobStatus): Promise<TraceJob> {
    this.count('update', 'tracejobs/status');
    const body = { ...tj, status };
    return (await wrapApi(this.custom.replaceNamespacedCustomObjectStatus({ ...CR, namespace: tj.metadata.namespace, name: tj.metadata.name, body }))) as TraceJob;
  }

  async setFinalizers(tj: TraceJob, finalizers: string[]): Promise<TraceJob> {
    this.count('patch', 'tracejobs');
    // resourceVersion in the patch makes it a compare-and-swap on the finalizer list.
    const body = { metadata: { finalizers, resourceVersion: tj.metadata.resourceVersion } };
    return (await wrapApi(
      this.custom.patchNamespacedCustomObject(
        { ...CR, namespace: tj.metadata.namespace, name: tj.metadata.name, body },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    )) as TraceJob;
  }

  async deleteTraceJob(namespace: string, name: string): Promise<void> {
    this.count('delete', 'tracejobs');
    await ignoreNotFound(this.custom.deleteNamespacedCustomObject({ ...CR, namespace, name }));
  }

  async getPod(namespace: string, name: string): Promise<V1Pod | undefined> {
    this.count('get', 'pods');
    return orUndefined(this.core.readNamespacedPod({ namespace, name }));
  }

  async listPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
    this.count('list', 'pods');
    return (await wrapApi(this.core.listNamespacedPod({ namespace, labelSelector }))).items;
  }

  async getNamespace(name: string): Promise<V1Namespace | undefined> {
    this.count('get', 'namespaces');
    return orUndefined(this.core.readNamespace({ name }));
  }

  async listNodeJobs(uid: string): Promise<V1Job[]> {
    this.count('list', 'jobs');
    return (await wrapApi(this.batch.listNamespacedJob({ namespace: this.operatorNamespace, labelSelector: `${LABELS.uid}=${uid}` }))).items;
  }

  async getJob(name: string): Promise<V1Job | undefined> {
    // A cache miss is confirmed with the API server: the Job informer may lag
    // behind the TraceJob informer, and "missing" would fail a healthy run.
    const cached = this.cache.job?.(name);
    if (cached) return structuredClone(cached);
    this.count('get', 'jobs');
    return orUndefined(this.batch.readNamespacedJob({ namespace: this.operatorNamespace, name }));
  }

  async createJob(job: V1Job): Promise<V1Job> {
    this.count('create', 'jobs');
    try {
      return await wrapApi(this.batch.createNamespacedJob({ namespace: this.operatorNamespace, body: job }));
    } catch (e) {
      // Deterministic names: an existing Job is the one a previous reconcile made,
      // but only if its labels say so; anyone else's Job is never adopted.
      if (statusCode(e) === 409) {
        const name = job.metadata?.name ?? '';
        const existing = await this.getJob(name);
        const want = job.metadata?.labels ?? {};
        if (existing && isJobOfRun(existing.metadata?.labels, want[LABELS.uid] ?? '', Number(want[LABELS.generation]))) return existing;
        if (existing) throw new JobNameConflict(name);
      }
      throw e;
    }
  }

  async deleteJob(name: string): Promise<void> {
    this.count('delete', 'jobs');
    await ignoreNotFound(this.batch.deleteNamespacedJob({ namespace: this.operatorNamespace, name, propagationPolicy: 'Background' }));
  }

  async listJobPods(jobName: string): Promise<V1Pod[]> {
    this.count('list', 'pods');
    return (await wrapApi(this.core.listNamespacedPod({ namespace: this.operatorNamespace, labelSelector: `batch.kubernetes.io/job-name=${jobName}` }))).items;
  }

  async stopJob(name: string): Promise<void> {
    this.count('delete', 'jobs');
    await ignoreNotFound(this.batch.deleteNamespacedJob({ namespace: this.operatorNamespace, name, propagationPolicy: 'Foreground' }));
  }

  async streamPodLog(podName: string, container: string, limitBytes: number, onLine: (line: string) => void): Promise<{ bytes: number; cut: boolean }> {
    this.count('get', 'pods/log');
    const lines = new LineSplitter(onLine);
    let controller: AbortController | undefined;
    let timer: NodeJS.Timeout | undefined;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk);
        done();
      },
    });
    // The log API pipes into `sink` but reports neither a hung request nor a broken stream: bounded wait.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller?.abort();
        reject(new Error(`reading the log of pod ${podName} did not finish in ${LOG_READ_TIMEOUT_MS / 1000}s`));
      }, LOG_READ_TIMEOUT_MS);
    });
    const finished = new Promise<void>((resolve, reject) => {
      sink.on('finish', resolve);
      sink.on('error', reject);
    });
    // Whichever loses the race must not become an unhandled rejection (that would end the process).
    timeout.catch(() => undefined);
    finished.catch(() => undefined);
    try {
      controller = await Promise.race([wrapApi(this.log.log(this.operatorNamespace, podName, container, sink, { limitBytes })), timeout]);
      await Promise.race([finished, timeout]);
    } finally {
      if (timer) clearTimeout(timer);
    }
    const cut = lines.bytes >= limitBytes;
    lines.end(!cut);
    return { bytes: lines.bytes, cut };
  }

  async getOperatorConfigMap(name: string): Promise<V1ConfigMap | undefined> {
    this.count('get', 'configmaps');
    return orUndefined(this.core.readNamespacedConfigMap({ namespace: this.operatorNamespace, name }));
  }

  async getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined> {
    this.count('get', 'configmaps');
    return orUndefined(this.core.readNamespacedConfigMap({ namespace, name }));
  }

  async writeResultConfigMap(cm: V1ConfigMap, mayWrite: (existing: V1ConfigMap) => string | undefined): Promise<{ refused?: string }> {
    const namespace = cm.metadata?.namespace ?? '';
    const name = cm.metadata?.name ?? '';
    try {
      this.count('create', 'configmaps');
      await wrapApi(this.core.createNamespacedConfigMap({ namespace, body: cm, fieldManager: FIELD_MANAGER }));
      return {};
    } catch (e) {
      if (statusCode(e) !== 409) throw e;
    }
    // It exists: replace it only if it is ours, with its resourceVersion, so a
    // ConfigMap swapped in between the read and the write is never overwritten.
    const existing = await this.getConfigMap(namespace, name);
    if (!existing) throw new Error(`ConfigMap ${namespace}/${name} vanished while writing the result; retrying`);
    const refused = mayWrite(existing);
    if (refused) return { refused };
    this.count('update', 'configmaps');
    const body: V1ConfigMap = { ...cm, metadata: { ...cm.metadata, resourceVersion: existing.metadata?.resourceVersion } };
    await wrapApi(this.core.replaceNamespacedConfigMap({ namespace, name, body, fieldManager: FIELD_MANAGER }));
    return {};
  }

  async applyConfigMap(cm: V1ConfigMap): Promise<void> {
    this.count('apply', 'configmaps');
    const namespace = cm.metadata?.namespace ?? '';
    const name = cm.metadata?.name ?? '';
    await wrapApi(
      this.core.patchNamespacedConfigMap(
        { namespace, name, body: cm, fieldManager: FIELD_MANAGER, force: true },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      ),
    );
  }

  async event(tj: TraceJob, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    this.count('create', 'events');
    const now = new Date();
    try {
      await this.core.createNamespacedEvent({
        namespace: tj.metadata.namespace,
        body: {
          metadata: { generateName: `${tj.metadata.name}.`, namespace: tj.metadata.namespace },
          involvedObject: { apiVersion: tj.apiVersion, kind: tj.kind, name: tj.metadata.name, namespace: tj.metadata.namespace, uid: tj.metadata.uid, resourceVersion: tj.metadata.resourceVersion },
          type,
          reason,
          // One line, escaped: `kubectl get events` shows it in a column, and it may quote tracer output.
          message: printable(message).slice(0, 1024),
          source: { component: this.reporter },
          reportingComponent: this.reporter,
          reportingInstance: this.reporter,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      });
    } catch {
      // Events are best effort: a failed event must never fail a reconcile.
    }
  }
}
