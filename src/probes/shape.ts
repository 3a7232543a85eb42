// Declarative result shaping shared by the catalog. A probe declares which of
// its maps are histograms, tables and counters and which event lines it prints;
// shapeFromSpec turns a parsed trace into the probe's ShapedResult.
import type { HistogramBucket, ShapedHistogram, ShapedResult } from './types.js';
import { quantile as resultsQuantile } from '../results/histogram.js';
import { entries, isStats, num, splitKey, toTraceData, type TraceData } from './trace-data.js';

/** Event lines: `EV<TAB>kind<TAB>field…`, numbers first, free text (comm, paths) last. */
export const EVENT_PREFIX = 'EV';

export type FieldType = 'n' | 's';
export interface EventSpec {
  kind: string;
  fields: Array<{ name: string; type: FieldType }>;
}

export interface HistSpec {
  map: string;
  name: string;
  unit: ShapedHistogram['unit'];
  /** Key parts of a keyed histogram, joined with ':' into ShapedHistogram.key after formatting. */
  keyArity?: number;
  formatKey?: (parts: string[]) => string;
}

export interface TableSpec {
  map: string;
  name: string;
  /** Column names for the key parts, then the value columns. */
  keyColumns: string[];
  /** 'count'/'sum' maps give one value column; 'stats' maps give count, avg, total. */
  value: { kind: 'count' | 'sum'; column: string } | { kind: 'stats'; unit: string };
  /** Sort by this value column (default the first value column), descending. */
  sortBy?: string;
  formatKey?: (parts: string[]) => Array<string | number>;
  /** Skip topN truncation (small fixed-size tables). */
  all?: boolean;
}

export interface CounterSpec {
  map: string;
  name: string;
}

export interface ShapeSpec {
  histograms?: HistSpec[];
  tables?: TableSpec[];
  counters?: CounterSpec[];
  events?: EventSpec[];
  /** Builds status.summary.headline from the shaped result. */
  headline?: (r: ShapedResult) => string | undefined;
}

export interface ShapeCtx {
  topN: number;
  maxEvents: number;
}

export function bucketsOf(v: unknown): HistogramBucket[] {
  if (!Array.isArray(v)) return [];
  const out: HistogramBucket[] = [];
  for (const b of v) {
    if (typeof b !== 'object' || b === null) continue;
    const r = b as Record<string, unknown>;
    out.push({
      min: 'min' in r ? num(r['min']) : null,
      max: 'max' in r && num(r['max']) >= 0 ? num(r['max']) : null,
      count: num(r['count']),
    });
  }
  return out;
}

/** Upper bound of the bucket holding quantile q (bucket resolution; overflow → its min). */
/** Percentiles come from the results package, so every histogram in a result agrees (linear interpolation inside a bucket). */
export function quantile(buckets: HistogramBucket[], q: number): number | undefined {
  return resultsQuantile(
    buckets.map((b) => ({ ...(b.min === null ? {} : { min: b.min }), ...(b.max === null ? {} : { max: b.max }), count: b.count })),
    q,
  );
}

export function makeHistogram(name: string, unit: ShapedHistogram['unit'], buckets: HistogramBucket[], key?: string): ShapedHistogram {
  const h: ShapedHistogram = { name, unit, buckets, total: buckets.reduce((a, b) => a + b.count, 0) };
  if (key !== undefined) h.key = key;
  const p50 = quantile(buckets, 0.5);
  const p90 = quantile(buckets, 0.9);
  const p99 = quantile(buckets, 0.99);
  if (p50 !== undefined) h.p50 = p50;
  if (p90 !== undefined) h.p90 = p90;
  if (p99 !== undefined) h.p99 = p99;
  return h;
}

/** Parses one printf line into an event of the given spec, or undefined if it is not one. */
export function parseEventLine(line: string, spec: EventSpec): Record<string, string | number> | undefined {
  const parts = line.split('\t');
  if (parts[0] !== EVENT_PREFIX || parts[1] !== spec.kind) return undefined;
  const vals = parts.slice(2);
  const n = spec.fields.length;
  if (vals.length < n) return undefined;
  if (vals.length > n) {
    // A free-text field contained a tab: the last field absorbs the extra parts.
    const head = vals.slice(0, n - 1);
    vals.splice(0, vals.length, ...head, vals.slice(n - 1).join('\t'));
  }
  const ev: Record<string, string | number> = {};
  spec.fields.forEach((f, i) => {
    const raw = vals[i] ?? '';
    ev[f.name] = f.type === 'n' ? num(raw) : raw;
  });
  return ev;
}

export function eventsOf(data: TraceData, spec: EventSpec, max: number): { events: Array<Record<string, string | number>>; seen: number } {
  const events: Array<Record<string, string | number>> = [];
  let seen = 0;
  for (const line of data.printfs) {
    const ev = parseEventLine(line, spec);
    if (!ev) continue;
    seen++;
    if (events.length < max) events.push({ kind: spec.kind, ...ev });
  }
  return { events, seen };
}

export function emptyResult(): ShapedResult {
  return { histograms: [], tables: [], events: [], counters: {}, notes: [] };
}

