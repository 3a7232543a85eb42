/**
 * The normalised result document (`result.json` in the result ConfigMap), how to
 * build it from parsed tracer output, its one-line headline, and fitting the
 * ConfigMap's files under the size limit.
 *
 * Schema `tracejob.dev/result/v1` (zod, below). Leniency on input, one shape on
 * output: `parseResultDocument` also accepts histogram `total` for `count`,
 * `null` bucket bounds for "open", tables without `totalRows`/`truncated`, and
 * fills in missing percentiles from the buckets.
 */
import { z } from 'zod';
import type { ParsedTrace, StackEntry, TracerMessage } from './types.js';
import { formatValue, guessUnit, summarize, type Unit } from './histogram.js';
import { topN } from './topn.js';
import { printable } from './safe-text.js';
import { foldStacks, formatFolded, renderFlameGraph, shrinkFlameGraph, totalSamples, type FlameGraphOptions, parseFolded } from './flamegraph.js';

export const RESULT_API_VERSION = 'tracejob.dev/result/v1';

/** ConfigMaps are capped at 1 MiB including metadata; keep the data well below. */
export const DEFAULT_CONFIGMAP_LIMIT = 900 * 1024;

const nullableBound = z
  .number()
  .nullish()
  .transform((v) => (v === null ? undefined : v));

export const BucketSchema = z
  .object({ min: nullableBound, max: nullableBound, count: z.number() })
  .transform((b) => {
    const out: { min?: number; max?: number; count: number } = {} as { count: number };
    if (b.min !== undefined) out.min = b.min;
    if (b.max !== undefined) out.max = b.max;
    out.count = b.count;
    return out;
  });

export const HistogramSchema = z.preprocess(
  (v) => {
    // Accept `total` (older shapers) for `count`.
    if (v && typeof v === 'object' && !('count' in v) && 'total' in v) {
      const { total, ...rest } = v as Record<string, unknown>;
      return { ...rest, count: total };
    }
    return v;
  },
  z
    .object({
      name: z.string(),
      /** 'us' | 'ns' | 'ms' | 's' | 'bytes' | 'count' (free text accepted). */
      unit: z.string().default('count'),
      /** For keyed histograms: the key (parts joined with ","). */
      key: z.string().optional(),
      buckets: z.array(BucketSchema),
      count: z.number(),
      p50: z.number().optional(),
      p90: z.number().optional(),
      p99: z.number().optional(),
      mean: z.number().optional(),
      /** Inclusive upper bound of the highest non-empty bucket (overflow: its lower bound). */
      max: z.number().optional(),
      underflow: z.number().optional(),
      overflow: z.number().optional(),
    })
    .transform((h) => {
      if (h.count > 0 && (h.p50 === undefined || h.p90 === undefined || h.p99 === undefined)) {
        const s = summarize(h.buckets);
        h.p50 ??= s.p50;
        h.p90 ??= s.p90;
        h.p99 ??= s.p99;
      }
      return h;
    }),
);

const Cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const TableSchema = z
  .object({
    name: z.string(),
    columns: z.array(z.string()),
    rows: z.array(z.array(Cell)),
    /** Rows before capping to top-N. */
    totalRows: z.number().int().optional(),
    truncated: z.boolean().default(false),
    /** Sum of the value column over the rows not shown (top-N "others"). The value column is `count` when there is one, else the last numeric column. */
    others: z.number().optional(),
    /** Sum of the value column over all rows. */
    total: z.number().optional(),
  })
  .transform((t) => ({ ...t, totalRows: t.totalRows ?? t.rows.length }));

export const EventSchema = z.record(z.string(), Cell);

export const TargetSchema = z.looseObject({
  kind: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  pod: z.string().optional(),
  container: z.string().optional(),
  node: z.string().optional(),
});

