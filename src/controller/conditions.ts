// Condition bookkeeping per Kubernetes API conventions: keyed by type,
// lastTransitionTime changes only when status flips.
import type { Condition } from '../api/tracejob.js';
import { printableText } from '../results/safe-text.js';

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
  /** A running trace is being stopped early (consent withdrawn, policy revoked); partial results follow. */
  Stopping: 'Stopping',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
} as const;

/**
 * A status or condition message as people read it (`kubectl describe`, the
 * plugin): it may quote tracer output, so control and bidi characters are
 * escaped; its line breaks stay (an error excerpt keeps its lines).
 */
export function statusMessage(message: string): string {
  return printableText(message);
}

export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const lastTransitionTime = prev && prev.status === next.status ? prev.lastTransitionTime : now;
  const merged: Condition = { ...next, ...(next.message !== undefined ? { message: statusMessage(next.message) } : {}), lastTransitionTime };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

export function getCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