export function counterValue(data: TraceData, map: string): number | undefined {
  const v = data.maps.get(map);
  if (v === undefined) return undefined;
  if (isStats(v)) return num(v.count);
  if (typeof v === 'object' && v !== null) return undefined;
  return num(v);
}

export function tableOf(data: TraceData, t: TableSpec, topN: number): ShapedResult['tables'][number] {
  const arity = t.keyColumns.length;
  const valueCols = t.value.kind === 'stats' ? ['count', `avg_${t.value.unit}`, `total_${t.value.unit}`] : [t.value.column];
  const rows: Array<Array<string | number>> = [];
  for (const [k, v] of entries(data, t.map)) {
    const parts = splitKey(k, arity);
    const key = t.formatKey ? t.formatKey(parts) : parts;
    if (t.value.kind === 'stats') {
      if (!isStats(v)) continue;
      rows.push([...key, num(v.count), num(v.average), num(v.total)]);
    } else {
      rows.push([...key, num(v)]);
    }
  }
  const sortIdx = arity + Math.max(0, valueCols.indexOf(t.sortBy ?? valueCols[0] ?? ''));
  rows.sort((a, b) => num(b[sortIdx]) - num(a[sortIdx]) || String(a[0]).localeCompare(String(b[0])));
  return { name: t.name, columns: [...t.keyColumns, ...valueCols], rows: t.all ? rows : rows.slice(0, Math.max(0, topN)) };
}

export function shapeFromSpec(spec: ShapeSpec, parsed: unknown, ctx: ShapeCtx): ShapedResult {
  const data = toTraceData(parsed);
  const r = emptyResult();
  for (const h of spec.histograms ?? []) {
    for (const [k, v] of entries(data, h.map)) {
      if (k === '' || !h.keyArity) {
        r.histograms.push(makeHistogram(h.name, h.unit, bucketsOf(v)));
      } else {
        const parts = splitKey(k, h.keyArity);
        r.histograms.push(makeHistogram(h.name, h.unit, bucketsOf(v), h.formatKey ? h.formatKey(parts) : parts.join(':')));
      }
    }
  }
  for (const t of spec.tables ?? []) {
    const tab = tableOf(data, t, ctx.topN);
    if (tab.rows.length > 0) r.tables.push(tab);
  }
  for (const c of spec.counters ?? []) r.counters[c.name] = counterValue(data, c.map) ?? 0;
  let seen = 0;
  for (const e of spec.events ?? []) {
    const got = eventsOf(data, e, ctx.maxEvents - r.events.length);
    r.events.push(...got.events);
    seen += got.seen;
  }
  if (seen > r.events.length) r.notes.push(`${seen} events printed, ${r.events.length} kept (maxEvents)`);
  const printed = counterValue(data, '@events');
  if (printed !== undefined && printed >= ctx.maxEvents) {
    r.notes.push(`event output stopped at maxEvents=${ctx.maxEvents}; counts and histograms cover every event`);
  }
  if (data.lostEvents > 0) r.notes.push(`${data.lostEvents} events lost in the perf buffer`);
  const headline = spec.headline?.(r);
  if (headline) r.headline = headline;
  return r;
}

/** `n=1203 p99=3.2ms` from a µs histogram (the first one when several). */
export function latencyHeadline(r: ShapedResult, name: string, prefix = 'n'): string | undefined {
  const hs = r.histograms.filter((h) => h.name === name);
  if (hs.length === 0) return undefined;
  const total = hs.reduce((a, h) => a + h.total, 0);
  const merged = mergeBuckets(hs.map((h) => h.buckets));
  const p99 = quantile(merged, 0.99);
  return `${prefix}=${total}${p99 === undefined ? '' : ` p99=${formatUs(p99)}`}`;
}

export function mergeBuckets(lists: HistogramBucket[][]): HistogramBucket[] {
  const by = new Map<string, HistogramBucket>();
  for (const l of lists) {
    for (const b of l) {
      const k = `${b.min}:${b.max}`;
      const cur = by.get(k);
      if (cur) cur.count += b.count;
      else by.set(k, { ...b });
    }
  }
  return [...by.values()].sort((a, b) => (a.min ?? -Infinity) - (b.min ?? -Infinity));
}

export function formatUs(us: number): string {
  if (us >= 1_000_000) return `${trim(us / 1_000_000)}s`;
  if (us >= 1000) return `${trim(us / 1000)}ms`;
  // Interpolated percentiles are fractional; whole microseconds are precise enough.
  return `${Math.round(us)}us`;
}

const trim = (n: number): string => (Math.round(n * 10) / 10).toString();

/** dev_t as the kernel encodes it in tracepoints (major << 20 | minor) → "major:minor". */
export function formatDev(dev: string | number): string {
  const n = Number(dev);
  if (!Number.isFinite(n)) return String(dev);
  return `${Math.floor(n / 1048576)}:${n % 1048576}`;
}

export const TCP_STATES: Record<number, string> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
};

export const tcpState = (n: number | string): string => TCP_STATES[Number(n)] ?? `STATE_${String(n)}`;
