// Condition bookkeeping per Kubernetes API conventions: keyed by type,
// lastTransitionTime changes only when status flips.
import type { Condition } from '../api/tracejob.js';

export const COND = {
  Accepted: 'Accepted',
  /** False (reason QueuedConcurrencyLimit) while the run waits for a slot of policy.maxConcurrentRuns. */
  Admitted: 'Admitted',
  TargetResolved: 'TargetResolved',
  NodeJobCreated: 'NodeJobCreated',
  Attached: 'Attached',
  /** SystemTap runs: the node's capability report is fresh (a preflight-only job refreshes it). */
  NodeCapabilities: 'NodeCapabilities',
  /** SystemTap runs: kernel debuginfo/headers come from the host or are being fetched. */
  Debuginfo: 'Debuginfo',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
} as const;

export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now;
  const merged: Condition = { ...next, lastTransitionTime };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
