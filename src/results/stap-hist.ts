/**
 * SystemTap output: `@hist_log` / `@hist_linear` text tables, and a JSON-lines
 * contract that lets stap scripts share the bpftrace parser.
 *
 * ## Histogram tables (as printed by the stap runtime, `_stp_stat_print_histogram`)
 * ```
 * value |-------------------------------------------------- count
 *     0 |@@@@                                                 4
 *     1 |@@@@@@@@@@@@@@@@@@@@                                20
 *     2 |                                                      0
 *       ~
 *    16 |@                                                     1
 *                                                               <- blank line ends the table
 * ```
 * Rows match `^\s*([<>]?)(-?\d+) \|@*\s+(\d+)$`; ` ~` stands for a run of empty
 * buckets (re-inserted here with count 0).
 * - `@hist_log`: a row labelled v covers [v, 2v − 1] for v > 0 (`1` is [1, 1]),
 *   `0` is [0, 0], and a negative v covers [2v + 1, v] (`-2` is [-3, -2]).
 * - `@hist_linear(x, start, stop, interval)`: a row v covers [v, v + interval − 1];
 *   `<start` is the underflow bucket (≤ start − 1, no `min`), and `>stop` the
 *   overflow bucket (≥ stop + interval, no `max`: the row before it, labelled
 *   `stop`, already covers [stop, stop + interval − 1]). The interval is the
 *   smallest step between adjacent printed rows (or `options.interval`).
 * - Kind detection: `<`/`>` rows mean linear; labels that are all 0/±2^k and step
 *   like log buckets mean log; otherwise linear. `options.kind` overrides.
 *
 * ## JSON lines contract for stap scripts ({@link createStapParser})
 * stap cannot print bpftrace's JSON by itself, so scripts print their own
 * records, one per line, in **the same shapes as bpftrace `-f json`** (see
 * bpftrace-json.ts), and the same parser reads them:
 * ```
 * {"type": "map", "data": {"@opens": {"bash": 3, "curl": 1}}}        count/sum maps (keys: parts joined by ",")
 * {"type": "map", "data": {"@total": 42}}                           scalars
 * {"type": "stats", "data": {"@lat": {"count": 3, "average": 20, "total": 60}}}
 * {"type": "printf", "data": "123 curl /etc/hosts\n"}               events
 * {"type": "lost_events", "count": 7}                               e.g. from a transport-overflow probe
 * {"type": "errorf", "msg": "..."} / {"type": "warnf", "msg": "..."}
 * ```
 * Histograms: print a tag line, then the table itself with `print(@hist_log(x))`:
 * ```
 * {"type": "hist_text", "name": "@lat"}                 → {"type":"hist","data":{"@lat":[buckets]}}
 * {"type": "hist_text", "name": "@lat", "key": "read"}  → consecutive keyed tables of one name are
 *                                                         gathered into {"@lat": {"read": [...], ...}}
 * ```
 * An optional `"kind": "log" | "linear"` and `"interval": N` on the tag override detection.
 * A table with no tag becomes `@hist<N>` (N counts from 1). Any other
 * non-blank, non-JSON line is kept as printf text (so plain `printf()` output
 * still lands in `printf`).
 * Strings must be strict JSON: stap's `string_quoted()` is C-style, so escape
 * `\` and `"` in the script, or keep keys to `[A-Za-z0-9_./:-]`. Lines that
 * fail to parse become `parse` warnings with their line number, like bpftrace's.
 */
import { createParser, type ParserOptions, type TraceParser } from './bpftrace-json.js';
import type { Bucket, ParsedTrace } from './types.js';

export type StapHistKind = 'log' | 'linear';

export interface StapHistogram {
  /** The last non-blank line before the header (e.g. a `printf` title), if any. */
  title?: string;
  kind: StapHistKind;
  buckets: Bucket[];
  /** 1-based line number of the `value |---- count` header. */
  line: number;
}

export interface StapHistOptions {
  kind?: StapHistKind;
  /** Linear bucket width when the table does not show two adjacent rows. */
  interval?: number;
}

interface Row {
  prefix: '' | '<' | '>';
  value: number;
  count: number;
  /** A `~` (elided empty buckets) came right before this row. */
  gapBefore: boolean;
}

const HEADER = /^\s*value \|-+ count\s*$/;
const ROW = /^\s*([<>]?)(-?\d+) \|@*\s+(\d+)\s*$/;
const ELISION = /^\s*~\s*$/;

export function isStapHistHeader(line: string): boolean {
  return HEADER.test(line);
}

