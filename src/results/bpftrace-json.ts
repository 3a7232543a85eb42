/**
 * Parser for bpftrace `-f json` output (NDJSON), v0.17 and v0.24+ shapes.
 *
 * Contract (see /work/shared/reference/bpftrace-and-stap.md and testdata/README.md):
 * - One JSON record per line; blank lines (v0.17 prints two before the exit dump)
 *   are skipped. A line that is not JSON never throws: it becomes a `parse`
 *   warning carrying its 1-based line number. The v0.17 strftime-in-a-map bug
 *   (`{"@ts": 04:04:04}`) is repaired (the bare word is read as a string) and
 *   still reported as a warning.
 * - Dispatch on `type`. Known: `attached_probes`, `lost_events` (from `data.probes`
 *   / `data.events` in v0.17, or top-level `count` in v0.24+), `printf`, `time`,
 *   `map`, `hist`, `stats`, `tseries`, `helper_error`, `runtime_error`, `errorf`,
 *   `warnf`, `print_error`; `cat`, `join` and `syscall` (system()) are treated as
 *   printf text. Anything else is kept verbatim in `unknown`.
 * - Numbers: JSON numbers and digit strings (v0.24+ prints integers a double
 *   cannot hold as strings) both become `number`. **Decision:** values stay
 *   `number` so that sums, sorting and histogram maths work everywhere; when an
 *   integer is beyond ±(2^53 − 1) the exact digits are kept next to it
 *   (`exact`) for scalars and keyed entries. Map keys are always exact strings.
 * - Keys: a v0.17 multi-key prints as `"4674,bash"`, v0.24+ as the same without
 *   any spaces; both split on `,` into `key: string[]`. All keys of one map have
 *   the same arity, so a key that splits into more parts than the others (a comma
 *   inside a string key) is folded back: its extra parts are re-joined into the
 *   last part. Stack parts (`kstack`/`ustack`: a part that starts with a newline
 *   and ends at a newline followed by `,` or the end) are split on newlines,
 *   trimmed and emptied lines dropped, frames kept in bpftrace's order (innermost
 *   first). A count map keyed by stacks becomes kind `stack`.
 * - Duplicate keys inside one map record (real: see json-loose.ts) are all kept
 *   as separate entries; `topn.ts`/`flamegraph.ts` sum them.
 * - Histograms (`hist()` and `lhist()` both arrive as `hist`): buckets
 *   `{min?, max?, count}`; keyed histograms `{"@h": {key: [buckets]}}`.
 * - Interval snapshots: bpftrace prints a map again on every `print()`. Every
 *   map record is appended to the current snapshot; a new snapshot starts when a
 *   map already in the current snapshot is printed again, or when a `printf`/
 *   `time` record (or a blank line: v0.17's exit dump) follows at least one map.
 *   The snapshot's `marker` is the last
 *   `printf`/`time` text seen before its first map. `maps` holds the latest value
 *   per map name (so a map printed by an interval probe and then cleared keeps
 *   its last non-empty dump: bpftrace prints nothing for empty maps).
 * - Messages: `errorf`, `runtime_error` and `print_error` go to `errors`;
 *   `helper_error` (bpftrace itself reports these as warnings), `warnf` and this
 *   parser's own `parse` findings go to `warnings`.
 * - Bounded memory for long-running streams: printf records (`maxPrintf`),
 *   snapshots (`maxSnapshots`, oldest dropped), unknown records and distinct
 *   messages are capped; identical messages are counted, not repeated. Past
 *   `maxPrintf` (and with no `onRecord`), canonical printf lines are counted
 *   without being decoded — the fast path that keeps long event streams cheap.
 */
import { JBigNumber, JObject, type JValue, parseLoose, toPlain } from './json-loose.js';
import type {
  Bucket,
  KeyedEntry,
  MapKey,
  MapValue,
  ParsedTrace,
  PlainJson,
  Snapshot,
  StackEntry,
  StatsValue,
  TimeSeriesPoint,
  TracerMessage,
  TracerMessageKind,
} from './types.js';

export type * from './types.js';