export const ResultDocumentSchema = z.object({
  apiVersion: z.literal(RESULT_API_VERSION).default(RESULT_API_VERSION),
  probe: z.string(),
  tracer: z.object({ name: z.string(), version: z.string() }),
  /** The node that produced this document (absent on a merged document). */
  node: z.string().optional(),
  targets: z.array(TargetSchema).default([]),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationSeconds: z.number(),
  /** The trace did not run to its end (killed, timed out, node lost …). */
  partial: z.boolean().default(false),
  notes: z.array(z.string()).default([]),
  /** A probe-chosen one-liner; `headline()` prefers it. */
  headline: z.string().optional(),
  histograms: z.array(HistogramSchema).default([]),
  tables: z.array(TableSchema).default([]),
  events: z.array(EventSchema).default([]),
  /** Events seen but not kept (maxEvents, or dropped to fit the ConfigMap). */
  eventsDropped: z.number().int().default(0),
  stacks: z.object({ folded: z.string(), samples: z.number(), svg: z.string().optional() }).optional(),
  counters: z.record(z.string(), z.number()).default({}),
  lostEvents: z.number().default(0),
  /** Per-node summaries on a merged (fan-out) document. */
  perNode: z
    .array(
      z.object({
        node: z.string().optional(),
        headline: z.string(),
        partial: z.boolean(),
        lostEvents: z.number(),
        counters: z.record(z.string(), z.number()).default({}),
      }),
    )
    .optional(),
  /** Raw tracer output, kept only while it fits. */
  raw: z.unknown().optional(),
});

export type ResultDocument = z.output<typeof ResultDocumentSchema>;
export type ResultDocumentInput = z.input<typeof ResultDocumentSchema>;
export type DocHistogram = ResultDocument['histograms'][number];
export type DocTable = ResultDocument['tables'][number];
export type DocEvent = ResultDocument['events'][number];
export type DocTarget = ResultDocument['targets'][number];

/** Validates and normalises a document (throws a ZodError when it is not one). */
export function parseResultDocument(input: unknown): ResultDocument {
  return ResultDocumentSchema.parse(input);
}

/**
 * Like {@link parseResultDocument} but never throws: fields that do not validate
 * are replaced by empty defaults (for rendering documents of unknown quality,
 * e.g. straight from an agent's log).
 */
export function normalizeDocument(input: unknown): ResultDocument {
  const ok = ResultDocumentSchema.safeParse(input);
  if (ok.success) return ok.data;
  const r = input && typeof input === 'object' ? (input as Record<string, unknown>) : {};
  const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
  const tracer = r['tracer'] && typeof r['tracer'] === 'object' ? (r['tracer'] as Record<string, unknown>) : {};
  const arr = <T>(schema: z.ZodType<T>, v: unknown): T[] => {
    if (!Array.isArray(v)) return [];
    const out: T[] = [];
    for (const x of v) {
      const p = schema.safeParse(x);
      if (p.success) out.push(p.data);
    }
    return out;
  };
  const doc: ResultDocument = {
    apiVersion: RESULT_API_VERSION,
    probe: str(r['probe'], 'unknown'),
    tracer: { name: str(tracer['name'], 'unknown'), version: str(tracer['version'], '') },
    targets: arr(TargetSchema, r['targets']),
    startedAt: str(r['startedAt'], ''),
    finishedAt: str(r['finishedAt'], ''),
    durationSeconds: typeof r['durationSeconds'] === 'number' ? r['durationSeconds'] : 0,
    partial: r['partial'] === true,
    notes: Array.isArray(r['notes']) ? r['notes'].filter((n): n is string => typeof n === 'string') : [],
    histograms: arr(HistogramSchema, r['histograms']),
    tables: arr(TableSchema, r['tables']),
    events: arr(EventSchema, r['events']),
    eventsDropped: typeof r['eventsDropped'] === 'number' ? r['eventsDropped'] : 0,
    counters: {},
    lostEvents: typeof r['lostEvents'] === 'number' ? r['lostEvents'] : 0,
  };
  const counters = r['counters'];
  if (counters && typeof counters === 'object') {
    for (const [k, v] of Object.entries(counters)) if (typeof v === 'number') doc.counters[k] = v;
  }
  if (typeof r['node'] === 'string') doc.node = r['node'];
  if (typeof r['headline'] === 'string') doc.headline = r['headline'];
  const stacks = r['stacks'];
  if (stacks && typeof stacks === 'object') {
    const st = stacks as Record<string, unknown>;
    if (typeof st['folded'] === 'string') {
      doc.stacks = { folded: st['folded'], samples: typeof st['samples'] === 'number' ? st['samples'] : 0 };
      if (typeof st['svg'] === 'string') doc.stacks.svg = st['svg'];
    }
  }
  doc.notes.push('result document did not fully validate; invalid parts were left out');
  return doc;
}

/** A document histogram with count, percentiles, mean and max computed from the buckets. */
export function histogramOf(name: string, unit: string, buckets: ReadonlyArray<{ min?: number; max?: number; count: number }>, key?: string): DocHistogram {
  const s = summarize(buckets);
  const h: DocHistogram = { name, unit, buckets: buckets.map((b) => ({ ...b })), count: s.count };
  if (key !== undefined) h.key = key;
  if (s.p50 !== undefined) h.p50 = s.p50;
  if (s.p90 !== undefined) h.p90 = s.p90;
  if (s.p99 !== undefined) h.p99 = s.p99;
  if (s.mean !== undefined) h.mean = s.mean;
  if (s.max !== undefined) h.max = s.max;
  if (s.underflow) h.underflow = s.underflow;
  if (s.overflow) h.overflow = s.overflow;
  return h;
}