/** Every histogram table in `text`, in order. */
export function parseStapHistograms(text: string, options: StapHistOptions = {}): StapHistogram[] {
  const lines = text.split('\n');
  const out: StapHistogram[] = [];
  let lastText: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '');
    if (!HEADER.test(line)) {
      if (line.trim()) lastText = line.trim();
      continue;
    }
    const rows: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const l = (lines[j] as string).replace(/\r$/, '');
      if (!ROW.test(l) && !ELISION.test(l)) break;
      rows.push(l);
    }
    const h: StapHistogram = { kind: 'log', buckets: [], line: i + 1 };
    const parsed = tableToBuckets(rows, options);
    h.kind = parsed.kind;
    h.buckets = parsed.buckets;
    if (lastText !== undefined) h.title = lastText;
    out.push(h);
    lastText = undefined;
    i = j - 1;
  }
  return out;
}

/** The first histogram table's buckets (empty when there is none). */
export function parseStapHist(text: string, options: StapHistOptions = {}): Bucket[] {
  return parseStapHistograms(text, options)[0]?.buckets ?? [];
}

/** Converts table rows (after the header, before the blank line) into buckets. */
export function tableToBuckets(rowLines: readonly string[], options: StapHistOptions = {}): { kind: StapHistKind; buckets: Bucket[] } {
  const rows: Row[] = [];
  let gap = false;
  for (const l of rowLines) {
    if (ELISION.test(l)) {
      gap = true;
      continue;
    }
    const m = ROW.exec(l);
    if (!m) continue;
    rows.push({ prefix: (m[1] ?? '') as Row['prefix'], value: Number(m[2]), count: Number(m[3]), gapBefore: gap });
    gap = false;
  }
  const kind = options.kind ?? detectKind(rows);
  return { kind, buckets: kind === 'log' ? logBuckets(rows) : linearBuckets(rows, options.interval) };
}

function isLogLabel(v: number): boolean {
  const a = Math.abs(v);
  return v === 0 || Number.isInteger(Math.log2(a));
}

/** The label of the log bucket after `v`: …, -4, -2, -1, 0, 1, 2, 4, … */
function logNext(v: number): number {
  if (v === -1) return 0;
  if (v < 0) return v / 2;
  if (v === 0) return 1;
  return v * 2;
}

function detectKind(rows: readonly Row[]): StapHistKind {
  if (rows.some((r) => r.prefix !== '')) return 'linear';
  if (!rows.every((r) => isLogLabel(r.value))) return 'linear';
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1] as Row;
    const b = rows[i] as Row;
    if (b.value <= a.value) return 'linear';
    if (!b.gapBefore && logNext(a.value) !== b.value) return 'linear';
  }
  return 'log';
}

function logBucket(v: number, count: number): Bucket {
  if (v === 0) return { min: 0, max: 0, count };
  if (v > 0) return { min: v, max: 2 * v - 1, count };
  return { min: 2 * v + 1, max: v, count };
}

function logBuckets(rows: readonly Row[]): Bucket[] {
  const out: Bucket[] = [];
  let prev: number | undefined;
  for (const r of rows) {
    if (prev !== undefined) {
      let guard = 0;
      for (let v = logNext(prev); v < r.value && guard < 256; v = logNext(v), guard++) out.push(logBucket(v, 0));
    }
    out.push(logBucket(r.value, r.count));
    prev = r.value;
  }
  return out;
}

function linearBuckets(rows: readonly Row[], intervalOption?: number): Bucket[] {
  const normal = rows.filter((r) => r.prefix === '');
  let interval = intervalOption;
  if (interval === undefined) {
    for (let i = 1; i < rows.length; i++) {
      const a = rows[i - 1] as Row;
      const b = rows[i] as Row;
      if (a.prefix === '' && b.prefix === '' && !b.gapBefore && b.value > a.value) {
        const d = b.value - a.value;
        if (interval === undefined || d < interval) interval = d;
      }
    }
  }
  if (interval === undefined) {
    // Only gaps between rows: the step divides every difference.
    let g = 0;
    for (let i = 1; i < normal.length; i++) g = gcd(g, (normal[i] as Row).value - (normal[i - 1] as Row).value);
    interval = g > 0 ? g : 1;
  }
  const out: Bucket[] = [];
  let next: number | undefined;
  for (const r of rows) {
    if (r.prefix === '<') {
      out.push({ max: r.value - 1, count: r.count });
      next = r.value;
      continue;
    }
    if (r.prefix === '>') {
      out.push({ min: r.value + interval, count: r.count });
      continue;
    }
    if (next !== undefined) {
      let guard = 0;
      for (let v = next; v < r.value && guard < 4096; v += interval, guard++) out.push({ min: v, max: v + interval - 1, count: 0 });
    }
    out.push({ min: r.value, max: r.value + interval - 1, count: r.count });
    next = r.value + interval;
  }
  return out;
}