export interface ParserOptions {
  /** printf records kept (the rest are only counted in `printfDropped`). Default 100 000. */
  maxPrintf?: number;
  /** Snapshots kept, newest last (older ones are dropped). Default 1 000. */
  maxSnapshots?: number;
  /** Unknown records kept. Default 1 000. */
  maxUnknown?: number;
  /** Distinct error/warning messages kept (repeats are always counted). Default 1 000. */
  maxMessages?: number;
  /** Called for every record as it is read (streaming consumers, e.g. live events). */
  onRecord?: (record: TraceRecord, lineNo: number) => void;
}

/** One stdout record after normalisation. */
export type TraceRecord =
  | { type: 'attached_probes'; probes: number }
  | { type: 'lost_events'; events: number }
  | { type: 'printf'; text: string; source: 'printf' | 'cat' | 'join' | 'syscall' }
  | { type: 'time'; text: string }
  | { type: 'map'; name: string; value: MapValue }
  | { type: 'message'; message: Omit<TracerMessage, 'firstLine' | 'count'> }
  | { type: 'unknown'; raw: unknown };

export interface TraceParser {
  /** Feeds one stdout line (without its newline). */
  push(line: string): void;
  /** Feeds an arbitrary chunk of stdout; partial lines are buffered until their newline. */
  write(chunk: string): void;
  /** Flushes a buffered partial line and returns the result. The parser can keep going afterwards. */
  finish(): ParsedTrace;
  /** The result so far, without flushing a partial line. */
  result(): ParsedTrace;
  /** Counts a stdout line that holds no record (keeps line numbers in warnings right). */
  skipLine(): void;
  /** Parses a record that is not a stdout line of its own (e.g. synthesised by a wrapper), attributed to the current line. */
  inject(line: string): void;
}