// ---------------------------------------------------------------------------
// Building from parsed output

export interface BuildOptions {
  probe: string;
  tracer: { name: string; version: string };
  targets?: DocTarget[];
  node?: string;
  startedAt: string | Date;
  finishedAt: string | Date;
  partial?: boolean;
  notes?: string[];
  headline?: string;
  /** Unit per map name (`@usecs` → 'us'); default: guessed from the name. */
  units?: Record<string, Unit | string>;
  /** Column names per map: key columns then the value column(s). */
  columns?: Record<string, string[]>;
  /** Rows per table (default 20). */
  topN?: number;
  /** Events kept (default 1000). */
  maxEvents?: number;
  /** Turns one printf line into an event (undefined: not an event). Default: `{ line }`. */
  parseEvent?: (line: string) => DocEvent | undefined;
  /** Also render the flame graph SVG into `stacks.svg`. */
  flamegraph?: boolean | FlameGraphOptions;
  /** Raw output to keep in `raw` (dropped first when the ConfigMap is too big). */
  raw?: unknown;
  /** Notes from tracer messages (default 20). */
  maxMessageNotes?: number;
}

const iso = (d: string | Date): string => (typeof d === 'string' ? d : d.toISOString());
const mapLabel = (name: string): string => name.replace(/^@/, '') || 'value';

/** printf record texts → lines: concatenated, split on newlines, trailing empty line dropped. */
export function printfLines(printf: readonly string[]): string[] {
  const out: string[] = [];
  let carry = '';
  for (const p of printf) {
    const parts = (carry + p).split('\n');
    carry = parts.pop() ?? '';
    for (const l of parts) out.push(l);
  }
  if (carry) out.push(carry);
  return out;
}

function messageNote(m: TracerMessage): string {
  const where = m.line !== undefined ? ` (script line ${m.line}${m.col !== undefined ? `:${m.col}` : ''})` : '';
  const times = m.count > 1 ? ` x${m.count}` : '';
  const label = m.kind === 'parse' ? `unreadable output line ${m.firstLine}` : m.kind.replace('_', ' ');
  return `${label}: ${m.message}${where}${times}`;
}

