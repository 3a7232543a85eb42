// The agent's only contact with the probe catalog and the results package, so
// their APIs can move without touching the flow in main.ts.
import { getProbe as catalogGetProbe, validateParams as catalogValidateParams } from '../probes/catalog.js';
import { renderCustomProgram, shapeCustom } from '../probes/custom.js';
import { parseKfreeSkbReasons } from '../probes/kfree-skb-reasons.js';
import type { ProbeDefinition, RenderContext, ShapedResult } from '../probes/types.js';
import { createParser, type TraceParser } from '../results/bpftrace-json.js';
import { createStapParser } from '../results/stap-hist.js';
import {
  buildResultDocument,
  headline as documentHeadline,
  parseResultDocument,
  type DocTarget,
  type ResultDocument,
} from '../results/document.js';
import type { ParsedTrace } from '../results/types.js';
import type { ResolvedTarget } from './protocol.js';

export { renderCustomProgram, shapeCustom, parseKfreeSkbReasons, createParser, createStapParser, type TraceParser, type ParsedTrace };

export function getProbe(name: string): ProbeDefinition<unknown> | undefined {
  return catalogGetProbe(name) as ProbeDefinition<unknown> | undefined;
}

export type ParamsResult = { ok: true; value: unknown } | { ok: false; error: string };

export function validateParams(name: string, params: unknown): ParamsResult {
  const r = catalogValidateParams(name, params);
  if (r.ok) return { ok: true, value: r.value };
  return { ok: false, error: `invalid params for probe ${name}: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}` };
}

/** Runs the probe's shaper (or the generic one for custom programs) on the parsed trace. */
export function shapeResult(probe: ProbeDefinition<unknown> | undefined, parsed: ParsedTrace, ctx: RenderContext<unknown>): ShapedResult {
  return probe ? probe.shape(parsed, ctx) : shapeCustom(parsed, ctx);
}

export interface DocumentInput {
  nodeName: string;
  probeType: string;
  tracer: { name: string; version: string };
  filterMode: string;
  targets: ResolvedTarget[];
  /** When tracing started (attach) and stopped. */
  startedAt: string;
  finishedAt: string;
  partial: boolean;
  notes: string[];
  topN: number;
  maxEvents: number;
  shaped: ShapedResult;
  parsed: ParsedTrace;
}

export function docTargets(targets: ResolvedTarget[], nodeName: string, filterMode: string): DocTarget[] {
  if (targets.length === 0) return [{ kind: 'node', name: nodeName, node: nodeName, filter: filterMode }];
  return targets.map((t) => ({ kind: 'pod', name: t.pod, node: nodeName, filter: filterMode, ...t }));
}

/**
 * The result document: src/results' generic build (metadata, lost events, tracer
 * messages, dropped events) with the probe's shaped content in place of the raw
 * map dump, normalised through the document schema.
 */
export function buildDocument(input: DocumentInput): { document: ResultDocument; headline: string } {
  const s = input.shaped;
  const base = buildResultDocument(input.parsed, {
    probe: input.probeType,
    tracer: input.tracer,
    targets: docTargets(input.targets, input.nodeName, input.filterMode),
    node: input.nodeName,
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    partial: input.partial,
    notes: input.notes,
    topN: input.topN,
    maxEvents: input.maxEvents,
    ...(s.headline !== undefined ? { headline: s.headline } : {}),
  });
  const document = parseResultDocument({
    ...base,
    histograms: s.histograms,
    tables: s.tables,
    events: s.events,
    counters: s.counters,
    stacks: s.stacks ?? base.stacks,
    notes: [...base.notes, ...s.notes],
  });
  return { document, headline: documentHeadline(document) };
}
