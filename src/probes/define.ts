// Helpers shared by the probe modules: a render kit (version-aware field
// access, filter predicates, event printing) and defineProbe, which wires a
// declarative ShapeSpec into ProbeDefinition.shape.
import type { z } from 'zod';
import type { CatalogProbeName } from '../api/probe-names.js';
import { FilterError, and, argsAccessor, clause, netnsPredicate, processPredicate, skbDevNetnsExpr, sockNetnsExpr } from './filter.js';
import { EVENT_PREFIX, shapeFromSpec, type EventSpec, type ShapeSpec } from './shape.js';
import type { Backend, NodeCapabilities, ProbeDefinition, RenderContext, ShapedResult } from './types.js';

export interface Kit<P> {
  ctx: RenderContext<P>;
  /** Tracepoint field access for this bpftrace version: `args->f` or `args.f`. */
  a: (field: string) => string;
  /** The process-context target predicate (parenthesised) or undefined in node mode. */
  target: string | undefined;
  /** Netns predicate on a socket pointer expression (softirq-context events). */
  sockNetns: (sockPtrExpr: string) => string | undefined;
  /** Netns predicate on an skb's device (packets without a socket). */
  skbNetns: (skbPtrExpr: string) => string | undefined;
  /** `if (@events < max) { printf(...); @events++; }` for an event line. */
  emit: (spec: EventSpec, exprs: string[], indent?: string) => string[];
  maxEvents: number;
}

export function kit<P>(ctx: RenderContext<P>): Kit<P> {
  const maxEvents = Math.max(0, Math.min(100000, Math.floor(ctx.maxEvents)));
  if (!Number.isFinite(maxEvents)) throw new FilterError('maxEvents must be a finite number');
  return {
    ctx,
    a: argsAccessor(ctx.caps),
    target: processPredicate(ctx.filter),
    sockNetns: (e) => netnsPredicate(ctx.filter, sockNetnsExpr(e)),
    skbNetns: (e) => netnsPredicate(ctx.filter, skbDevNetnsExpr(e)),
    maxEvents,
    emit: (spec, exprs, indent = '  ') => {
      if (exprs.length !== spec.fields.length) throw new Error(`event ${spec.kind}: ${exprs.length} values for ${spec.fields.length} fields`);
      const fmt = [EVENT_PREFIX, spec.kind, ...spec.fields.map((f) => (f.type === 'n' ? '%d' : '%s'))].join('\\t');
      return [
        `${indent}if (@events < ${maxEvents}) {`,
        `${indent}  printf("${fmt}\\n", ${exprs.join(', ')});`,
        `${indent}  @events++;`,
        `${indent}}`,
      ];
    },
  };
}

/** One probe block: attach points, optional predicate, body lines (already indented by two). */
export function block(attach: string | string[], pred: string | undefined, body: string[]): string {
  const a = Array.isArray(attach) ? attach.join(',\n') : attach;
  return `${a}\n${pred === undefined ? '' : `${clause(pred).trim()}\n`}{\n${body.join('\n')}\n}`;
}

/** Body lines (unindented) inside `if (cond) { … }` when cond is given, else as they are; indented by two. */
export function wrap(cond: string | undefined, lines: string[]): string[] {
  if (cond === undefined) return lines.map((l) => `  ${l}`);
  return [`  if (${cond}) {`, ...lines.map((l) => `    ${l}`), '  }'];
}

/** END block that drops scratch maps so only result maps are printed. */
export function endBlock(scratch: string[]): string {
  return scratch.length === 0 ? '' : `END\n{\n${scratch.map((m) => `  clear(${m});`).join('\n')}\n}`;
}

export function program(name: string, ctx: RenderContext<unknown>, blocks: string[]): string {
  const v = (ctx.caps.bpftrace?.version ?? 'unknown').replace(/^bpftrace\s*/, '');
  const head = `// tracejob probe ${name} (filter: ${ctx.filter.mode}, bpftrace ${v.replace(/[^0-9A-Za-z.+-]/g, '')})`;
  return `${[head, ...blocks.filter((b) => b !== '')].join('\n\n')}\n`;
}

export { and };

export interface ProbeSpec<S extends z.ZodType> {
  name: CatalogProbeName;
  summary: string;
  covers: string;
  scope: ProbeDefinition['scope'];
  backends?: Backend[];
  params: S;
  hooks: string[];
  unsupported?: (caps: NodeCapabilities, params: z.output<S>) => string | undefined;
  render: (k: Kit<z.output<S>>) => string[];
  shape: ShapeSpec;
  /** Extra shaping after the declarative part (notes, derived counters, stacks). */
  post?: (r: ShapedResult, parsed: unknown, ctx: RenderContext<z.output<S>>) => void;
  /** Extra notes on the result, e.g. what a tracepoint-only node cannot see. */
  notes?: (ctx: RenderContext<z.output<S>>) => string[];
}

export function tracepointsMissing(caps: NodeCapabilities, tps: string[]): string | undefined {
  if (!caps.tracefs) return 'tracefs';
  if (!caps.tracepoints) return undefined;
  const missing = tps.filter((t) => !caps.tracepoints?.has(t));
  return missing.length > 0 ? `tracepoint ${missing.join(', ')}` : undefined;
}

export function defineProbe<S extends z.ZodType>(spec: ProbeSpec<S>): ProbeDefinition<z.output<S>> {
  type P = z.output<S>;
  return {
    name: spec.name,
    summary: spec.summary,
    covers: spec.covers,
    scope: spec.scope,
    backends: spec.backends ?? ['bpftrace'],
    params: spec.params as unknown as z.ZodType<P>,
    hooks: spec.hooks,
    unsupported: (caps, params) => spec.unsupported?.(caps, params),
    renderBpftrace: (ctx: RenderContext<P>) => {
      if (spec.scope === 'node' && ctx.filter.mode !== 'node') {
        throw new FilterError(`probe ${spec.name} is node-wide only; it needs a node target`);
      }
      return program(spec.name, ctx as RenderContext<unknown>, spec.render(kit(ctx)));
    },
    shape: (parsed: unknown, ctx: RenderContext<P>) => {
      const r = shapeFromSpec(spec.shape, parsed, ctx);
      spec.post?.(r, parsed, ctx);
      const h = spec.shape.headline?.(r);
      if (h) r.headline = h;
      r.notes.push(...(spec.notes?.(ctx) ?? []));
      return r;
    },
  };
}