/** Turns a parsed trace into a result document. Pure. */
export function buildResultDocument(parsed: ParsedTrace, o: BuildOptions): ResultDocument {
  const topNCount = o.topN ?? 20;
  const maxEvents = o.maxEvents ?? 1000;
  const started = iso(o.startedAt);
  const finished = iso(o.finishedAt);
  const durationSeconds = Math.max(0, (Date.parse(finished) - Date.parse(started)) / 1000) || 0;
  const doc: ResultDocument = {
    apiVersion: RESULT_API_VERSION,
    probe: o.probe,
    tracer: { ...o.tracer },
    targets: o.targets ?? [],
    startedAt: started,
    finishedAt: finished,
    durationSeconds,
    partial: o.partial ?? false,
    notes: [...(o.notes ?? [])],
    histograms: [],
    tables: [],
    events: [],
    eventsDropped: 0,
    counters: {},
    lostEvents: parsed.lostEvents,
  };
  if (o.node !== undefined) doc.node = o.node;
  if (o.headline !== undefined) doc.headline = o.headline;

  const stackEntries: StackEntry[] = [];
  for (const name of Object.keys(parsed.maps).sort()) {
    const v = parsed.maps[name];
    if (!v) continue;
    const label = mapLabel(name);
    const unit = o.units?.[name] ?? guessUnit(name);
    const cols = o.columns?.[name];
    switch (v.kind) {
      case 'scalar':
        doc.counters[label] = v.value;
        break;
      case 'stats':
        if (v.count !== undefined) doc.counters[`${label}.count`] = v.count;
        doc.counters[`${label}.avg`] = v.average;
        if (v.total !== undefined) doc.counters[`${label}.total`] = v.total;
        break;
      case 'hist':
        doc.histograms.push(histogramOf(label, unit, v.buckets));
        break;
      case 'keyedHist': {
        const hs = v.hists
          .map((h) => histogramOf(label, unit, h.buckets, h.key.join(',')))
          .sort((a, b) => b.count - a.count || ((a.key ?? '') < (b.key ?? '') ? -1 : 1));
        doc.histograms.push(...hs);
        break;
      }
      case 'keyed': {
        const t = topN(v.entries, topNCount);
        const arity = v.entries[0]?.key.length ?? 1;
        const columns = cols ?? [...keyColumns(arity), 'value'];
        doc.tables.push({
          name: label,
          columns,
          rows: t.rows.map((r) => [...r.key, r.value]),
          totalRows: t.totalRows,
          truncated: t.truncated,
          others: t.others,
          total: t.total,
        });
        break;
      }
      case 'keyedStats': {
        const sorted = [...v.entries].sort((a, b) => (b.total ?? b.average) - (a.total ?? a.average) || cmpKey(a.key, b.key));
        const arity = sorted[0]?.key.length ?? 1;
        const rows = sorted.slice(0, topNCount > 0 ? topNCount : undefined);
        const full = v.entries.some((e) => e.count !== undefined);
        const table: DocTable = {
          name: label,
          columns: cols ?? [...keyColumns(arity), ...(full ? ['count', 'average', 'total'] : ['average'])],
          rows: rows.map((e) => (full ? [...e.key, e.count ?? null, e.average, e.total ?? null] : [...e.key, e.average])),
          totalRows: sorted.length,
          truncated: rows.length < sorted.length,
        };
        if (full) {
          // total/others of the `count` column (what a headline sums).
          table.total = sorted.reduce((a, e) => a + (e.count ?? 0), 0);
          table.others = sorted.slice(rows.length).reduce((a, e) => a + (e.count ?? 0), 0);
        }
        doc.tables.push(table);
        break;
      }
      case 'stack':
        stackEntries.push(...v.entries);
        break;
      case 'tseries': {
        const rows = v.series.flatMap((s) => s.points.map((p) => [s.key.join(','), p.intervalStart, p.value] as Array<string | number>));
        doc.tables.push({ name: label, columns: cols ?? ['key', 'interval_start', 'value'], rows, totalRows: rows.length, truncated: false });
        break;
      }
      case 'other': {
        const arity = v.entries[0]?.key.length ?? 0;
        const all = v.entries.map((e) => [...e.key, typeof e.value === 'string' || typeof e.value === 'number' ? e.value : JSON.stringify(e.value)]);
        const rows = topNCount > 0 ? all.slice(0, topNCount) : all;
        doc.tables.push({
          name: label,
          columns: cols ?? [...keyColumns(arity), 'value'],
          rows,
          totalRows: all.length,
          truncated: rows.length < all.length,
        });
        break;
      }
    }
  }

  if (stackEntries.length > 0) {
    // Non-stack key parts (`@[ustack, comm]`) become root frames: one tower per comm.
    const folded = foldStacks(stackEntries, { keyAsRoot: true });
    doc.stacks = { folded: formatFolded(folded), samples: totalSamples(folded) };
    if (o.flamegraph) {
      const fo = typeof o.flamegraph === 'object' ? o.flamegraph : {};
      doc.stacks.svg = renderFlameGraph(folded, { title: `${o.probe} flame graph`, ...fo });
    }
  }

  const lines = printfLines(parsed.printf);
  const parse = o.parseEvent ?? ((line: string) => ({ line }));
  let seen = 0;
  for (const line of lines) {
    const ev = parse(line);
    if (!ev) continue;
    seen++;
    if (doc.events.length < maxEvents) doc.events.push(ev);
  }
  doc.eventsDropped = seen - doc.events.length + parsed.printfDropped;

  if (parsed.lostEvents > 0) doc.notes.push(`${parsed.lostEvents} events lost (perf buffer full): counts are lower bounds`);
  if (doc.eventsDropped > 0) doc.notes.push(`${doc.eventsDropped} events not kept (limit ${maxEvents})`);
  const maxNotes = o.maxMessageNotes ?? 20;
  const messages = [...parsed.errors, ...parsed.warnings];
  for (const m of messages.slice(0, maxNotes)) doc.notes.push(messageNote(m));
  if (messages.length > maxNotes) doc.notes.push(`${messages.length - maxNotes} more tracer messages not shown`);
  if (parsed.snapshotsDropped > 0) doc.notes.push(`${parsed.snapshotsDropped} early interval snapshots not kept`);
  if (o.raw !== undefined) doc.raw = o.raw;
  return doc;
}

function keyColumns(arity: number): string[] {
  if (arity <= 0) return [];
  if (arity === 1) return ['key'];
  return Array.from({ length: arity }, (_, i) => `key${i + 1}`);
}

