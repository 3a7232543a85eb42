// Turns pods into trace targets (node, container, container id). Pure: the
// reconciler fetches the pods, these functions decide.
import type { V1Pod } from '@kubernetes/client-node';

export interface ResolvedPodTarget {
  pod: string;
  namespace: string;
  container: string;
  containerID: string;
  node: string;
  /** The node namespaces the pod shares (spec.hostNetwork, hostPID, hostIPC): its filter then covers the node's. */
  hostNamespaces?: string[];
}

export type TargetResolution =
  | { ok: true; target: ResolvedPodTarget }
  | { ok: false; reason: 'PodNotFound' | 'PodNotScheduled' | 'PodNotRunning' | 'ContainerNotFound' | 'ContainerNotRunning'; message: string };

const RUNTIME_PREFIX = /^(containerd|cri-o|docker):\/\/[0-9a-f]{12,64}$/;

export function resolvePodTarget(pod: V1Pod | undefined, ref: { name: string; namespace: string; container?: string }): TargetResolution {
  const where = `${ref.namespace}/${ref.name}`;
  if (!pod) return { ok: false, reason: 'PodNotFound', message: `pod ${where} not found` };
  const node = pod.spec?.nodeName;
  if (!node) return { ok: false, reason: 'PodNotScheduled', message: `pod ${where} is not scheduled to a node yet` };
  const phase = pod.status?.phase ?? 'Unknown';
  if (phase !== 'Running') {
    return { ok: false, reason: 'PodNotRunning', message: `pod ${where} is ${phase}, not Running` };
  }
  const containers = pod.spec?.containers ?? [];
  const name = ref.container ?? containers[0]?.name;
  if (!name || !containers.some((c) => c.name === name)) {
    const known = containers.map((c) => c.name).join(', ');
    return { ok: false, reason: 'ContainerNotFound', message: `container ${name ?? '(none)'} not found in pod ${where} (containers: ${known})` };
  }
  const status = pod.status?.containerStatuses?.find((s) => s.name === name);
  const id = status?.containerID;
  if (!status?.state?.running || !id) {
    return { ok: false, reason: 'ContainerNotRunning', message: `container ${name} of pod ${where} is not running` };
  }
  if (!RUNTIME_PREFIX.test(id)) {
    return { ok: false, reason: 'ContainerNotRunning', message: `container ${name} of pod ${where} has an unrecognised id ${id}` };
  }
  const hostNamespaces = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => pod.spec?.[f] === true);
  return {
    ok: true,
    target: { pod: ref.name, namespace: ref.namespace, container: name, containerID: id, node, ...(hostNamespaces.length ? { hostNamespaces } : {}) },
  };
}

/** Groups targets by node: one node job per node covers all its pods. */
export function groupByNode(targets: readonly ResolvedPodTarget[]): Map<string, ResolvedPodTarget[]> {
  const byNode = new Map<string, ResolvedPodTarget[]>();
  for (const t of targets) {
    const list = byNode.get(t.node) ?? [];
    list.push(t);
    byNode.set(t.node, list);
  }
  return new Map([...byNode.entries()].sort(([a], [b]) => a.localeCompare(b)));
}

/** Renders a label selector for the list API from matchLabels/matchExpressions. */
export function labelSelectorString(sel: {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b))) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}