function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b) [a, b] = [b, a % b];
  return a;
}

// ---------------------------------------------------------------------------
// JSON lines + tables → the bpftrace parser

export type StapParser = TraceParser;

interface PendingKeyed {
  name: string;
  hists: Array<[key: string, buckets: Bucket[]]>;
}

/**
 * A streaming reader for stap stdout under the contract above. It turns tagged
 * tables into `hist` records and plain text into `printf` records, and feeds
 * everything to {@link createParser}, so the result is a {@link ParsedTrace}
 * exactly like bpftrace's.
 */
export function createStapParser(options: ParserOptions = {}): StapParser {
  const inner = createParser(options);
  let partial = '';
  let tag: { name: string; key?: string; kind?: StapHistKind; interval?: number } | undefined;
  let table: string[] | undefined;
  let untagged = 0;
  let pending: PendingKeyed | undefined;

  const emit = (record: unknown): void => inner.inject(JSON.stringify(record));

  const flushPending = (): void => {
    if (!pending) return;
    const data: Record<string, Bucket[]> = {};
    for (const [k, b] of pending.hists) Object.defineProperty(data, k, { value: b, enumerable: true, writable: true, configurable: true });
    emit({ type: 'hist', data: { [pending.name]: data } });
    pending = undefined;
  };

  const endTable = (): void => {
    if (!table) return;
    const rows = table;
    table = undefined;
    const opts: StapHistOptions = {};
    if (tag?.kind) opts.kind = tag.kind;
    if (tag?.interval) opts.interval = tag.interval;
    const { buckets } = tableToBuckets(rows, opts);
    if (tag && tag.key !== undefined) {
      if (pending && pending.name !== tag.name) flushPending();
      pending ??= { name: tag.name, hists: [] };
      pending.hists.push([tag.key, buckets]);
    } else {
      flushPending();
      const name = tag?.name ?? `@hist${++untagged}`;
      emit({ type: 'hist', data: { [name]: buckets } });
    }
    tag = undefined;
  };

  const push = (raw: string): void => {
    const line = raw.replace(/\r$/, '');
    if (table) {
      if (ROW.test(line) || ELISION.test(line)) {
        table.push(line);
        inner.skipLine();
        return;
      }
      endTable(); // a blank line (or anything else) ends the table
    }
    if (HEADER.test(line)) {
      table = [];
      inner.skipLine();
      return;
    }
    const trimmed = line.trim();
    if (trimmed.startsWith('{')) {
      const t = readTag(trimmed);
      if (t) {
        if (pending && (t.key === undefined || t.name !== pending.name)) flushPending();
        tag = t;
        inner.skipLine();
        return;
      }
      flushPending();
      inner.push(line);
      return;
    }
    if (!trimmed) {
      inner.skipLine(); // blank lines end tables; they are not snapshot boundaries here
      return;
    }
    flushPending();
    inner.skipLine();
    emit({ type: 'printf', data: `${line}\n` });
  };

  const finishAll = (): ParsedTrace => {
    if (partial) {
      const l = partial;
      partial = '';
      push(l);
    }
    endTable();
    flushPending();
    return inner.finish();
  };

  return {
    push,
    skipLine: () => inner.skipLine(),
    inject: (line: string) => inner.inject(line),
    write(chunk: string): void {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf('\n', start);
        if (nl < 0) break;
        const line = partial + chunk.slice(start, nl);
        partial = '';
        push(line);
        start = nl + 1;
      }
      if (start < chunk.length) partial += chunk.slice(start);
    },
    finish: finishAll,
    result: () => inner.result(),
  };
}

/** Parses a whole stap stdout capture (JSON lines, tagged tables, text). */
export function parseStapOutput(text: string, options: ParserOptions = {}): ParsedTrace {
  const p = createStapParser(options);
  p.write(text);
  return p.finish();
}

function readTag(line: string): { name: string; key?: string; kind?: StapHistKind; interval?: number } | undefined {
  if (!line.includes('"hist_text"')) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof obj !== 'object' || obj === null) return undefined;
  const r = obj as Record<string, unknown>;
  if (r['type'] !== 'hist_text' || typeof r['name'] !== 'string') return undefined;
  const t: { name: string; key?: string; kind?: StapHistKind; interval?: number } = { name: r['name'] };
  if (typeof r['key'] === 'string' || typeof r['key'] === 'number') t.key = String(r['key']);
  if (r['kind'] === 'log' || r['kind'] === 'linear') t.kind = r['kind'];
  if (typeof r['interval'] === 'number' && r['interval'] > 0) t.interval = r['interval'];
  return t;
}
