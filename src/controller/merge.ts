// Merges the result documents of several node jobs (selector fan-out) into
// one: histograms bucket-summed by name+key, tables re-ranked, counters
// summed, events concatenated; each node keeps a line in perNode.
import { headline, parseResultDocument, type ResultDocument, type DocHistogram, type DocTable } from '../results/document.js';
import { mergeHistograms, summarize } from '../results/histogram.js';

export function mergeDocuments(docs: readonly ResultDocument[]): ResultDocument {
  const first = docs[0];
  if (!first) throw new Error('mergeDocuments needs at least one document');
  if (docs.length === 1) return first;

  const hists = new Map<string, DocHistogram[]>();
  for (const h of docs.flatMap((d) => d.histograms)) {
    const k = `${h.name}\u0000${h.key ?? ''}`;
    hists.set(k, [...(hists.get(k) ?? []), h]);
  }
  const histograms = [...hists.values()].map((group) => {
    const base = group[0] as DocHistogram;
    const buckets = mergeHistograms(group.map((h) => h.buckets));
    const s = summarize(buckets);
    return { ...base, buckets, count: s.count, p50: s.p50, p90: s.p90, p99: s.p99, mean: s.mean } as DocHistogram;
  });

  const tableGroups = new Map<string, DocTable[]>();
  for (const t of docs.flatMap((d) => d.tables)) tableGroups.set(t.name, [...(tableGroups.get(t.name) ?? []), t]);
  const tables = [...tableGroups.values()].map((group) => {
    const base = group[0] as DocTable;
    const rows = group.flatMap((t) => t.rows);
    const last = base.columns.length - 1;
    rows.sort((a, b) => Number(b[last] ?? 0) - Number(a[last] ?? 0));
    return { ...base, rows, totalRows: group.reduce((n, t) => n + t.totalRows, 0), truncated: group.some((t) => t.truncated) };
  });

  const counters: Record<string, number> = {};
  for (const d of docs) for (const [k, v] of Object.entries(d.counters)) counters[k] = (counters[k] ?? 0) + v;

  return parseResultDocument({
    ...first,
    node: undefined,
    headline: undefined,
    targets: docs.flatMap((d) => d.targets),
    startedAt: docs.map((d) => d.startedAt).sort()[0],
    finishedAt: docs.map((d) => d.finishedAt).sort().at(-1),
    partial: docs.some((d) => d.partial),
    notes: [...new Set(docs.flatMap((d) => d.notes))],
    histograms,
    tables,
    events: docs.flatMap((d) => d.events),
    eventsDropped: docs.reduce((n, d) => n + d.eventsDropped, 0),
    counters,
    lostEvents: docs.reduce((n, d) => n + d.lostEvents, 0),
    perNode: docs.map((d) => ({ node: d.node, headline: headline(d), partial: d.partial, lostEvents: d.lostEvents, counters: d.counters })),
    stacks: undefined,
    raw: undefined,
  });
}