const MAP_TYPES = new Set(['map', 'hist', 'stats', 'tseries']);
const TEXT_TYPES = new Set(['printf', 'cat', 'join', 'syscall']);
const ERROR_KINDS = new Set<TracerMessageKind>(['runtime_error', 'errorf', 'print_error']);
const TYPE_PREFIX = /^\s*\{\s*"type"\s*:\s*"([A-Za-z_]+)"/;

/** Parses a whole stdout capture. */
export function parseBpftraceJson(text: string, options: ParserOptions = {}): ParsedTrace {
  const parser = createParser(options);
  parser.write(text);
  return parser.finish();
}

/** A line-at-a-time parser for a live stdout stream. */
export function createParser(options: ParserOptions = {}): TraceParser {
  const maxPrintf = options.maxPrintf ?? 100_000;
  const maxSnapshots = options.maxSnapshots ?? 1_000;
  const maxUnknown = options.maxUnknown ?? 1_000;
  const maxMessages = options.maxMessages ?? 1_000;
  const onRecord = options.onRecord;

  const out: ParsedTrace = {
    lostEvents: 0,
    maps: {},
    printf: [],
    printfDropped: 0,
    errors: [],
    warnings: [],
    snapshots: [],
    snapshotsDropped: 0,
    unknown: [],
    lines: 0,
    records: 0,
  };
  const messageIndex = new Map<string, TracerMessage>();
  let current: Snapshot | undefined; // the open snapshot (has ≥ 1 map)
  // The marker text, or (fast path, printf past the cap) its JSON string literal, decoded on use.
  let pendingMarker: string | undefined;
  let pendingMarkerLiteral: string | undefined;
  let partial = '';

  const addMessage = (m: Omit<TracerMessage, 'firstLine' | 'count'>, lineNo: number): void => {
    const id = `${m.kind}\u0000${m.message}\u0000${m.helper ?? ''}\u0000${m.retcode ?? ''}\u0000${m.line ?? ''}\u0000${m.col ?? ''}`;
    const seen = messageIndex.get(id);
    if (seen) {
      seen.count++;
      return;
    }
    if (messageIndex.size >= maxMessages) return;
    const msg: TracerMessage = { ...m, firstLine: lineNo, count: 1 };
    messageIndex.set(id, msg);
    (ERROR_KINDS.has(m.kind) ? out.errors : out.warnings).push(msg);
  };

  const parseWarning = (message: string, lineNo: number): void => {
    // Not deduplicated by text: each bad line is its own finding (the line number matters).
    if (messageIndex.size >= maxMessages) return;
    const msg: TracerMessage = { kind: 'parse', message, firstLine: lineNo, count: 1 };
    messageIndex.set(`parse\u0000${lineNo}\u0000${message}`, msg);
    out.warnings.push(msg);
  };

  const addMarker = (text: string): void => {
    if (current) current = undefined; // a marker after maps closes the snapshot
    pendingMarker = text.trim();
    pendingMarkerLiteral = undefined;
  };

  const addMap = (name: string, value: MapValue): void => {
    if (current && Object.prototype.hasOwnProperty.call(current.maps, name)) current = undefined;
    if (!current) {
      current = { maps: {} };
      if (pendingMarkerLiteral !== undefined) {
        try {
          pendingMarker = (JSON.parse(pendingMarkerLiteral) as string).trim();
        } catch {
          pendingMarker = undefined;
        }
      }
      if (pendingMarker !== undefined) current.marker = pendingMarker;
      pendingMarker = undefined;
      pendingMarkerLiteral = undefined;
      out.snapshots.push(current);
      if (out.snapshots.length > maxSnapshots) {
        out.snapshots.shift();
        out.snapshotsDropped++;
      }
    }
    setOwn(current.maps, name, value);
    setOwn(out.maps, name, value);
  };

  const handle = (rec: TraceRecord, lineNo: number): void => {
    switch (rec.type) {
      case 'attached_probes':
        out.attachedProbes = rec.probes;
        break;
      case 'lost_events':
        out.lostEvents += rec.events;
        break;
      case 'printf':
        if (out.printf.length < maxPrintf) out.printf.push(rec.text);
        else out.printfDropped++;
        addMarker(rec.text);
        break;
      case 'time':
        addMarker(rec.text);
        break;
      case 'map':
        addMap(rec.name, rec.value);
        break;
      case 'message':
        addMessage(rec.message, lineNo);
        break;
      case 'unknown':
        if (out.unknown.length < maxUnknown) out.unknown.push(rec.raw);
        break;
    }
    onRecord?.(rec, lineNo);
  };

  const parse = (line: string, lineNo: number): void => {
    if (line.length === 0 || isBlank(line)) {
      current = undefined; // v0.17 prints blank lines before the exit dump: a snapshot boundary
      return;
    }
    // Fast path for the bulk of a stream: `{"type": "printf", "data": "…"}`.
    const literal = printfLiteral(line);
    if (literal !== undefined) {
      if (out.printf.length >= maxPrintf && !onRecord) {
        // Past the cap nothing keeps the text: count it, decode only if it becomes a marker.
        out.records++;
        out.printfDropped++;
        current = undefined;
        pendingMarker = undefined;
        pendingMarkerLiteral = literal;
        return;
      }
      let text: unknown;
      try {
        text = JSON.parse(literal);
      } catch {
        text = undefined;
      }
      if (typeof text === 'string') {
        out.records++;
        handle({ type: 'printf', text, source: 'printf' }, lineNo);
        return;
      }
    }
    const records = readLine(line, lineNo, parseWarning);
    if (records === undefined) return;
    out.records++;
    for (const r of records) handle(r, lineNo);
  };

  const push = (line: string): void => {
    out.lines++;
    parse(line, out.lines);
  };

  return {
    push,
    skipLine(): void {
      out.lines++;
    },
    inject(line: string): void {
      parse(line, Math.max(out.lines, 1));
    },
    write(chunk: string): void {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf('\n', start);
        if (nl < 0) break;
        let line = chunk.slice(start, nl);
        if (partial) {
          line = partial + line;
          partial = '';
        }
        push(line.endsWith('\r') ? line.slice(0, -1) : line);
        start = nl + 1;
      }
      if (start < chunk.length) partial += chunk.slice(start);
    },
    finish(): ParsedTrace {
      if (partial) {
        const line = partial;
        partial = '';
        push(line);
      }
      return out;
    },
    result: () => out,
  };
}

const PRINTF_PREFIXES = ['{"type": "printf", "data": "', '{"type":"printf","data":"'];

