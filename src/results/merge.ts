/**
 * Merging result documents of one TraceJob from several nodes (selector
 * fan-out) into one, keeping a per-node summary.
 *
 * - histograms: same name + key + unit → buckets summed (`mergeHistograms`),
 *   percentiles recomputed; incompatible layouts stay separate (with a note);
 * - tables: same name + columns → rows with equal key cells combined: columns
 *   named `avg`/`average`/`mean` are count-weighted when a `count` column exists
 *   (else averaged), `min`/`max` take the min/max, every other numeric column is
 *   summed; re-sorted by the value column and cut to the largest input's row
 *   count (inputs are already top-N, so merged totals are lower bounds when an
 *   input was truncated — `truncated` says so);
 * - counters: summed, except names ending in `min`/`max` (min/max) and
 *   `avg`/`average`/`mean` (weighted by the sibling `.count` when present);
 * - events: concatenated in input order with a `node` field, capped;
 * - stacks: folded stacks summed; the SVG is re-rendered when an input had one;
 * - lostEvents summed, partial if any is, notes prefixed with the node.
 */
import {
  normalizeDocument,
  histogramOf,
  headline,
  RESULT_API_VERSION,
  type DocEvent,
  type DocHistogram,
  type DocTable,
  type ResultDocument,
} from './document.js';
import { mergeHistograms } from './histogram.js';
import { mergeFolded, parseFolded, renderFlameGraph, totalSamples } from './flamegraph.js';

export interface MergeOptions {
  /** Events kept in the merged document (default: 1000 or the largest input's count). */
  maxEvents?: number;
}

type Cell = string | number | boolean | null;

const EPOCH = '1970-01-01T00:00:00.000Z';

export function mergeDocuments(inputs: ReadonlyArray<ResultDocument | Record<string, unknown>>, options: MergeOptions = {}): ResultDocument {
  const docs = inputs.filter((d) => d && typeof d === 'object').map((d) => normalizeDocument(d));
  if (docs.length === 0) {
    return normalizeDocument({
      apiVersion: RESULT_API_VERSION,
      probe: 'unknown',
      tracer: { name: 'unknown', version: '' },
      startedAt: EPOCH,
      finishedAt: EPOCH,
      durationSeconds: 0,
      partial: true,
      notes: ['no node produced a result'],
    });
  }
  if (docs.length === 1) return docs[0] as ResultDocument;

  const first = docs[0] as ResultDocument;
  const label = (d: ResultDocument, i: number): string => d.node ?? `#${i + 1}`;
  const uniq = (xs: string[]): string[] => [...new Set(xs)];

  const starts = docs.map((d) => Date.parse(d.startedAt)).filter(Number.isFinite);
  const ends = docs.map((d) => Date.parse(d.finishedAt)).filter(Number.isFinite);
  const startedAt = starts.length ? new Date(Math.min(...starts)).toISOString() : first.startedAt;
  const finishedAt = ends.length ? new Date(Math.max(...ends)).toISOString() : first.finishedAt;
  const durationSeconds =
    starts.length && ends.length ? Math.max(0, (Math.max(...ends) - Math.min(...starts)) / 1000) : Math.max(...docs.map((d) => d.durationSeconds));

  const out: ResultDocument = {
    apiVersion: RESULT_API_VERSION,
    probe: uniq(docs.map((d) => d.probe)).join(','),
    tracer: { name: uniq(docs.map((d) => d.tracer.name)).join(','), version: uniq(docs.map((d) => d.tracer.version)).join(',') },
    targets: [],
    startedAt,
    finishedAt,
    durationSeconds,
    partial: docs.some((d) => d.partial),
    notes: [],
    histograms: [],
    tables: [],
    events: [],
    eventsDropped: 0,
    counters: {},
    lostEvents: docs.reduce((a, d) => a + d.lostEvents, 0),
    perNode: docs.map((d) => {
      const p: NonNullable<ResultDocument['perNode']>[number] = {
        headline: headline(d),
        partial: d.partial,
        lostEvents: d.lostEvents,
        counters: { ...d.counters },
      };
      if (d.node !== undefined) p.node = d.node;
      return p;
    }),
  };

  const seenTargets = new Set<string>();
  for (const d of docs) {
    for (const t of d.targets) {
      const id = JSON.stringify(t);
      if (!seenTargets.has(id)) {
        seenTargets.add(id);
        out.targets.push(t);
      }
    }
  }
  out.notes = uniq(docs.flatMap((d, i) => d.notes.map((n) => `[${label(d, i)}] ${n}`)));

  // Histograms
  const hGroups = new Map<string, DocHistogram[]>();
  for (const d of docs) {
    for (const h of d.histograms) {
      const id = JSON.stringify([h.name, h.key ?? null, h.unit]);
      const g = hGroups.get(id);
      if (g) g.push(h);
      else hGroups.set(id, [h]);
    }
  }
  for (const group of hGroups.values()) {
    const h0 = group[0] as DocHistogram;
    try {
      out.histograms.push(histogramOf(h0.name, h0.unit, mergeHistograms(group.map((h) => h.buckets)), h0.key));
    } catch (err) {
      out.notes.push(`histogram ${h0.name}${h0.key ? ` [${h0.key}]` : ''} not merged: ${(err as Error).message}`);
      out.histograms.push(...group);
    }
  }

  // Tables
  const tGroups = new Map<string, DocTable[]>();
  for (const d of docs) {
    for (const t of d.tables) {
      const id = JSON.stringify([t.name, t.columns]);
      const g = tGroups.get(id);
      if (g) g.push(t);
      else tGroups.set(id, [t]);
    }
  }
  for (const group of tGroups.values()) out.tables.push(group.length === 1 ? (group[0] as DocTable) : mergeTables(group));

  // Counters
  out.counters = mergeCounters(docs.map((d) => d.counters));

  // Events
  const maxEvents = options.maxEvents ?? Math.max(1000, ...docs.map((d) => d.events.length));
  let dropped = 0;
  docs.forEach((d, i) => {
    dropped += d.eventsDropped;
    for (const e of d.events) {
      if (out.events.length >= maxEvents) {
        dropped++;
        continue;
      }
      const ev: DocEvent = 'node' in e ? { ...e } : { node: label(d, i), ...e };
      out.events.push(ev);
    }
  });
  out.eventsDropped = dropped;

  // Stacks
  const withStacks = docs.filter((d) => d.stacks);
  if (withStacks.length > 0) {
    const folded = mergeFolded(withStacks.map((d) => d.stacks?.folded ?? ''));
    out.stacks = { folded, samples: totalSamples(parseFolded(folded)) };
    if (withStacks.some((d) => d.stacks?.svg)) out.stacks.svg = renderFlameGraph(folded, { title: `${out.probe} flame graph` });
  }
  return out;
}

