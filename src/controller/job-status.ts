// Reads a node Job, its pod and the agent's log into one verdict. Pure, so
// every failure mode is a table test rather than a cluster experiment.
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { EXIT_REASONS, TerminationSummary, type AgentMessage } from '../agent/protocol.js';
import { DEBUGINFO_UNAVAILABLE_EXIT } from '../systemtap/debuginfo.js';

export type NodeJobVerdict =
  | { state: 'pending'; message: string }
  | { state: 'stuck'; reason: 'ImageUnavailable' | 'Unschedulable' | 'PodStartFailed'; message: string }
  | { state: 'running' }
  | { state: 'succeeded' }
  | { state: 'failed'; reason: string; message: string; exitCode?: number };

const IMAGE_REASONS = new Set(['ErrImagePull', 'ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);
const START_REASONS = new Set(['CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

export function observeNodeJob(job: V1Job, pod: V1Pod | undefined, nowMs: number, pendingTimeoutMs: number): NodeJobVerdict {
  const conds = job.status?.conditions ?? [];
  const complete = conds.find((c) => (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') && c.status === 'True');
  const failed = conds.find((c) => (c.type === 'Failed' || c.type === 'FailureTarget') && c.status === 'True');
  // The debuginfo init container (SystemTap runs): its failure is the run's, with its own reason.
  const init = pod?.status?.initContainerStatuses?.find((s) => s.name === 'debuginfo');
  const initTerm = init?.state?.terminated;
  if (initTerm && initTerm.exitCode !== 0) {
    const why = (initTerm.message ?? '').trim().split('\n').filter(Boolean).slice(-3).join('; ');
    const message =
      initTerm.exitCode === DEBUGINFO_UNAVAILABLE_EXIT
        ? why || 'no debuginfo package matches the node kernel'
        : initTerm.exitCode === 137 || initTerm.reason === 'DeadlineExceeded'
          ? `fetching kernel debuginfo/headers did not finish in time (exit ${initTerm.exitCode})${why ? `: ${why}` : ''}`
          : `fetching kernel debuginfo/headers failed (exit ${initTerm.exitCode})${why ? `: ${why}` : ''}`;
    return { state: 'failed', reason: 'DebuginfoUnavailable', message, exitCode: initTerm.exitCode };
  }
  const initWaiting = init?.state?.waiting;
  if (initWaiting?.reason && IMAGE_REASONS.has(initWaiting.reason)) {
    const created = Date.parse(pod?.metadata?.creationTimestamp?.toString() ?? new Date(nowMs).toISOString());
    if (initWaiting.reason === 'ErrImageNeverPull' || initWaiting.reason === 'InvalidImageName' || nowMs - created > pendingTimeoutMs) {
      return { state: 'stuck', reason: 'ImageUnavailable', message: `debuginfo image ${init?.image ?? ''} unavailable on the node: ${initWaiting.reason}: ${initWaiting.message ?? ''}`.trim() };
    }
  }
  const term = pod?.status?.containerStatuses?.find((s) => s.name === 'agent')?.state?.terminated;
  if (complete || (term && term.exitCode === 0)) return { state: 'succeeded' };
  if (term && term.exitCode !== 0) return failedFromTermination(term.exitCode, term.message, term.reason);
  if (failed) {
    const reason = failed.reason === 'DeadlineExceeded' ? 'NodeJobDeadlineExceeded' : 'NodeJobFailed';
    return { state: 'failed', reason, message: `node job ${job.metadata?.name} failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim() };
  }
  if (!pod) {
    const age = nowMs - Date.parse(job.metadata?.creationTimestamp?.toString() ?? new Date(nowMs).toISOString());
    if (age > pendingTimeoutMs) return { state: 'stuck', reason: 'PodStartFailed', message: `node job ${job.metadata?.name} created no pod within ${Math.round(pendingTimeoutMs / 1000)}s` };
    return { state: 'pending', message: 'waiting for the node job pod' };
  }
  const waiting = pod.status?.containerStatuses?.find((s) => s.name === 'agent')?.state?.waiting;
  const created = Date.parse(pod.metadata?.creationTimestamp?.toString() ?? new Date(nowMs).toISOString());
  const tooLong = nowMs - created > pendingTimeoutMs;
  if (waiting?.reason && IMAGE_REASONS.has(waiting.reason)) {
    // A missing image never heals by itself on a registry-less node; fail fast.
    if (waiting.reason === 'ErrImageNeverPull' || waiting.reason === 'InvalidImageName' || tooLong) {
      return { state: 'stuck', reason: 'ImageUnavailable', message: `agent image unavailable on the node: ${waiting.reason}: ${waiting.message ?? ''}`.trim() };
    }
  }
  if (waiting?.reason && START_REASONS.has(waiting.reason) && tooLong) {
    return { state: 'stuck', reason: 'PodStartFailed', message: `agent container cannot start: ${waiting.reason}: ${waiting.message ?? ''}`.trim() };
  }
  const sched = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (sched?.status === 'False' && tooLong) {
    return { state: 'stuck', reason: 'Unschedulable', message: `node job pod cannot be scheduled: ${sched.message ?? sched.reason ?? ''}` };
  }
  if (pod.status?.phase === 'Running') return { state: 'running' };
  if (pod.status?.phase === 'Failed') return failedFromTermination(undefined, undefined, pod.status.reason);
  return { state: 'pending', message: waiting?.reason ? `agent ${waiting.reason}` : `pod ${pod.status?.phase ?? 'Pending'}` };
}

function failedFromTermination(exitCode: number | undefined, terminationMessage: string | undefined, kubeReason: string | undefined): NodeJobVerdict {
  let summary: TerminationSummary | undefined;
  try {
    const parsed = TerminationSummary.safeParse(JSON.parse(terminationMessage ?? ''));
    if (parsed.success) summary = parsed.data;
  } catch {
    summary = undefined;
  }
  const reason = summary?.reason ?? (exitCode !== undefined ? EXIT_REASONS[exitCode] : undefined) ?? (kubeReason === 'OOMKilled' ? 'AgentOOMKilled' : 'TracerFailed');
  const message = summary?.message ?? terminationMessage ?? `agent exited with code ${exitCode ?? 'unknown'}${kubeReason ? ` (${kubeReason})` : ''}`;
  return exitCode === undefined ? { state: 'failed', reason, message } : { state: 'failed', reason, message, exitCode };
}

/** The last message of each kind the agent printed. */
export function latestMessages(messages: readonly AgentMessage[]): Partial<{ [K in AgentMessage['tracejob']]: Extract<AgentMessage, { tracejob: K }> }> {
  const out: Record<string, AgentMessage> = {};
  for (const m of messages) out[m.tracejob] = m;
  return out as Partial<{ [K in AgentMessage['tracejob']]: Extract<AgentMessage, { tracejob: K }> }>;
}