/** The JSON string literal of a canonical printf record line, or undefined. */
function printfLiteral(line: string): string | undefined {
  if (line.charCodeAt(line.length - 1) !== 0x7d || line.charCodeAt(line.length - 2) !== 0x22) return undefined;
  for (const prefix of PRINTF_PREFIXES) {
    if (line.startsWith(prefix)) return line.slice(prefix.length - 1, -1);
  }
  return undefined;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  }
  return true;
}

/**
 * Reads one non-blank line into records (a map record may carry several maps).
 * Returns undefined (after reporting a warning) when the line is unusable.
 */
function readLine(
  line: string,
  lineNo: number,
  warn: (message: string, lineNo: number) => void,
): TraceRecord[] | undefined {
  if (line.trimStart().charCodeAt(0) !== 0x7b /* { */) {
    warn(`not a JSON record: ${excerpt(line)}`, lineNo);
    return undefined;
  }
  const typeMatch = TYPE_PREFIX.exec(line);
  const type = typeMatch?.[1];
  // Map-like records need duplicate-preserving, big-int-exact parsing; the rest
  // (mostly printf, the bulk of a stream) take the fast native path.
  if (type === undefined || !MAP_TYPES.has(type)) {
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      return readLoose(line, lineNo, warn);
    }
    if (!isRecordObject(obj)) {
      warn(`not a JSON record: ${excerpt(line)}`, lineNo);
      return undefined;
    }
    const t = obj['type'];
    if (typeof t === 'string' && MAP_TYPES.has(t)) return readLoose(line, lineNo, warn);
    return [plainRecord(obj)];
  }
  return readLoose(line, lineNo, warn);
}

function readLoose(
  line: string,
  lineNo: number,
  warn: (message: string, lineNo: number) => void,
): TraceRecord[] | undefined {
  let parsed;
  try {
    parsed = parseLoose(line, { lenient: true });
  } catch (err) {
    warn(`invalid JSON (${(err as Error).message}): ${excerpt(line)}`, lineNo);
    return undefined;
  }
  if (parsed.repairs.length > 0) warn(`invalid JSON repaired (${parsed.repairs.join('; ')}): ${excerpt(line)}`, lineNo);
  const obj = parsed.value;
  if (!(obj instanceof JObject)) {
    warn(`not a JSON record: ${excerpt(line)}`, lineNo);
    return undefined;
  }
  const type = obj.get('type');
  if (typeof type === 'string' && MAP_TYPES.has(type)) {
    const data = obj.get('data');
    if (!(data instanceof JObject)) return [{ type: 'unknown', raw: toPlain(obj) }];
    const recs: TraceRecord[] = [];
    for (let i = 0; i < data.keys.length; i++) {
      recs.push({ type: 'map', name: data.keys[i] as string, value: toMapValue(type, data.values[i] as JValue) });
    }
    return recs;
  }
  const plain = toPlain(obj);
  return [isRecordObject(plain) ? plainRecord(plain) : { type: 'unknown', raw: plain }];
}

/** Normalises a non-map record that JSON.parse produced. */
function plainRecord(obj: Record<string, unknown>): TraceRecord {
  const type = obj['type'];
  const data = obj['data'];
  switch (type) {
    case 'attached_probes': {
      const n = num(obj['count']) ?? num(field(data, 'probes'));
      return n === undefined ? { type: 'unknown', raw: obj } : { type: 'attached_probes', probes: n };
    }
    case 'lost_events': {
      const n = num(obj['count']) ?? num(field(data, 'events'));
      return n === undefined ? { type: 'unknown', raw: obj } : { type: 'lost_events', events: n };
    }
    case 'time':
      return typeof data === 'string' ? { type: 'time', text: data } : { type: 'unknown', raw: obj };
    case 'helper_error':
    case 'runtime_error':
    case 'errorf':
    case 'warnf':
    case 'print_error':
      return { type: 'message', message: messageOf(type, obj) };
    default:
      if (typeof type === 'string' && TEXT_TYPES.has(type) && typeof data === 'string') {
        return { type: 'printf', text: data, source: type as 'printf' | 'cat' | 'join' | 'syscall' };
      }
      return { type: 'unknown', raw: obj };
  }
}