const AVG = /(^|[._-])(avg|average|mean)$/i;
const MIN = /(^|[._-])min$/i;
const MAX = /(^|[._-])max$/i;

function mergeCounters(list: ReadonlyArray<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = {};
  const keys = [...new Set(list.flatMap((c) => Object.keys(c)))].sort();
  for (const k of keys) {
    const present = list.filter((c) => typeof c[k] === 'number');
    const vals = present.map((c) => c[k] as number);
    if (MIN.test(k)) out[k] = Math.min(...vals);
    else if (MAX.test(k)) out[k] = Math.max(...vals);
    else if (AVG.test(k)) {
      const countKey = k.replace(AVG, '$1count');
      const weights = present.map((c) => c[countKey]);
      if (countKey !== k && weights.every((w) => typeof w === 'number')) {
        const wsum = (weights as number[]).reduce((a, b) => a + b, 0);
        out[k] = wsum > 0 ? vals.reduce((a, v, i) => a + v * (weights[i] as number), 0) / wsum : 0;
      } else {
        out[k] = vals.reduce((a, b) => a + b, 0) / vals.length;
      }
    } else out[k] = vals.reduce((a, b) => a + b, 0);
  }
  return out;
}

function mergeTables(group: readonly DocTable[]): DocTable {
  const t0 = group[0] as DocTable;
  const columns = t0.columns;
  const allRows = group.flatMap((t) => t.rows);
  const n = columns.length;
  const numeric = columns.map((_, i) => allRows.length > 0 && allRows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const countIdx = columns.findIndex((c, i) => numeric[i] && /^count$/i.test(c));
  const keyIdx = columns.map((_, i) => i).filter((i) => !numeric[i]);
  const valueIdx = numeric.findIndex((x, i) => x && !AVG.test(columns[i] as string) && !MIN.test(columns[i] as string) && !MAX.test(columns[i] as string));

  const by = new Map<string, Cell[][]>();
  for (const r of allRows) {
    const id = JSON.stringify(keyIdx.map((i) => r[i] ?? null));
    const g = by.get(id);
    if (g) g.push(r);
    else by.set(id, [r]);
  }
  const merged: Cell[][] = [];
  for (const rows of by.values()) {
    const row: Cell[] = [];
    for (let i = 0; i < n; i++) {
      if (!numeric[i]) {
        row.push((rows[0] as Cell[])[i] ?? null);
        continue;
      }
      const vals = rows.map((r) => r[i]).filter((v): v is number => typeof v === 'number');
      const col = columns[i] as string;
      if (vals.length === 0) row.push(null);
      else if (MIN.test(col)) row.push(Math.min(...vals));
      else if (MAX.test(col)) row.push(Math.max(...vals));
      else if (AVG.test(col)) {
        const w = countIdx >= 0 ? rows.map((r) => r[countIdx]) : [];
        if (w.length === rows.length && w.every((x) => typeof x === 'number')) {
          const ws = (w as number[]).reduce((a, b) => a + b, 0);
          row.push(ws > 0 ? rows.reduce((a, r, j) => a + ((r[i] as number) ?? 0) * (w[j] as number), 0) / ws : 0);
        } else row.push(vals.reduce((a, b) => a + b, 0) / vals.length);
      } else row.push(vals.reduce((a, b) => a + b, 0));
    }
    merged.push(row);
  }
  if (valueIdx >= 0) {
    merged.sort((a, b) => ((b[valueIdx] as number) ?? 0) - ((a[valueIdx] as number) ?? 0) || (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
  }
  const cap = Math.max(...group.map((t) => t.rows.length));
  const shown = merged.slice(0, cap);
  const cutValue = valueIdx >= 0 ? merged.slice(cap).reduce((a, r) => a + ((r[valueIdx] as number) ?? 0), 0) : 0;
  const out: DocTable = {
    name: t0.name,
    columns: [...columns],
    rows: shown,
    totalRows: Math.max(merged.length, ...group.map((t) => t.totalRows)),
    truncated: group.some((t) => t.truncated) || shown.length < merged.length,
  };
  const others = group.reduce((a, t) => a + (t.others ?? 0), 0) + cutValue;
  if (valueIdx >= 0 && (others > 0 || group.some((t) => t.others !== undefined))) out.others = others;
  if (group.every((t) => t.total !== undefined)) out.total = group.reduce((a, t) => a + (t.total ?? 0), 0);
  return out;
}
