// Admission of runs to the node: how many privileged node jobs tenants may
// hold at once. Node jobs live in the operator's namespace, outside every
// tenant's ResourceQuota, so the operator's policy is the only bound on them.
//
// A run holds a slot from admission until it is terminal (or deleted). Runs
// over a limit wait in phase Pending, first come first served: ordered by
// acceptance time, ties by namespace/name/uid. A waiting run blocked by one
// limit does not hold slots of the others, so a namespace that floods the
// queue blocks only itself; a later run never overtakes an earlier one that
// waits for the same limit (the count in that scope only grows along the queue).
import { parseDuration } from '../api/duration.js';
import type { TraceJob } from '../api/tracejob.js';
import type { OperatorConfig } from './config.js';
import { COND, getCondition } from './conditions.js';
import type { PolicyDecision } from './policy.js';

export type ConcurrencyLimits = OperatorConfig['policy']['maxConcurrentRuns'];
export type DurationLimits = OperatorConfig['policy']['maxDurationSeconds'];
export type LimitKey = keyof ConcurrencyLimits;

/** One run as admission sees it. */
export interface RunSlot {
  uid: string;
  namespace: string;
  name: string;
  /** Acceptance time (ms since the epoch): the queue order. */
  acceptedAt: number;
  /** Nodes its node jobs run (or will run) on; empty while not resolved. */
  nodes: readonly string[];
}

export type Admission =
  | { admitted: true }
  | { admitted: false; limit: LimitKey; value: number; scope: string; inUse: number; position: number; message: string };

export const QUEUED_REASON = 'QueuedConcurrencyLimit';