function messageOf(kind: TracerMessageKind, obj: Record<string, unknown>): Omit<TracerMessage, 'firstLine' | 'count'> {
  const msg: Omit<TracerMessage, 'firstLine' | 'count'> = { kind, message: '' };
  const data = obj['data'];
  const pick = (k: string): unknown => obj[k] ?? field(data, k);
  const helper = pick('helper');
  const retcode = num(pick('retcode'));
  const filename = pick('filename');
  const line = num(pick('line'));
  const col = num(pick('col'));
  const text = pick('msg') ?? (typeof data === 'string' ? data : undefined);
  if (typeof helper === 'string') msg.helper = helper;
  if (retcode !== undefined) msg.retcode = retcode;
  if (typeof filename === 'string') msg.filename = filename;
  if (line !== undefined) msg.line = line;
  if (col !== undefined) msg.col = col;
  if (typeof text === 'string') msg.message = text.trimEnd();
  else if (kind === 'helper_error') msg.message = `${msg.helper ?? 'helper'} failed${retcode !== undefined ? `: ${errnoName(retcode)}` : ''}`;
  else msg.message = kind;
  return msg;
}

const ERRNO: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  3: 'ESRCH',
  7: 'E2BIG',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  22: 'EINVAL',
  28: 'ENOSPC',
  95: 'EOPNOTSUPP',
};

function errnoName(retcode: number): string {
  const name = ERRNO[-retcode];
  return name ? `${name} (${retcode})` : `retcode ${retcode}`;
}

// ---------------------------------------------------------------------------
// Map values

function toMapValue(type: string, v: JValue): MapValue {
  switch (type) {
    case 'hist':
      return histValue(v);
    case 'stats':
      return statsValue(v);
    case 'tseries':
      return tseriesValue(v);
    default:
      return mapValue(v);
  }
}

function mapValue(v: JValue): MapValue {
  const n = numeric(v);
  if (n !== undefined) return scalarOf(n);
  if (!(v instanceof JObject)) return { kind: 'other', entries: [{ key: [], value: toPlain(v) as PlainJson }] };

  const rawKeys = v.keys;
  const vals = v.values;
  // Plain numbers need no wrapper; only big/string numbers carry an `exact`.
  const values: number[] = new Array<number>(vals.length);
  let exacts: Array<string | undefined> | undefined;
  let allNumeric = true;
  for (let i = 0; i < vals.length; i++) {
    const x = vals[i];
    if (typeof x === 'number') {
      values[i] = x;
      continue;
    }
    const n = numeric(x as JValue);
    if (n === undefined) {
      allNumeric = false;
      break;
    }
    values[i] = n.value;
    if (n.exact !== undefined) (exacts ??= [])[i] = n.exact;
  }
  if (allNumeric) {
    const keys = splitKeys(rawKeys);
    if (keys.some((k) => k.stacks.length > 0)) {
      alignEmptyStacks(keys);
      const entries: StackEntry[] = keys.map((k, i) => ({
        frames: k.stacks.length === 1 ? (k.stacks[0] as string[]) : k.stacks.flat(),
        stacks: k.stacks,
        key: k.parts,
        value: values[i] as number,
      }));
      return { kind: 'stack', entries };
    }
    const entries: KeyedEntry[] = new Array<KeyedEntry>(keys.length);
    for (let i = 0; i < keys.length; i++) {
      const e: KeyedEntry = { key: (keys[i] as SplitKey).parts, value: values[i] as number };
      const exact = exacts?.[i];
      if (exact !== undefined) e.exact = exact;
      entries[i] = e;
    }
    return { kind: 'keyed', entries };
  }
  const keys = splitKeys(rawKeys).map(flatKey);
  return {
    kind: 'other',
    entries: keys.map((key, i) => ({ key, value: toPlain(v.values[i] as JValue) as PlainJson })),
  };
}

function scalarOf(n: { value: number; exact?: string }): MapValue {
  const s: MapValue = { kind: 'scalar', value: n.value };
  if (n.exact !== undefined) s.exact = n.exact;
  return s;
}

