// Node jobs whose TraceJob is gone. Owner references cannot cross namespaces,
// so the finalizer is what normally removes a TraceJob's node jobs; a tenant
// who strips the finalizer and deletes the TraceJob would otherwise leave a
// privileged job running to its deadline. The sweep finds such jobs among the
// operator's own (its Job cache) and deletes them — but only after a live GET
// confirms the TraceJob is really gone: a lagging cache must never kill a
// healthy run.
import type { Logger } from 'pino';
import { ANNOTATIONS, LABELS, parseOwnerAnnotation } from './names.js';

/** The parts of a Job (or a TraceJob) the sweep reads; client-node's V1Job and the raw cache objects fit. */
export interface SweptObject {
  metadata?: {
    name?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: Date | string;
  };
}

export type OrphanReason = 'TraceJobGone' | 'UidMismatch' | 'NoOwner';

export type JobVerdict =
  | { kind: 'owned' }
  /** Already being deleted: nothing to do. */
  | { kind: 'deleting' }
  /** The cache says its TraceJob is gone or another one: confirm with a live read. */
  | { kind: 'suspect'; owner: { namespace: string; name: string }; uid: string; reason: Exclude<OrphanReason, 'NoOwner'> }
  /** Names no TraceJob at all: nothing could ever claim it. */
  | { kind: 'orphan'; reason: 'NoOwner' };

/** What the cache says about one of the operator's jobs (node or preflight). */
export function classifyNodeJob(job: SweptObject, cachedTraceJob: (namespace: string, name: string) => SweptObject | undefined): JobVerdict {
  if (job.metadata?.deletionTimestamp) return { kind: 'deleting' };
  const owner = parseOwnerAnnotation(job.metadata?.annotations?.[ANNOTATIONS.owner]);
  const uid = job.metadata?.labels?.[LABELS.uid];
  if (!owner || !uid) return { kind: 'orphan', reason: 'NoOwner' };
  const tj = cachedTraceJob(owner.namespace, owner.name);
  if (!tj) return { kind: 'suspect', owner, uid, reason: 'TraceJobGone' };
  if (tj.metadata?.uid !== uid) return { kind: 'suspect', owner, uid, reason: 'UidMismatch' };
  return { kind: 'owned' };
}

/** The live read decides: the job is an orphan when its TraceJob is absent or has another uid (deleted and re-created). */
export function confirmedOrphan(uid: string, live: SweptObject | undefined): boolean {
  return !live || live.metadata?.uid !== uid;
}

export interface OrphanSweepDeps {
  /** The operator's jobs (label app.kubernetes.io/managed-by=tracejob-operator), from the Job cache. */
  listJobs(): readonly SweptObject[];
  cachedTraceJob(namespace: string, name: string): SweptObject | undefined;
  /** A GET past the cache; undefined when the TraceJob does not exist. */
  liveTraceJob(namespace: string, name: string): Promise<SweptObject | undefined>;
  deleteJob(name: string): Promise<void>;
  log: Logger;
  onDeleted?(reason: OrphanReason): void;
}

export class OrphanSweeper {
  constructor(private readonly deps: OrphanSweepDeps) {}

  /** One pass over the operator's jobs; returns the names of the jobs deleted. */
  async sweep(): Promise<string[]> {
    const { log } = this.deps;
    const deleted: string[] = [];
    for (const job of this.deps.listJobs()) {
      const name = job.metadata?.name;
      if (!name) continue;
      const verdict = classifyNodeJob(job, (ns, n) => this.deps.cachedTraceJob(ns, n));
      if (verdict.kind === 'owned' || verdict.kind === 'deleting') continue;
      try {
        if (verdict.kind === 'suspect' && !confirmedOrphan(verdict.uid, await this.deps.liveTraceJob(verdict.owner.namespace, verdict.owner.name))) continue;
        await this.deps.deleteJob(name);
      } catch (err) {
        // The next pass tries again; one failing job must not stop the others.
        log.warn({ job: name, err: (err as Error).message }, 'Orphan sweep could not check or delete a job');
        continue;
      }
      deleted.push(name);
      this.deps.onDeleted?.(verdict.reason);
      const owner = verdict.kind === 'suspect' ? `${verdict.owner.namespace}/${verdict.owner.name}` : undefined;
      log.info({ job: name, owner, reason: verdict.reason }, 'Deleted node Job whose TraceJob is gone');
    }
    return deleted;
  }
}
