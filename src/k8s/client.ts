// The Kube facade: the API calls the operator makes, each wrapping client-node
// errors into the typed errors of ./errors.js. Generic verbs go through
// KubernetesObjectApi (any kind, resolved by discovery, cached per
// apiVersion); status patches use CustomObjectsApi's /status subresource.
//
// Patch content types, verified against client-node 1.4.0: the generated
// object-parameter APIs default every PATCH to application/json-patch+json;
// `setHeaderOptions('Content-Type', PatchStrategy.X)` as the second argument
// overrides it (a hand-written promise middleware does NOT work there). The
// KubernetesObjectApi.patch() takes the strategy as a parameter instead.
//
// Note: objects returned here are client-node models (timestamps are Date),
// while informer caches hold the raw JSON from the watch (timestamps are
// strings).

import { existsSync } from 'node:fs';
import {
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type CoreV1Event,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { NotFoundError, parseApiError, wrapApi } from './errors.js';

/** The field manager for every write (server-side apply ownership, managedFields). */
export const FIELD_MANAGER = 'tracejob-operator';

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/**
 * In a pod (KUBERNETES_SERVICE_HOST set and a service-account token mounted):
 * the in-cluster config. Otherwise `kubeconfig` if given, else $KUBECONFIG or
 * ~/.kube/config.
 */
export function loadKubeConfig(options: { kubeconfig?: string } = {}): KubeConfig {
  const kc = new KubeConfig();
  if (options.kubeconfig) kc.loadFromFile(options.kubeconfig);
  else if (process.env['KUBERNETES_SERVICE_HOST'] && existsSync(SA_TOKEN)) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** Identifies any object: apiVersion + kind resolve the resource by discovery. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** Omit for cluster-scoped kinds. */
  namespace?: string;
}

/** Identifies a namespaced custom resource by its REST coordinates. */
export interface CustomResourceRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

export interface ListFilter {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export interface EventInput {
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. "Accepted", "NodeJobCreated". */
  reason: string;
  message: string;
}

function header(ref: ObjectRef): KubernetesObject & { metadata: { name: string; namespace?: string } } {
  return { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } };
}

export class Kube {
  readonly core: CoreV1Api;
  readonly batch: BatchV1Api;
  readonly coordination: CoordinationV1Api;
  readonly custom: CustomObjectsApi;
  readonly objects: KubernetesObjectApi;

  constructor(readonly kc: KubeConfig) {
    this.core = kc.makeApiClient(CoreV1Api);
    this.batch = kc.makeApiClient(BatchV1Api);
    this.coordination = kc.makeApiClient(CoordinationV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.objects = KubernetesObjectApi.makeApiClient(kc);
  }

  /** Reads an object; throws NotFoundError if absent. */
  get<T extends KubernetesObject>(ref: ObjectRef): Promise<T> {
    return wrapApi(this.objects.read<T>(header(ref) as T & ReturnType<typeof header>));
  }

  /** Reads an object; undefined if absent. */
  async tryGet<T extends KubernetesObject>(ref: ObjectRef): Promise<T | undefined> {
    try {
      return await this.get<T>(ref);
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  /** Lists objects of a kind, optionally in one namespace and filtered by label/field selectors. */
  async list<T extends KubernetesObject>(apiVersion: string, kind: string, filter: ListFilter = {}): Promise<T[]> {
    const res = await wrapApi(
      this.objects.list<T>(apiVersion, kind, filter.namespace, undefined, undefined, undefined, filter.fieldSelector, filter.labelSelector),
    );
    return res.items;
  }

  /** Creates an object; throws AlreadyExistsError if the name is taken. */
  create<T extends KubernetesObject>(obj: T): Promise<T> {
    return wrapApi(this.objects.create(obj, undefined, undefined, FIELD_MANAGER));
  }

  /** Server-side apply of a full desired object (fieldManager tracejob-operator; force takes over conflicting fields). */
  apply<T extends KubernetesObject>(obj: T, options: { force?: boolean } = {}): Promise<T> {
    return wrapApi(this.objects.patch(obj, undefined, undefined, FIELD_MANAGER, options.force ?? true, PatchStrategy.ServerSideApply));
  }

  /**
   * JSON merge patch (RFC 7386: null deletes a key, arrays are replaced). Put
   * metadata.resourceVersion in the patch to make it compare-and-swap
   * (ConflictError when stale).
   */
  mergePatch<T extends KubernetesObject>(ref: ObjectRef, patch: Record<string, unknown>): Promise<T> {
    const meta = (patch['metadata'] ?? {}) as Record<string, unknown>;
    const body = { ...patch, ...header(ref), metadata: { ...meta, name: ref.name, namespace: ref.namespace } } as unknown as T;
    return wrapApi(this.objects.patch(body, undefined, undefined, FIELD_MANAGER, undefined, PatchStrategy.MergePatch));
  }

  /** Merge-patches a custom resource's /status subresource (e.g. `{status: {...}}`). */
  async patchStatus<T = unknown>(ref: CustomResourceRef, patch: Record<string, unknown>): Promise<T> {
    const res: unknown = await wrapApi(
      this.custom.patchNamespacedCustomObjectStatus(
        { ...ref, body: patch, fieldManager: FIELD_MANAGER },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    return res as T;
  }

  /** Deletes with propagationPolicy Background; resolves false if it was already gone. */
  async delete(ref: ObjectRef): Promise<boolean> {
    try {
      await this.objects.delete(header(ref), undefined, undefined, undefined, undefined, 'Background');
      return true;
    } catch (e) {
      const err = parseApiError(e);
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  /** A container's log as text (tailLines/limitBytes bound it). */
  readPodLog(
    namespace: string,
    name: string,
    options: { container?: string; tailLines?: number; limitBytes?: number; previous?: boolean } = {},
  ): Promise<string> {
    return wrapApi(this.core.readNamespacedPodLog({ namespace, name, ...options }));
  }

  /**
   * Records a core/v1 Event about an object (shown by `kubectl describe` and
   * `kubectl get events`). Best effort: resolves false instead of throwing,
   * since a lost event must never fail a reconcile. Each call creates a new
   * Event (count 1); emit on transitions, not on every reconcile.
   */
  async createEvent(regarding: KubernetesObject, event: EventInput): Promise<boolean> {
    const meta = regarding.metadata ?? {};
    const namespace = meta.namespace || 'default';
    const now = new Date();
    const body: CoreV1Event = {
      metadata: {
        // client-go's naming: object name + unique hex suffix.
        name: `${meta.name ?? 'unknown'}.${now.getTime().toString(16)}${randomBytes(2).toString('hex')}`,
        namespace,
      },
      involvedObject: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: meta.name,
        namespace: meta.namespace,
        uid: meta.uid,
        resourceVersion: meta.resourceVersion,
      },
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, 1024),
      source: { component: FIELD_MANAGER },
      reportingComponent: FIELD_MANAGER,
      reportingInstance: process.env['HOSTNAME'] ?? FIELD_MANAGER,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.core.createNamespacedEvent({ namespace, body });
      return true;
    } catch {
      return false;
    }
  }
}