function histValue(v: JValue): MapValue {
  if (Array.isArray(v)) return { kind: 'hist', buckets: buckets(v) };
  if (v instanceof JObject) {
    const keys = splitKeys(v.keys).map(flatKey);
    return {
      kind: 'keyedHist',
      hists: keys.map((key, i) => {
        const b = v.values[i] as JValue;
        return { key, buckets: Array.isArray(b) ? buckets(b) : [] };
      }),
    };
  }
  return { kind: 'other', entries: [{ key: [], value: toPlain(v) as PlainJson }] };
}

function buckets(arr: JValue[]): Bucket[] {
  const out: Bucket[] = [];
  for (const b of arr) {
    if (!(b instanceof JObject)) continue;
    const count = numeric(b.get('count') ?? null)?.value ?? 0;
    const bucket: Bucket = { count };
    const min = numeric(b.get('min') ?? null);
    const max = numeric(b.get('max') ?? null);
    if (min !== undefined) bucket.min = min.value;
    if (max !== undefined) bucket.max = max.value;
    // Key order of the output object: min, max, count (deterministic for tests/snapshots).
    out.push(min === undefined && max === undefined ? { count } : reorderBucket(bucket));
  }
  return out;
}

function reorderBucket(b: Bucket): Bucket {
  const out: Bucket = {} as Bucket;
  if (b.min !== undefined) out.min = b.min;
  if (b.max !== undefined) out.max = b.max;
  out.count = b.count;
  return out;
}

function statsOf(v: JValue): StatsValue | undefined {
  const n = numeric(v);
  if (n !== undefined) return { average: n.value };
  if (v instanceof JObject) {
    const average = numeric(v.get('average') ?? null);
    if (average === undefined) return undefined;
    const s: StatsValue = { average: average.value };
    const count = numeric(v.get('count') ?? null);
    const total = numeric(v.get('total') ?? null);
    if (count !== undefined) s.count = count.value;
    if (total !== undefined) s.total = total.value;
    return { ...(s.count !== undefined ? { count: s.count } : {}), average: s.average, ...(s.total !== undefined ? { total: s.total } : {}) };
  }
  return undefined;
}

function statsValue(v: JValue): MapValue {
  const direct = statsOf(v);
  // `{"count": .., "average": .., "total": ..}` is one unkeyed stats(); a keyed avg() map
  // has arbitrary keys whose values are numbers.
  if (direct !== undefined && (!(v instanceof JObject) || isStatsRecord(v))) return { kind: 'stats', ...direct };
  if (v instanceof JObject) {
    const keys = splitKeys(v.keys).map(flatKey);
    const entries: Array<{ key: MapKey } & StatsValue> = [];
    for (let i = 0; i < keys.length; i++) {
      const s = statsOf(v.values[i] as JValue);
      if (s) entries.push({ key: keys[i] as MapKey, ...s });
    }
    return { kind: 'keyedStats', entries };
  }
  return { kind: 'other', entries: [{ key: [], value: toPlain(v) as PlainJson }] };
}

function isStatsRecord(o: JObject): boolean {
  return o.keys.includes('average') && o.keys.every((k) => k === 'count' || k === 'average' || k === 'total');
}

function tseriesValue(v: JValue): MapValue {
  const points = (arr: JValue): TimeSeriesPoint[] => {
    if (!Array.isArray(arr)) return [];
    const out: TimeSeriesPoint[] = [];
    for (const p of arr) {
      if (!(p instanceof JObject)) continue;
      const value = numeric(p.get('value') ?? null);
      if (value === undefined) continue;
      const start = p.get('interval_start');
      out.push({ intervalStart: start instanceof JBigNumber ? start.raw : String(start ?? ''), value: value.value });
    }
    return out;
  };
  if (Array.isArray(v)) return { kind: 'tseries', series: [{ key: [], points: points(v) }] };
  if (v instanceof JObject) {
    const keys = splitKeys(v.keys).map(flatKey);
    return { kind: 'tseries', series: keys.map((key, i) => ({ key, points: points(v.values[i] as JValue) })) };
  }
  return { kind: 'other', entries: [{ key: [], value: toPlain(v) as PlainJson }] };
}