function cmpKey(a: readonly string[], b: readonly string[]): number {
  const x = a.join('\u0000');
  const y = b.join('\u0000');
  return x < y ? -1 : x > y ? 1 : 0;
}

// ---------------------------------------------------------------------------
// Headline

export const HEADLINE_MAX = 60;

function clip(s: string, max = HEADLINE_MAX): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}

/** The column a headline sums: `count` when the table has one, else the last numeric column. */
function tableValueIndex(t: DocTable): number {
  const first = t.rows[0];
  if (!first) return -1;
  const c = t.columns.findIndex((name, i) => /^count$/i.test(name) && typeof first[i] === 'number');
  if (c >= 0) return c;
  for (let i = first.length - 1; i >= 0; i--) if (typeof first[i] === 'number') return i;
  return -1;
}

/**
 * A one-liner (≤ 60 chars) for status.summary: the probe's own headline when it
 * set one; else from the first non-empty histogram (`n=1203 p99=3.2ms`), the
 * first table (`42 execs, top: curl(30)`), the events, or the counters.
 * Escaped with `printable()`: `kubectl get` shows it as the Result column.
 */
export function headline(input: ResultDocument | ResultDocumentInput): string {
  const doc = normalizeDocument(input);
  if (doc.headline) return clip(printable(doc.headline));
  let line: string | undefined;
  const h = (doc.histograms ?? []).find((x) => x.count > 0);
  if (h) {
    // Keyed histograms of one name are summarised together.
    const same = (doc.histograms ?? []).filter((x) => x.name === h.name);
    const buckets = same.length > 1 ? same.flatMap((x) => x.buckets) : h.buckets;
    const s = same.length > 1 ? summarizeLoose(buckets) : { count: h.count, p99: h.p99 };
    line = `n=${s.count}${s.p99 !== undefined ? ` p99=${formatValue(s.p99, h.unit)}` : ''}`;
  }
  if (!line) {
    // A table of averages has no meaningful total: prefer count/sum tables.
    const t = (doc.tables ?? []).find((x) => x.rows.length > 0 && !/^(avg|average|mean)$/i.test(x.columns[tableValueIndex(x)] ?? ''));
    if (t) {
      const vi = tableValueIndex(t);
      const first = t.rows[0] ?? [];
      if (vi >= 0) {
        const summed = t.rows.reduce((a, r) => a + (typeof r[vi] === 'number' ? (r[vi] as number) : 0), 0) + (t.others ?? 0);
        const total = t.total ?? summed;
        const key = printable(first.filter((c) => typeof c === 'string').join(' ')) || '-';
        const name = printable(t.name);
        line = `${total} ${name}, top: ${key}(${String(first[vi])})`;
        if (line.length > HEADLINE_MAX) {
          const room = HEADLINE_MAX - `${total} ${name}, top: (${String(first[vi])})`.length;
          if (room >= 4) line = `${total} ${name}, top: ${clip(key, room)}(${String(first[vi])})`;
        }
      } else {
        line = `${t.totalRows} ${printable(t.name)}`;
      }
    }
  }
  if (!line && doc.stacks && doc.stacks.samples > 0) {
    // The hottest leaf (self samples), e.g. `394 samples, top: vfs_read(51)`.
    const self = new Map<string, number>();
    for (const s of parseFolded(doc.stacks.folded)) {
      const leaf = printable(s.frames[s.frames.length - 1] ?? '?');
      self.set(leaf, (self.get(leaf) ?? 0) + s.count);
    }
    const top = [...self.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0];
    line = `${doc.stacks.samples} samples`;
    if (top) {
      const room = HEADLINE_MAX - `${line}, top: (${top[1]})`.length;
      if (room >= 4) line += `, top: ${clip(top[0], room)}(${top[1]})`;
    }
  }
  if (!line) {
    const n = (doc.events ?? []).length + (doc.eventsDropped ?? 0);
    if (n > 0) line = `${n} events`;
  }
  if (!line) {
    const parts = Object.keys(doc.counters ?? {})
      .sort()
      .map((k) => `${k}=${doc.counters[k]}`);
    if (parts.length) line = parts.join(' ');
  }
  line ??= 'no data';
  if (doc.lostEvents && `${line} lost=${doc.lostEvents}`.length <= HEADLINE_MAX) line += ` lost=${doc.lostEvents}`;
  if (doc.partial && `${line} (partial)`.length <= HEADLINE_MAX) line += ' (partial)';
  return clip(printable(line));
}

