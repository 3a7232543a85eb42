// Turns the agents' result documents into the result ConfigMap and the
// status summary. Pure: the reconciler writes what this returns.
import type { V1ConfigMap } from '@kubernetes/client-node';
import type { TraceJob } from '../api/tracejob.js';
import type { AgentMessage } from '../agent/protocol.js';
import type { NodeJobVerdict } from './job-status.js';
import { resultConfigMapName, LABELS, MANAGER } from './names.js';
import { API_VERSION, GROUP, KIND } from '../api/tracejob.js';
import { AGENT_CUT_NOTE, fitConfigMap, headline, ResultDocumentSchema, type ResultDocument } from '../results/document.js';
import { renderReport } from '../results/report.js';
import { renderFlameGraph } from '../results/flamegraph.js';
import { mergeDocuments } from '../results/merge.js';

export interface NodeResult {
  node: string;
  job: string;
  verdict: NodeJobVerdict;
  document?: Record<string, unknown>;
  error?: Extract<AgentMessage, { tracejob: 'error' }>;
}

export interface BuiltResult {
  configMap: V1ConfigMap;
  summary: { headline: string; [k: string]: unknown };
  truncated: string[];
  /** Node documents dropped because they did not parse. */
  unparseable: number;
}

export function buildResultConfigMap(tj: TraceJob, results: readonly NodeResult[], nameOverride?: string): BuiltResult {
  // A document that does not parse is dropped with a note rather than failing the run forever.
  const notes: string[] = [];
  const docs: ResultDocument[] = [];
  for (const r of results) {
    const parsed = ResultDocumentSchema.safeParse(r.document);
    if (parsed.success) docs.push(parsed.data);
    else notes.push(`result from node ${r.node} could not be parsed: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  if (docs.length === 0) throw new Error(notes.join('; ') || 'no result documents');
  // One node: its document as is. Several (selector fan-out): merged, per-node kept.
  const merged = docs.length === 1 ? (docs[0] as ResultDocument) : mergeDocuments(docs);
  const doc = notes.length ? { ...merged, notes: [...merged.notes, ...notes] } : merged;
  const files: Record<string, string> = {
    'result.json': JSON.stringify(doc, null, 1),
    'report.txt': renderReport(doc),
  };
  const stacks = (doc as { stacks?: { folded?: string; svg?: string } }).stacks;
  if (stacks?.folded) {
    files['stacks.folded'] = stacks.folded;
    // The flame graph is rendered here, from the (possibly merged) folded stacks.
    files['flamegraph.svg'] = stacks.svg ?? renderFlameGraph(stacks.folded, { title: `${doc.probe}: ${tj.metadata.namespace}/${tj.metadata.name}` });
  }
  const fitted = fitConfigMap(files);
  // What the agents cut to bound their output comes first: it is the larger cut.
  const agentCuts = docs.flatMap((d) => d.notes.filter((n) => n.startsWith(AGENT_CUT_NOTE)).map((n) => (docs.length > 1 && d.node ? `${d.node}: ${n}` : n)));
  const line = headline(doc);
  const configMap: V1ConfigMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: resultConfigMapName(tj.metadata.name, nameOverride),
      namespace: tj.metadata.namespace,
      labels: { [LABELS.managedBy]: MANAGER, [LABELS.uid]: tj.metadata.uid, [LABELS.generation]: String(tj.metadata.generation ?? 1) },
      // Owned by the TraceJob: deleting it garbage-collects the result.
      ownerReferences: [{ apiVersion: API_VERSION, kind: KIND, name: tj.metadata.name, uid: tj.metadata.uid, controller: true, blockOwnerDeletion: false }],
    },
    data: fitted.files,
  };
  const counters = (doc as { counters?: Record<string, number> }).counters ?? {};
  return { configMap, summary: { headline: line, ...(Object.keys(counters).length ? { counters } : {}) }, truncated: [...agentCuts, ...fitted.truncated], unparseable: notes.length };
}

/**
 * May the result ConfigMap be written? `ok` when it is absent or this TraceJob
 * is its controller owner (an earlier generation's result). `wait` when it
 * belongs to a deleted TraceJob of the same name (delete + re-apply): the
 * garbage collector is about to remove it. Anything else belongs to someone
 * else: writing or owning it would let a TraceJob's deletion garbage-collect it.
 */
export type ResultConfigMapVerdict = { kind: 'ok' } | { kind: 'wait' | 'conflict'; message: string };

export function resultConfigMapVerdict(existing: V1ConfigMap | undefined, tj: Pick<TraceJob, 'metadata'>): ResultConfigMapVerdict {
  if (!existing) return { kind: 'ok' };
  const owner = (existing.metadata?.ownerReferences ?? []).find((r) => r.controller === true);
  const name = existing.metadata?.name ?? '';
  const byTraceJob = owner?.kind === KIND && owner.apiVersion.startsWith(`${GROUP}/`);
  if (byTraceJob && owner.uid === tj.metadata.uid && existing.metadata?.labels?.[LABELS.uid] === tj.metadata.uid) return { kind: 'ok' };
  // Only one TraceJob can hold this name in this namespace: one with another uid is gone.
  if (byTraceJob && owner.name === tj.metadata.name && owner.uid !== tj.metadata.uid) {
    return { kind: 'wait', message: `ConfigMap ${tj.metadata.namespace}/${name} still holds the result of a deleted TraceJob of this name; waiting for its garbage collection` };
  }
  return {
    kind: 'conflict',
    message: `ConfigMap ${tj.metadata.namespace}/${name} already exists and was not created by this TraceJob; choose another spec.output.configMapName (or delete that ConfigMap)`,
  };
}

/** The write-time check: only `ok` may be written. */
export function resultConfigMapConflict(existing: V1ConfigMap | undefined, tj: Pick<TraceJob, 'metadata'>): string | undefined {
  const v = resultConfigMapVerdict(existing, tj);
  return v.kind === 'ok' ? undefined : v.message;
}