/** A JSON number, big number or digit string (v0.24+ big ints) as a number. */
function numeric(v: JValue): { value: number; exact?: string } | undefined {
  if (typeof v === 'number') return { value: v };
  if (v instanceof JBigNumber) return { value: v.value, exact: v.raw };
  if (typeof v === 'string' && /^-?\d+$/.test(v)) {
    const n = Number(v);
    return Number.isSafeInteger(n) ? { value: n } : { value: n, exact: v.replace(/^(-?)0+(?=\d)/, '$1') };
  }
  return undefined;
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  return undefined;
}

function field(data: unknown, key: string): unknown {
  return isRecordObject(data) ? data[key] : undefined;
}

function isRecordObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setOwn<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function excerpt(line: string): string {
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

// ---------------------------------------------------------------------------
// Keys

export interface SplitKey {
  /** Non-stack parts, in order. */
  parts: string[];
  /** Stack parts, in order, each as frames (innermost first). */
  stacks: string[][];
  /** All parts in order; stacks as frames joined with `;`. */
  all: string[];
  /** Per entry of `all`: whether it is a stack (absent when the key has no stack). */
  kinds?: Array<'stack' | 'part'>;
}

const NO_STACKS: string[][] = [];

/**
 * Splits one printed map key. `"4674,bash"` → parts ["4674","bash"];
 * `"\n    f1+3\n    f2+9\n,bash"` → stacks [["f1+3","f2+9"]], parts ["bash"].
 */
export function splitKey(raw: string): SplitKey {
  if (raw.indexOf('\n') < 0) {
    const p = raw.indexOf(',') < 0 ? [raw] : raw.split(',');
    return { parts: p, stacks: NO_STACKS, all: p };
  }
  const parts: string[] = [];
  const stacks: string[][] = [];
  const all: string[] = [];
  const kinds: Array<'stack' | 'part'> = [];
  let i = 0;
  for (;;) {
    if (raw.charCodeAt(i) === 0x0a) {
      // A stack: up to a newline followed by ',' or the end.
      let j = i;
      let end = -1;
      for (;;) {
        const nl = raw.indexOf('\n', j + 1);
        if (nl < 0) break;
        if (nl === raw.length - 1 || raw.charCodeAt(nl + 1) === 0x2c) {
          end = nl;
          break;
        }
        j = nl;
      }
      const stop = end < 0 ? raw.length : end + 1;
      const frames = splitFrames(raw.slice(i, stop));
      stacks.push(frames);
      all.push(frames.join(';'));
      kinds.push('stack');
      if (stop >= raw.length) break;
      i = stop + 1; // skip ','
      if (i > raw.length) break;
      if (i === raw.length) {
        parts.push('');
        all.push('');
        kinds.push('part');
        break;
      }
      continue;
    }
    const comma = raw.indexOf(',', i);
    const part = comma < 0 ? raw.slice(i) : raw.slice(i, comma);
    parts.push(part);
    all.push(part);
    kinds.push('part');
    if (comma < 0) break;
    i = comma + 1;
    if (i === raw.length) {
      parts.push('');
      all.push('');
      break;
    }
  }
  return stacks.length > 0 ? { parts, stacks, all, kinds } : { parts, stacks, all };
}

/** Splits a printed stack into frames: newline-separated, trimmed, empty lines dropped. */
export function splitFrames(stack: string): string[] {
  const out: string[] = [];
  for (const l of stack.split('\n')) {
    const t = l.trim();
    if (t) out.push(t);
  }
  return out;
}

/**
 * Splits every key of one map and folds over-split keys (a `,` inside a string
 * key) back to the map's arity: the arity is the smallest part count among keys,
 * and a longer key's extra parts are re-joined into its last part.
 */
function splitKeys(rawKeys: string[]): SplitKey[] {
  const keys = rawKeys.map(splitKey);
  let arity = Infinity;
  for (const k of keys) arity = Math.min(arity, k.all.length);
  if (!Number.isFinite(arity)) return keys;
  for (const k of keys) {
    if (k.parts.length > arity && k.stacks.length === 0) {
      const head = k.parts.slice(0, Math.max(arity - 1, 0));
      const tail = k.parts.slice(Math.max(arity - 1, 0)).join(',');
      k.parts = [...head, tail];
      k.all = k.parts;
    }
  }
  return keys;
}

/**
 * In a map keyed by stacks, an empty stack prints as an empty part (`""` for
 * `@[kstack]` sampled in user mode, `",bash"` for `@[ustack, comm]`). Using the
 * key with the most stacks as the layout, such empty parts become empty stacks.
 */
function alignEmptyStacks(keys: SplitKey[]): void {
  let template: SplitKey | undefined;
  for (const k of keys) if (k.kinds && (!template || k.stacks.length > template.stacks.length)) template = k;
  const layout = template?.kinds;
  if (!layout) return;
  for (const k of keys) {
    if (k.stacks.length === (template as SplitKey).stacks.length || k.all.length !== layout.length) continue;
    const kinds = k.kinds ?? k.all.map(() => 'part' as const);
    if (!layout.every((want, i) => want === kinds[i] || (want === 'stack' && k.all[i] === ''))) continue;
    const stacks: string[][] = [];
    const parts: string[] = [];
    let si = 0;
    layout.forEach((want, i) => {
      if (want === 'stack') stacks.push(kinds[i] === 'stack' ? (k.stacks[si++] as string[]) : []);
      else parts.push(k.all[i] as string);
    });
    k.stacks = stacks;
    k.parts = parts;
    k.kinds = [...layout];
  }
}

function flatKey(k: SplitKey): MapKey {
  return k.all;
}

// ---------------------------------------------------------------------------
// Back to the printed shape

/**
 * A map value in bpftrace's printed JSON shape (`{"4674,bash": 1}`, bucket
 * arrays, `{"count","average","total"}`), for code written against raw
 * `-f json` data. Duplicate keys are summed; stack keys are re-printed the
 * v0.17 way (`"\n    frame\n"`); big integers come back as their exact digits.
 */
export function toPrintedJson(v: MapValue): unknown {
  const obj = (pairs: Array<[string, unknown]>, sum: boolean): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, val] of pairs) {
      const prev = Object.prototype.hasOwnProperty.call(out, k) ? out[k] : undefined;
      const next = sum && typeof prev === 'number' && typeof val === 'number' ? prev + val : val;
      Object.defineProperty(out, k, { value: next, enumerable: true, writable: true, configurable: true });
    }
    return out;
  };
  const stats = (s: StatsValue): unknown =>
    s.count === undefined && s.total === undefined ? s.average : { count: s.count, average: s.average, total: s.total };
  switch (v.kind) {
    case 'scalar':
      return v.exact ?? v.value;
    case 'keyed':
      return obj(
        v.entries.map((e) => [e.key.join(','), e.exact ?? e.value]),
        true,
      );
    case 'hist':
      return v.buckets.map((b) => ({ ...b }));
    case 'keyedHist':
      return obj(
        v.hists.map((h) => [h.key.join(','), h.buckets.map((b) => ({ ...b }))]),
        false,
      );
    case 'stats':
      return stats(v);
    case 'keyedStats':
      return obj(
        v.entries.map((e) => [e.key.join(','), stats(e)]),
        false,
      );
    case 'stack':
      return obj(
        v.entries.map((e) => {
          const stacks = e.stacks.map((s) => `\n${s.map((f) => `    ${f}\n`).join('')}`);
          return [[...stacks, ...e.key].join(','), e.value];
        }),
        true,
      );
    case 'tseries': {
      const pts = (s: { points: TimeSeriesPoint[] }): unknown => s.points.map((p) => ({ interval_start: p.intervalStart, value: p.value }));
      if (v.series.length === 1 && v.series[0]?.key.length === 0) return pts(v.series[0]);
      return obj(
        v.series.map((s) => [s.key.join(','), pts(s)]),
        false,
      );
    }
    case 'other':
      if (v.entries.length === 1 && v.entries[0]?.key.length === 0) return v.entries[0].value;
      return obj(
        v.entries.map((e) => [e.key.join(','), e.value]),
        false,
      );
  }
}

/** Every map of a parse in the printed shape (see {@link toPrintedJson}), e.g. for src/probes/trace-data.ts. */
export function printedMaps(parsed: ParsedTrace): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [name, v] of Object.entries(parsed.maps)) out.set(name, toPrintedJson(v));
  return out;
}
