/**
 * `report.txt`: a human-readable rendering of a result document. Deterministic
 * (same document, same bytes): no clocks, no locale-dependent formatting.
 *
 * Histograms are drawn as bpftrace draws them (`[4, 8)   12 |@@@@   |`, labels
 * with K/M/G suffixes for multiples of 1024); tables have aligned columns
 * (numbers right, text left); events are a capped table; notes list truncation,
 * lost events and partial results.
 *
 * Every string from the document is escaped with `printable()` (see
 * safe-text.ts) before it is laid out: it came from the traced workload.
 */
import type { DocHistogram, DocTable, ResultDocument } from './document.js';
import { headline, normalizeDocument } from './document.js';
import { bucketLabel, formatDuration, formatValue } from './histogram.js';
import { parseFolded } from './flamegraph.js';
import { printable, printableText } from './safe-text.js';
import type { Bucket } from './types.js';

export interface ReportOptions {
  /** Width of the histogram bars (bpftrace: 52). */
  barWidth?: number;
  /** Event rows shown (default 50). */
  maxEvents?: number;
  /** Rows shown per table (default: all rows the document holds). */
  maxTableRows?: number;
  /** Heaviest folded stacks listed (default 10). */
  maxStacks?: number;
  /** Longest cell before it is cut with "..." (default 60). */
  maxCellWidth?: number;
}

type Cell = string | number | boolean | null;

/** bpftrace-style ASCII histogram (no trailing newline on the last line). */
export function renderHistogram(buckets: readonly Bucket[], barWidth = 52): string {
  if (buckets.length === 0) return '(empty)';
  const labels = buckets.map(bucketLabel);
  const maxCount = Math.max(0, ...buckets.map((b) => b.count));
  const labelWidth = Math.max(16, ...labels.map((l) => l.length + 1));
  const countWidth = Math.max(8, ...buckets.map((b) => String(b.count).length + 1));
  return buckets
    .map((b, i) => {
      const bar = maxCount > 0 ? '@'.repeat(Math.floor((b.count * barWidth) / maxCount)) : '';
      return `${(labels[i] as string).padEnd(labelWidth)}${String(b.count).padStart(countWidth)} |${bar.padEnd(barWidth)}|`;
    })
    .join('\n');
}

function cellText(c: Cell, maxWidth: number): string {
  let s: string;
  if (c === null) s = '-';
  else if (typeof c === 'number') s = Number.isInteger(c) ? String(c) : c.toFixed(2);
  else s = String(c);
  s = printable(s.replace(/\r?\n/g, '\\n').replace(/\t/g, ' '));
  return s.length > maxWidth ? `${s.slice(0, maxWidth - 3)}...` : s;
}

/** Aligned text table: header, dashes, rows; numeric columns right-aligned. */
export function renderTable(columns: readonly string[], rows: ReadonlyArray<readonly Cell[]>, maxCellWidth = 60): string {
  const n = Math.max(columns.length, ...rows.map((r) => r.length));
  const head = Array.from({ length: n }, (_, i) => printable(columns[i] ?? `col${i + 1}`));
  const body = rows.map((r) => Array.from({ length: n }, (_, i) => cellText(r[i] ?? null, maxCellWidth)));
  const numeric = Array.from({ length: n }, (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null || r[i] === undefined));
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] as string).length)));
  const fmt = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i] as number) : i === n - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const lines = [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...body.map(fmt)];
  return lines.join('\n');
}

function section(title: string): string[] {
  return ['', title, '-'.repeat(title.length)];
}

function targetText(t: Record<string, unknown>): string {
  const str = (k: string): string | undefined => (typeof t[k] === 'string' && t[k] !== '' ? printable(t[k] as string) : undefined);
  const kind = str('kind') ?? (str('pod') ? 'pod' : 'target');
  const ns = str('namespace');
  const name = str('pod') ?? str('name');
  let s = `${kind} ${ns && name ? `${ns}/${name}` : (name ?? ns ?? '?')}`;
  const container = str('container');
  if (container) s += ` (container ${container})`;
  const node = str('node');
  if (node) s += ` on ${node}`;
  return s;
}

function histogramSummary(h: DocHistogram): string {
  const parts = [`count=${h.count}`];
  const f = (v: number | undefined): string | undefined => (v === undefined ? undefined : formatValue(v, h.unit));
  for (const [k, v] of [
    ['p50', f(h.p50)],
    ['p90', f(h.p90)],
    ['p99', f(h.p99)],
    ['mean', f(h.mean)],
  ] as const) {
    if (v !== undefined) parts.push(`${k}=${v}`);
  }
  if (h.max !== undefined) parts.push(`max${h.overflow ? '>=' : '<='}${formatValue(h.max, h.unit)}`);
  if (h.underflow) parts.push(`underflow=${h.underflow}`);
  if (h.overflow) parts.push(`overflow=${h.overflow}`);
  return parts.join(' ');
}

function tableTitle(t: DocTable, shown: number): string {
  const total = t.totalRows;
  if (t.truncated || shown < total) return `Table: ${printable(t.name)} (top ${shown} of ${total})`;
  return `Table: ${printable(t.name)} (${total} rows)`;
}

