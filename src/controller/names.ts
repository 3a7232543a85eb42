// Deterministic names and labels for everything the operator creates, so a
// stale cache or a restarted operator can never create duplicates.
import { createHash } from 'node:crypto';

export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  component: 'app.kubernetes.io/component',
  uid: 'tracing.tracejob.dev/uid',
  generation: 'tracing.tracejob.dev/generation',
} as const;
export const ANNOTATIONS = {
  owner: 'tracing.tracejob.dev/owner',
  node: 'tracing.tracejob.dev/node',
} as const;
export const MANAGER = 'tracejob-operator';
export const FINALIZER = 'tracing.tracejob.dev/cleanup';

function shortHash(text: string, n = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, n);
}

/**
 * ≤ 63 characters (Job names become pod labels): tj-<uid, 32 hex>-g<gen>-<nodehash>.
 * The whole uid, so two TraceJobs can never share a node job name (a 32-bit
 * prefix could collide, and a 409 would then adopt the other run's Job).
 */
export function nodeJobName(uid: string, generation: number, node: string): string {
  const id = uid.replace(/-/g, '').toLowerCase().slice(0, 32);
  const gen = `g${generation}`;
  // Generations beyond 10^12 would overflow 63 with the -pf suffix: hash them into the node part.
  return gen.length <= 13 ? `tj-${id}-${gen}-${shortHash(node)}` : `tj-${id}-${shortHash(`${generation}/${node}`, 16)}`;
}

/** A Job may be adopted (after a 409 on create) only when its labels name this TraceJob run. */
export function isJobOfRun(labels: Record<string, string> | undefined, uid: string, generation: number): boolean {
  return labels?.[LABELS.managedBy] === MANAGER && labels[LABELS.uid] === uid && labels[LABELS.generation] === String(generation);
}

/** The preflight-only job that refreshes a node's capability report before a run: <node job name>-pf. */
export function preflightJobName(uid: string, generation: number, node: string): string {
  return `${nodeJobName(uid, generation, node)}-pf`;
}

export function resultConfigMapName(traceJobName: string, override?: string): string {
  if (override) return override;
  const name = `${traceJobName}-result`;
  return name.length <= 253 ? name : `${traceJobName.slice(0, 240)}-${shortHash(traceJobName, 5)}`;
}

export function ownerAnnotation(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function parseOwnerAnnotation(value: string | undefined): { namespace: string; name: string } | undefined {
  if (!value) return undefined;
  const i = value.indexOf('/');
  if (i <= 0 || i === value.length - 1) return undefined;
  return { namespace: value.slice(0, i), name: value.slice(i + 1) };
}
