// The informer's cache: the last state seen for each object, readable by key
// and by label selector. Reconcilers read here and write to the API server.

import { type LabelSelector, matchesSelector } from './selector.js';

/** The minimum shape the runtime needs from a Kubernetes object (client-node's V1Pod etc. fit). */
export interface KubeObject {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
}

/** `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKey). */
export function objectKey(obj: KubeObject): string {
  const name = obj.metadata?.name ?? '';
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${name}` : name;
}

/** Inverse of objectKey. */
export function splitKey(key: string): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface ListOptions extends LabelSelector {
  namespace?: string;
}

export class Store<T extends KubeObject> {
  private readonly items = new Map<string, T>();

  /** The cached object for `ns/name`, if any. */
  get(key: string): T | undefined {
    return this.items.get(key);
  }

  /** Cached objects, optionally filtered by namespace and label selector. */
  list(options: ListOptions = {}): T[] {
    const out: T[] = [];
    for (const obj of this.items.values()) {
      if (options.namespace !== undefined && obj.metadata?.namespace !== options.namespace) continue;
      if (!matchesSelector(obj.metadata?.labels, options)) continue;
      out.push(obj);
    }
    return out;
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /** @internal Written only by the informer. */
  set(obj: T): void {
    this.items.set(objectKey(obj), obj);
  }

  /** @internal Written only by the informer. */
  delete(key: string): void {
    this.items.delete(key);
  }
}