/** Queue order: acceptance time, then namespace, name, uid (total and stable). */
export function compareRuns(a: RunSlot, b: RunSlot): number {
  return a.acceptedAt - b.acceptedAt || cmp(a.namespace, b.namespace) || cmp(a.name, b.name) || cmp(a.uid, b.uid);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The scopes a run occupies: the cluster, its namespace, each of its nodes. */
function scopesOf(run: RunSlot, limits: ConcurrencyLimits): Array<{ key: string; limit: LimitKey; value: number; label: string }> {
  const out: Array<{ key: string; limit: LimitKey; value: number; label: string }> = [];
  if (limits.cluster > 0) out.push({ key: 'cluster', limit: 'cluster', value: limits.cluster, label: 'in the cluster' });
  if (limits.perNamespace > 0) out.push({ key: `ns/${run.namespace}`, limit: 'perNamespace', value: limits.perNamespace, label: `in namespace ${run.namespace}` });
  if (limits.perNode > 0) {
    for (const node of new Set(run.nodes)) out.push({ key: `node/${node}`, limit: 'perNode', value: limits.perNode, label: `on node ${node}` });
  }
  return out;
}

/**
 * Whether `candidate` may create node jobs now. `holding` are the runs that
 * hold slots (node or preflight jobs exist or are being made), `waiting` the
 * other accepted, non-terminal runs. The candidate may appear in either list.
 * Pure: the waiting runs ahead of the candidate are admitted in queue order on
 * paper, each taking its slots when every one of its scopes has room.
 */
export function admitRun(candidate: RunSlot, holding: readonly RunSlot[], waiting: readonly RunSlot[], limits: ConcurrencyLimits): Admission {
  if (holding.some((r) => r.uid === candidate.uid)) return { admitted: true };
  const used = new Map<string, number>();
  const take = (run: RunSlot) => {
    for (const s of scopesOf(run, limits)) used.set(s.key, (used.get(s.key) ?? 0) + 1);
  };
  for (const run of holding) take(run);
  /** The first scope without room, if any. */
  const blockedBy = (run: RunSlot) => scopesOf(run, limits).find((s) => (used.get(s.key) ?? 0) >= s.value);

  const blockedAhead = new Map<string, number>();
  const ahead = waiting.filter((r) => r.uid !== candidate.uid && compareRuns(r, candidate) < 0).sort(compareRuns);
  for (const run of ahead) {
    const blocked = blockedBy(run);
    if (blocked) blockedAhead.set(blocked.key, (blockedAhead.get(blocked.key) ?? 0) + 1);
    else take(run);
  }
  const blocked = blockedBy(candidate);
  if (!blocked) return { admitted: true };
  const inUse = used.get(blocked.key) ?? 0;
  const position = (blockedAhead.get(blocked.key) ?? 0) + 1;
  return {
    admitted: false,
    limit: blocked.limit,
    value: blocked.value,
    scope: blocked.label,
    inUse,
    position,
    message: `waiting for a free slot: policy.maxConcurrentRuns.${blocked.limit}=${blocked.value} is reached ${blocked.label} (${inUse} in use); position ${position} in the queue`,
  };
}

/** A run's slot from its TraceJob; `nodes` overrides the nodes from status (freshly resolved). */
export function runSlotOf(tj: TraceJob, nodes?: readonly string[]): RunSlot {
  const accepted = Date.parse(tj.status?.timing?.accepted ?? tj.metadata.creationTimestamp ?? '');
  const fromStatus = tj.status?.nodeJobs?.length ? tj.status.nodeJobs.map((j) => j.node) : (tj.status?.node ?? '').split(',').filter(Boolean);
  return {
    uid: tj.metadata.uid,
    namespace: tj.metadata.namespace,
    name: tj.metadata.name,
    acceptedAt: Number.isFinite(accepted) ? accepted : 0,
    nodes: nodes ?? fromStatus,
  };
}

/**
 * Splits cached TraceJobs into runs that hold slots and runs that wait.
 * Holding: phase Running (its node jobs exist until it is terminal), or a
 * Pending run of its current generation that was admitted (it may have a
 * preflight job) or is refreshing a node's capability report. Waiting: any
 * other Pending run of its current generation. Terminal runs and runs whose
 * new generation is not accepted yet take no part.
 */
export function classifyRuns(traceJobs: readonly TraceJob[]): { holding: RunSlot[]; waiting: RunSlot[] } {
  const holding: RunSlot[] = [];
  const waiting: RunSlot[] = [];
  for (const tj of traceJobs) {
    const phase = tj.status?.phase;
    if (phase === 'Running') {
      holding.push(runSlotOf(tj));
      continue;
    }
    const generation = tj.metadata.generation ?? 1;
    if (phase !== 'Pending' || tj.status?.observedGeneration !== generation) continue;
    const admitted = getCondition(tj.status.conditions, COND.Admitted);
    const probing = getCondition(tj.status.conditions, COND.NodeCapabilities);
    const current = (c: typeof admitted) => c !== undefined && (c.observedGeneration === undefined || c.observedGeneration === generation);
    if ((current(admitted) && admitted?.status === 'True') || (current(probing) && probing?.status === 'Unknown')) holding.push(runSlotOf(tj));
    else waiting.push(runSlotOf(tj));
  }
  return { holding, waiting };
}

/**
 * Admission with memory of this process's own decisions. Only the leader
 * reconciles, but its workers run concurrently and its cache lags its own
 * status writes by a moment: a run admitted here counts as holding until the
 * cache shows it holding or finished (or after `reservationTtlMs`, should its
 * launch have died half way; its next reconcile re-admits it).
 */
export class AdmissionQueue {
  private readonly reserved = new Map<string, { slot: RunSlot; at: number }>();

  constructor(private readonly reservationTtlMs = 60_000) {}

  /**
   * Decides for `candidate` against the cached TraceJobs. With `reserve`
   * (the final check, nodes resolved), an admitted run keeps its slot at once.
   * Synchronous on purpose: no other reconcile can interleave between the
   * decision and the reservation.
   */
  decide(candidate: RunSlot, traceJobs: readonly TraceJob[], limits: ConcurrencyLimits, nowMs: number, reserve: boolean): Admission {
    const { holding, waiting } = classifyRuns(traceJobs);
    const seen = new Map(traceJobs.map((tj) => [tj.metadata.uid, tj]));
    const holdingUids = new Set(holding.map((r) => r.uid));
    for (const [uid, r] of this.reserved) {
      const tj = seen.get(uid);
      const terminal = tj?.status?.phase === 'Succeeded' || tj?.status?.phase === 'Failed';
      if (!tj || terminal || holdingUids.has(uid) || nowMs - r.at > this.reservationTtlMs) this.reserved.delete(uid);
    }
    const all = [...holding, ...[...this.reserved.values()].map((r) => r.slot)];
    const verdict = admitRun(candidate, all, waiting, limits);
    if (verdict.admitted && reserve) this.reserved.set(candidate.uid, { slot: candidate, at: nowMs });
    return verdict;
  }
}

/** The longest spec.duration allowed for a namespace, and the policy key that says so. */
export function maxDurationFor(namespace: string, limits: DurationLimits): { seconds: number; key: string } {
  const own = limits.perNamespace[namespace];
  return own !== undefined
    ? { seconds: own, key: `policy.maxDurationSeconds.perNamespace.${namespace}` }
    : { seconds: limits.default, key: 'policy.maxDurationSeconds.default' };
}

/** spec.duration within the namespace's maximum. */
export function checkMaxDuration(namespace: string, duration: string, limits: DurationLimits): PolicyDecision {
  const ms = parseDuration(duration);
  const max = maxDurationFor(namespace, limits);
  if (ms !== undefined && ms <= max.seconds * 1000) return { allowed: true };
  return {
    allowed: false,
    message: `spec.duration ${duration} is longer than the maximum of ${max.seconds}s for namespace ${namespace} (${max.key})`,
  };
}
