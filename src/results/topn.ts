/**
 * Top-N of keyed maps: duplicate keys summed, sorted by value descending (ties by
 * key, so output is deterministic), capped to N with the rest summed as "others".
 */
import type { KeyedEntry, MapKey } from './types.js';

export interface TopNRow {
  key: MapKey;
  value: number;
}

export interface TopNResult {
  rows: TopNRow[];
  /** Sum of the values not shown. */
  others: number;
  /** How many distinct keys were folded into `others`. */
  othersCount: number;
  /** Sum of all values. */
  total: number;
  /** Distinct keys before capping. */
  totalRows: number;
  truncated: boolean;
}

const SEP = '\u0000';
const keyId = (k: MapKey): string => k.join(SEP);

/** Sums entries with equal keys (across sources, or duplicates within one map), first-seen order. */
export function mergeKeyed(sources: ReadonlyArray<ReadonlyArray<{ key: MapKey; value: number }>>): TopNRow[] {
  const by = new Map<string, TopNRow>();
  for (const src of sources) {
    for (const e of src) {
      const id = keyId(e.key);
      const cur = by.get(id);
      if (cur) cur.value += e.value;
      else by.set(id, { key: [...e.key], value: e.value });
    }
  }
  return [...by.values()];
}

export function compareRows(a: TopNRow, b: TopNRow): number {
  if (b.value !== a.value) return b.value - a.value;
  const n = Math.min(a.key.length, b.key.length);
  for (let i = 0; i < n; i++) {
    const x = a.key[i] as string;
    const y = b.key[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.key.length - b.key.length;
}

/**
 * The `n` largest keys (n ≤ 0 or Infinity: all). Entries with equal keys are summed first.
 */
export function topN(entries: ReadonlyArray<{ key: MapKey; value: number }> | readonly KeyedEntry[], n: number): TopNResult {
  return topNMerged([entries], n);
}

/** Top-N over several sources (nodes, pods): keys summed across them first. */
export function topNMerged(sources: ReadonlyArray<ReadonlyArray<{ key: MapKey; value: number }>>, n: number): TopNResult {
  const rows = mergeKeyed(sources).sort(compareRows);
  let total = 0;
  for (const r of rows) total += r.value;
  const cap = n > 0 ? Math.min(n, rows.length) : rows.length;
  const shown = rows.slice(0, cap);
  let others = 0;
  for (let i = cap; i < rows.length; i++) others += (rows[i] as TopNRow).value;
  return { rows: shown, others, othersCount: rows.length - cap, total, totalRows: rows.length, truncated: cap < rows.length };
}