/** Renders the whole report; ends with a newline. */
export function renderReport(input: ResultDocument, options: ReportOptions = {}): string {
  const doc = normalizeDocument(input);
  const barWidth = options.barWidth ?? 52;
  const maxEvents = options.maxEvents ?? 50;
  const maxStacks = options.maxStacks ?? 10;
  const maxCell = options.maxCellWidth ?? 60;
  const out: string[] = [];
  const title = `TraceJob result: ${printable(doc.probe)}`;
  out.push(title, '='.repeat(title.length));
  const kv: Array<[string, string]> = [['Tracer', printable(`${doc.tracer.name} ${doc.tracer.version}`.trim())]];
  const targets = doc.targets ?? [];
  if (targets.length === 0) kv.push(['Target', '-']);
  targets.forEach((t, i) => kv.push([i === 0 ? (targets.length > 1 ? 'Targets' : 'Target') : '', targetText(t as Record<string, unknown>)]));
  if (doc.node) kv.push(['Node', printable(doc.node)]);
  kv.push(['Started', printable(doc.startedAt)], ['Finished', printable(doc.finishedAt)], ['Duration', formatDuration(doc.durationSeconds * 1e6)]);
  kv.push(['Status', doc.partial ? 'PARTIAL (the trace did not run to its end)' : 'complete']);
  kv.push(['Summary', headline(doc)]);
  if (doc.lostEvents > 0) kv.push(['Lost', `${doc.lostEvents} events`]);
  const kw = Math.max(...kv.map(([k]) => k.length)) + 1;
  for (const [k, v] of kv) out.push(`${(k ? `${k}:` : '').padEnd(kw)} ${v}`);

  const notes = [...doc.notes];
  if (doc.partial && !notes.some((n) => /partial/i.test(n))) notes.unshift('partial result: the trace was stopped before it finished');
  if (doc.lostEvents > 0 && !notes.some((n) => /lost/i.test(n))) notes.push(`${doc.lostEvents} events lost: counts are lower bounds`);
  if (notes.length > 0) {
    out.push(...section('Notes'));
    for (const n of notes) out.push(`- ${printable(n)}`);
  }

  if (doc.perNode && doc.perNode.length > 0) {
    out.push(...section(`Nodes (${doc.perNode.length})`));
    out.push(
      renderTable(
        ['node', 'summary', 'partial', 'lost'],
        doc.perNode.map((p) => [p.node ?? '-', p.headline, p.partial ? 'yes' : 'no', p.lostEvents]),
        maxCell,
      ),
    );
  }

  for (const h of doc.histograms) {
    const key = h.key !== undefined ? ` [${printable(h.key)}]` : '';
    out.push(...section(`Histogram: ${printable(h.name)}${key} (${printable(h.unit)})`));
    out.push(histogramSummary(h));
    out.push(renderHistogram(h.buckets, barWidth));
  }

  for (const t of doc.tables) {
    const rows = options.maxTableRows !== undefined ? t.rows.slice(0, options.maxTableRows) : t.rows;
    out.push(...section(tableTitle(t, rows.length)));
    out.push(rows.length > 0 ? renderTable(t.columns, rows, maxCell) : '(no rows)');
    const hidden = t.totalRows - rows.length;
    const more = `${hidden} more row${hidden === 1 ? '' : 's'}`;
    if (t.others !== undefined && t.others > 0 && hidden > 0) out.push(`(others: ${t.others} in ${more})`);
    else if (hidden > 0) out.push(`(${more} not shown)`);
  }

  const totalEvents = doc.events.length + doc.eventsDropped;
  if (totalEvents > 0) {
    const shown = doc.events.slice(0, maxEvents);
    out.push(...section(`Events (showing ${shown.length} of ${totalEvents})`));
    const cols: string[] = [];
    for (const e of shown) for (const k of Object.keys(e)) if (!cols.includes(k)) cols.push(k);
    if (cols.length === 1 && cols[0] === 'line') {
      for (const e of shown) out.push(cellText(e['line'] ?? null, 200));
    } else if (shown.length > 0) {
      out.push(renderTable(cols, shown.map((e) => cols.map((c) => e[c] ?? null)), maxCell));
    }
  }

  const counterKeys = Object.keys(doc.counters).sort();
  if (counterKeys.length > 0) {
    out.push(...section('Counters'));
    out.push(renderTable(['name', 'value'], counterKeys.map((k) => [k, doc.counters[k] ?? null]), maxCell));
  }

  if (doc.stacks) {
    const stacks = parseFolded(doc.stacks.folded);
    out.push(...section(`Stacks: ${doc.stacks.samples} samples, ${stacks.length} distinct`));
    const top = [...stacks].sort((a, b) => b.count - a.count || (a.frames.join(';') < b.frames.join(';') ? -1 : 1)).slice(0, maxStacks);
    const cw = Math.max(...top.map((s) => String(s.count).length), 5);
    for (const s of top) {
      let path = printable(s.frames.join(';'));
      if (path.length > 100) path = `...${path.slice(path.length - 97)}`;
      out.push(`${String(s.count).padStart(cw)}  ${path}`);
    }
    if (stacks.length > top.length) out.push(`(${stacks.length - top.length} more stacks in stacks.folded)`);
  }
  // Belt and braces: whatever a future section forgets is still escaped (idempotent).
  return printableText(`${out.join('\n')}\n`);
}