function summarizeLoose(buckets: Array<{ min?: number; max?: number; count: number }>): { count: number; p99?: number } {
  // Same-layout keyed histograms: sum equal buckets, keep order by lower edge.
  const by = new Map<string, { min?: number; max?: number; count: number }>();
  for (const b of buckets) {
    const k = `${b.min ?? ''}:${b.max ?? ''}`;
    const cur = by.get(k);
    if (cur) cur.count += b.count;
    else by.set(k, { ...b });
  }
  const merged = [...by.values()].sort((a, b) => (a.min ?? -Infinity) - (b.min ?? -Infinity));
  const s = summarize(merged);
  return s.p99 === undefined ? { count: s.count } : { count: s.count, p99: s.p99 };
}

// ---------------------------------------------------------------------------
// Fitting the ConfigMap

export interface FitResult {
  files: Record<string, string>;
  /** What was cut, in order, for status/notes. Empty when everything fit. */
  truncated: string[];
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

function filesSize(files: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(files)) n += bytes(k) + bytes(v);
  return n;
}

/** Largest n in [lo, hi] with ok(n) (ok monotone: true then false); lo - 1 when none. */
function largest(lo: number, hi: number, ok: (n: number) => boolean): number {
  let best = lo - 1;
  while (lo <= hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (ok(mid)) {
      best = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return best;
}

const NOTE_RESERVE = 1024;

/** What the first, gentle round keeps at least (the second round goes to zero). */
export const FIT_FLOORS = { events: 100, tableRows: 20, foldedStacks: 200, reportLines: 200 } as const;

/**
 * Makes the ConfigMap data fit `limitBytes` (keys + values, UTF-8), cutting only
 * as much as needed, in this order: (1) `raw` from result.json; (2) events;
 * (3) table rows (every table to the same top-k); (4) the flame graph: the SVG
 * copy inside result.json, then the narrowest frames of `*.svg` files; (5) the
 * lightest folded stacks (`*.folded` and result.json's copy); (6) the tail of
 * `report.txt`. Steps 2–6 run twice: first down to {@link FIT_FLOORS} (so a
 * big report does not wipe out every event), then down to nothing (an SVG that
 * cannot fit is dropped). Then (7) whole files other than result.json, largest
 * first; (8) result.json reduced to its header. Every cut is listed in
 * `truncated` (in order) and noted in result.json's `notes`. The result never
 * exceeds the limit; with an absurdly small one it is empty.
 */
export function fitConfigMap(input: Record<string, string>, limitBytes = DEFAULT_CONFIGMAP_LIMIT, options: { note?: string } = {}): FitResult {
  const noteText = options.note ?? 'truncated to fit the ConfigMap';
  const files: Record<string, string> = { ...input };
  if (filesSize(files) <= limitBytes) return { files, truncated: [] };

  const DOC = 'result.json';
  const REPORT = 'report.txt';
  let doc: Record<string, unknown> | undefined;
  let indent: number | undefined;
  if (files[DOC] !== undefined) {
    try {
      const parsed: unknown = JSON.parse(files[DOC]);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        doc = parsed as Record<string, unknown>;
        const m = /^\{\n( +)/.exec(files[DOC]);
        indent = m ? (m[1] as string).length : undefined;
      }
    } catch {
      doc = undefined;
    }
  }
  const budget = limitBytes - (doc ? NOTE_RESERVE : 0);
  const fits = (): boolean => filesSize(files) <= budget;
  const writeDoc = (): void => {
    if (doc) files[DOC] = JSON.stringify(doc, null, indent);
  };
  // Cut messages in step order; texts are computed at the end (a step may cut in both rounds).
  const STEPS = ['raw', 'events', 'tables', 'svg-doc', 'svg', 'folded', 'report'];
  const cuts = new Map<string, { rank: number; msg: () => string }>();
  const cut = (id: string, msg: () => string): void => {
    if (!cuts.has(id)) cuts.set(id, { rank: STEPS.indexOf(id.split(':')[0] as string), msg });
  };

  // (1) raw
  if (doc && doc['raw'] !== undefined && !fits()) {
    delete doc['raw'];
    writeDoc();
    cut('raw', () => 'result.json: dropped raw tracer output');
  }

  const events = doc && Array.isArray(doc['events']) ? (doc['events'] as unknown[]) : [];
  const dropped0 = doc && typeof doc['eventsDropped'] === 'number' ? doc['eventsDropped'] : 0;
  let eventsKept = events.length;
  const tables = doc && Array.isArray(doc['tables']) ? (doc['tables'] as Array<Record<string, unknown>>) : [];
  const tableRows = tables.map((t) => (Array.isArray(t['rows']) ? (t['rows'] as unknown[]) : []));
  const tableTrunc = tables.map((t) => t['truncated'] === true);
  const maxRows = Math.max(0, ...tableRows.map((r) => r.length));
  let rowsKept = maxRows;
  const stacks = doc && doc['stacks'] && typeof doc['stacks'] === 'object' ? (doc['stacks'] as Record<string, unknown>) : undefined;
  const foldedFiles = Object.keys(files).filter((k) => k.endsWith('.folded') || k === 'folded.txt');
  const docFolded = stacks && typeof stacks['folded'] === 'string' ? (stacks['folded'] as string) : undefined;
  const foldedSource = parseFolded(docFolded ?? (foldedFiles[0] !== undefined ? (files[foldedFiles[0]] as string) : ''));
  const byWeight = [...foldedSource].sort((a, b) => b.count - a.count || (a.frames.join(';') < b.frames.join(';') ? -1 : 1));
  let stacksKept = byWeight.length;
  const reportLines = files[REPORT] !== undefined ? (files[REPORT] as string).split('\n') : [];
  let reportKept = reportLines.length;

  const applyEvents = (n: number): void => {
    doc!['events'] = events.slice(0, n);
    doc!['eventsDropped'] = dropped0 + (events.length - n);
    writeDoc();
  };
  const applyRows = (k: number): void => {
    tables.forEach((t, i) => {
      const rows = tableRows[i] as unknown[];
      t['rows'] = rows.slice(0, k);
      if (t['totalRows'] === undefined) t['totalRows'] = rows.length;
      t['truncated'] = tableTrunc[i] || rows.length > k;
    });
    writeDoc();
  };
  const applyStacks = (n: number): void => {
    const kept = byWeight.slice(0, n).sort((a, b) => (a.frames.join(';') < b.frames.join(';') ? -1 : 1));
    const text = formatFolded(kept);
    for (const f of foldedFiles) if (files[f] !== undefined) files[f] = text;
    if (stacks && docFolded !== undefined) {
      stacks['folded'] = text;
      writeDoc();
    }
  };
  const marker = '... (report truncated to fit the ConfigMap)';
  const applyReport = (n: number): void => {
    files[REPORT] = n >= reportLines.length ? reportLines.join('\n') : `${reportLines.slice(0, n).join('\n')}\n${marker}\n`;
  };

  for (const round of [1, 2] as const) {
    const floor = (n: number): number => (round === 1 ? n : 0);
    // (2) events
    if (doc && !fits() && eventsKept > floor(FIT_FLOORS.events)) {
      const lo = Math.min(eventsKept, floor(FIT_FLOORS.events));
      eventsKept = Math.max(lo, largest(lo, eventsKept, (n) => (applyEvents(n), fits())));
      applyEvents(eventsKept);
      cut('events', () => `result.json: events cut from ${events.length} to ${eventsKept}`);
    }
    // (3) tables
    if (doc && !fits() && rowsKept > floor(FIT_FLOORS.tableRows)) {
      const lo = Math.min(rowsKept, floor(FIT_FLOORS.tableRows));
      rowsKept = Math.max(lo, largest(lo, rowsKept, (k) => (applyRows(k), fits())));
      applyRows(rowsKept);
      cut('tables', () => `result.json: tables cut to ${rowsKept} rows each`);
    }
    // (4) flame graph
    if (stacks && typeof stacks['svg'] === 'string' && !fits()) {
      delete stacks['svg'];
      writeDoc();
      cut('svg-doc', () => 'result.json: dropped the embedded flame graph SVG');
    }
    for (const name of Object.keys(files).filter((k) => k.endsWith('.svg')).sort()) {
      if (fits()) break;
      const svg = files[name] as string;
      const room = budget - (filesSize(files) - bytes(name) - bytes(svg));
      const shrunk = room > 0 ? shrinkFlameGraph(svg, room) : undefined;
      if (shrunk !== undefined) {
        files[name] = shrunk;
        cut(`svg:${name}`, () => (files[name] === undefined ? `${name}: dropped` : `${name}: narrow frames dropped`));
      } else if (round === 2) {
        delete files[name];
        cut(`svg:${name}`, () => `${name}: dropped`);
      }
    }
    // (5) folded stacks
    if (!fits() && stacksKept > floor(FIT_FLOORS.foldedStacks) && (foldedFiles.length > 0 || docFolded !== undefined)) {
      const lo = Math.min(stacksKept, floor(FIT_FLOORS.foldedStacks));
      stacksKept = Math.max(lo, largest(lo, stacksKept, (n) => (applyStacks(n), fits())));
      applyStacks(stacksKept);
      cut('folded', () => `stacks: kept the ${stacksKept} heaviest of ${byWeight.length} folded stacks`);
    }
    // (6) report.txt tail
    if (files[REPORT] !== undefined && !fits() && reportKept > floor(FIT_FLOORS.reportLines)) {
      const lo = Math.min(reportKept, floor(FIT_FLOORS.reportLines));
      reportKept = Math.max(lo, largest(lo, reportKept, (n) => (applyReport(n), fits())));
      applyReport(reportKept);
      if (round === 2 && !fits()) delete files[REPORT];
      cut('report', () => (files[REPORT] === undefined ? `${REPORT}: dropped` : `${REPORT}: cut to ${reportKept} lines`));
    }
  }
  const truncated = [...cuts.values()].sort((a, b) => a.rank - b.rank).map((c) => c.msg());

  // (7) other files, largest first
  while (!fits()) {
    const others = Object.keys(files)
      .filter((k) => k !== DOC)
      .sort((a, b) => bytes(files[b] as string) - bytes(files[a] as string) || (a < b ? -1 : 1));
    const victim = others[0];
    if (victim === undefined) break;
    delete files[victim];
    truncated.push(`${victim}: dropped`);
  }

  // (8) result.json down to its header
  if (doc && !fits()) {
    const keepKeys = ['apiVersion', 'probe', 'tracer', 'node', 'targets', 'startedAt', 'finishedAt', 'durationSeconds', 'partial', 'headline', 'counters', 'lostEvents'];
    const slim: Record<string, unknown> = {};
    for (const k of keepKeys) if (doc[k] !== undefined) slim[k] = doc[k];
    slim['notes'] = [];
    slim['histograms'] = [];
    slim['tables'] = [];
    slim['events'] = [];
    doc = slim;
    writeDoc();
    truncated.push('result.json: reduced to its header (histograms, tables, events, stacks dropped)');
  }

  // Notes in the document, then the hard guarantee.
  if (doc && truncated.length > 0) {
    const notes = Array.isArray(doc['notes']) ? (doc['notes'] as unknown[]) : [];
    doc['notes'] = [...notes, `${noteText}: ${truncated.join('; ')}`];
    writeDoc();
    if (filesSize(files) > limitBytes) {
      doc['notes'] = [...notes, noteText];
      writeDoc();
    }
  }
  if (filesSize(files) > limitBytes) {
    for (const k of Object.keys(files)) delete files[k];
    truncated.push('all files dropped: the limit is too small');
  }
  return { files, truncated };
}

// ---------------------------------------------------------------------------
// Bounding the agent's result record

/** Start of the note the agent adds when it cut its document to its output limit. */
export const AGENT_CUT_NOTE = "cut to fit the agent's output limit";

/**
 * The document cut (by the same steps as {@link fitConfigMap}) until its JSON is at
 * most `limitBytes`, with what was cut in `cuts` and in a note starting with
 * {@link AGENT_CUT_NOTE}. A document that fits is returned as is.
 */
export function boundDocument(doc: ResultDocument, limitBytes: number): { document: ResultDocument; cuts: string[] } {
  const text = JSON.stringify(doc);
  if (bytes(text) <= limitBytes) return { document: doc, cuts: [] };
  const limitText = limitBytes >= 1024 * 1024 ? `${Math.round((limitBytes / 1024 / 1024) * 10) / 10} MiB` : `${Math.round(limitBytes / 1024)} KiB`;
  const fitted = fitConfigMap({ 'result.json': text }, limitBytes, { note: `${AGENT_CUT_NOTE} (${limitText})` });
  const cuts = fitted.truncated.map((c) => c.replace(/^result\.json: /, ''));
  const out = fitted.files['result.json'];
  if (out === undefined) {
    // Not even the header fits: an empty document that says so.
    const header = normalizeDocument({ ...doc, notes: [`${AGENT_CUT_NOTE} (${limitText}): everything`], histograms: [], tables: [], events: [], stacks: undefined, raw: undefined });
    return { document: header, cuts: ['everything'] };
  }
  const parsed = normalizeDocument(JSON.parse(out) as unknown);
  parsed.notes = parsed.notes.map((n) => (n.startsWith(AGENT_CUT_NOTE) ? n.replace(/(: |; )result\.json: /g, '$1') : n));
  return { document: parsed, cuts };
}
