// A small adapter from "parsed tracer output" to what the shapers need: the
// last value printed for each map, and the printf lines. It accepts raw
// bpftrace `-f json` NDJSON text (0.17 and 0.24+ shapes), an array of records,
// or an already-parsed object with `maps` and `printfs`/`printf`/`events`
// (src/results/bpftrace-json.ts's ParsedTrace is reduced through that path;
// when its type settles, replace the duck typing with the import).

export interface TraceData {
  /** '@name' → the map's JSON data as printed (last dump wins). */
  maps: Map<string, unknown>;
  /** printf outputs, in order, each without its trailing newline. */
  printfs: string[];
  lostEvents: number;
}

type Rec = Record<string, unknown>;

const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

function addRecord(out: TraceData, r: Rec): void {
  const type = r['type'];
  const data = r['data'];
  switch (type) {
    case 'map':
    case 'hist':
    case 'stats':
    case 'tseries':
      if (isRec(data)) for (const [k, v] of Object.entries(data)) out.maps.set(k, v);
      break;
    case 'printf':
    case 'cat':
      if (typeof data === 'string') out.printfs.push(stripNl(data));
      break;
    case 'lost_events': {
      const n = isRec(data) ? data['events'] : r['count'];
      out.lostEvents += Number(n ?? 0) || 0;
      break;
    }
    default:
      break;
  }
}

const stripNl = (s: string): string => (s.endsWith('\n') ? s.slice(0, -1) : s);

export function parseNdjson(text: string): TraceData {
  const out: TraceData = { maps: new Map(), printfs: [], lostEvents: 0 };
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || !t.startsWith('{')) continue;
    try {
      const r: unknown = JSON.parse(t);
      if (isRec(r)) addRecord(out, r);
    } catch {
      // v0.17 prints invalid JSON for strftime in maps; probes never do that. Skip.
    }
  }
  return out;
}

export function toTraceData(parsed: unknown): TraceData {
  if (typeof parsed === 'string') return parseNdjson(parsed);
  const out: TraceData = { maps: new Map(), printfs: [], lostEvents: 0 };
  if (Array.isArray(parsed)) {
    for (const r of parsed) if (isRec(r)) addRecord(out, r);
    return out;
  }
  if (!isRec(parsed)) return out;
  if (Array.isArray(parsed['records'])) return toTraceData(parsed['records']);
  const maps = parsed['maps'];
  if (maps instanceof Map) for (const [k, v] of maps) out.maps.set(String(k), unwrapMap(v));
  else if (isRec(maps)) for (const [k, v] of Object.entries(maps)) out.maps.set(k, unwrapMap(v));
  for (const key of ['printfs', 'printf', 'events', 'lines']) {
    const p = parsed[key];
    if (Array.isArray(p)) {
      for (const e of p) {
        if (typeof e === 'string') out.printfs.push(stripNl(e));
        else if (isRec(e) && typeof e['data'] === 'string') out.printfs.push(stripNl(e['data']));
        else if (isRec(e) && typeof e['text'] === 'string') out.printfs.push(stripNl(e['text']));
      }
      break;
    }
  }
  const lost = parsed['lostEvents'];
  if (typeof lost === 'number') out.lostEvents = lost;
  return out;
}

/**
 * A parsed map may be src/results' MapValue ({kind, ...}: keys already split) or
 * wrapped as {type, data}; turn it back into the printed (v0.17-style) value the
 * shapers read. Keys are re-joined with ',' (free text is always the last part,
 * so splitKey recovers them); stack keys are re-rendered as bpftrace prints them.
 */
function unwrapMap(v: unknown): unknown {
  if (!isRec(v)) return v;
  const kind = v['kind'];
  const join = (k: unknown): string => (Array.isArray(k) ? k.map(String).join(',') : String(k ?? ''));
  const stats = (e: Rec) => ({ count: e['count'] ?? 0, average: e['average'] ?? 0, total: e['total'] ?? 0 });
  const list = (x: unknown): Rec[] => (Array.isArray(x) ? x.filter(isRec) : []);
  switch (kind) {
    case 'scalar':
      return v['value'];
    case 'keyed':
    case 'other':
      return Object.fromEntries(list(v['entries']).map((e) => [join(e['key']), e['value']]));
    case 'hist':
      return v['buckets'];
    case 'keyedHist':
      return Object.fromEntries(list(v['hists']).map((h) => [join(h['key']), h['buckets']]));
    case 'stats':
      return stats(v);
    case 'keyedStats':
      return Object.fromEntries(list(v['entries']).map((e) => [join(e['key']), stats(e)]));
    case 'stack':
      return Object.fromEntries(
        list(v['entries']).map((e) => {
          const stacks = Array.isArray(e['stacks']) ? (e['stacks'] as unknown[]) : [];
          const rendered = stacks.map((st) => (Array.isArray(st) && st.length > 0 ? `\n${st.map((f) => `    ${String(f)}`).join('\n')}\n` : ''));
          const rest = Array.isArray(e['key']) ? (e['key'] as unknown[]).map(String) : [];
          return [[...rendered, ...rest].join(','), e['value']];
        }),
      );
    default:
      break;
  }
  if (typeof v['type'] === 'string' && ('data' in v || 'value' in v)) return v['data'] ?? v['value'];
  return v;
}

export const num = (v: unknown): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  return 0;
};

/** A map's entries as [key, value]; a scalar map yields one entry with key ''. */
export function entries(data: TraceData, map: string): Array<[string, unknown]> {
  const v = data.maps.get(map);
  if (v === undefined) return [];
  if (isRec(v) && !isStats(v)) return Object.entries(v);
  return [['', v]];
}

export function isStats(v: unknown): v is { count: unknown; average: unknown; total: unknown } {
  return isRec(v) && 'count' in v && 'average' in v && 'total' in v;
}

/** A keyed map printed as multiple keys — v0.17 joins them with ','; 0.24+ may print arrays. */
export function splitKey(key: unknown, arity: number): string[] {
  if (Array.isArray(key)) return key.map((k) => String(k));
  const s = String(key);
  if (arity <= 1) return [s];
  if (s.startsWith('[') && s.endsWith(']')) {
    try {
      const a: unknown = JSON.parse(s);
      if (Array.isArray(a) && a.length === arity) return a.map((k) => String(k));
    } catch {
      // not a JSON array: fall through
    }
  }
  // Free-text parts (comm, paths) are always rendered last, so split from the left.
  const parts: string[] = [];
  let rest = s;
  for (let i = 0; i < arity - 1; i++) {
    const j = rest.indexOf(',');
    if (j < 0) break;
    parts.push(rest.slice(0, j));
    rest = rest.slice(j + 1);
  }
  parts.push(rest);
  return parts;
}

/**
 * bpftrace 0.23 prints the newlines of stack keys escaped twice in JSON, so the
 * decoded key holds literal "\\n" sequences (0.17: real newlines). Normalise.
 */
export function unescapeStackKey(key: string): string {
  return !key.includes('\n') && key.includes('\\n') ? key.replaceAll('\\n', '\n') : key;
}

/**
 * Splits a key made of stacks followed by plain parts, e.g. `[kstack, ustack, comm]`
 * printed by v0.17 as "\n    f1\n    f2\n,\n    u1\n,comm" (an empty stack is "").
 * Returns frames per stack (innermost first) and the remaining plain parts.
 */
export function splitStackKey(key: string, stacks: number): { stacks: string[][]; rest: string[] } {
  const out: string[][] = [];
  let s = unescapeStackKey(key);
  for (let i = 0; i < stacks; i++) {
    if (s.startsWith(',') && i > 0) s = s.slice(1);
    let body: string;
    if (s.startsWith('\n') || s.startsWith(' ')) {
      const end = s.indexOf('\n,');
      if (end < 0) {
        body = s;
        s = '';
      } else {
        body = s.slice(0, end + 1);
        s = s.slice(end + 1);
      }
    } else if (s.startsWith('[')) {
      // 0.24+: keys lose spaces; a stack may print as a bracketed list.
      const end = s.indexOf(']');
      body = s.slice(1, end < 0 ? undefined : end).replaceAll(',', '\n');
      s = end < 0 ? '' : s.slice(end + 1);
    } else {
      body = '';
    }
    out.push(
      body
        .split('\n')
        .map((f) => f.trim())
        .filter((f) => f !== ''),
    );
  }
  if (s.startsWith(',')) s = s.slice(1);
  return { stacks: out, rest: s === '' ? [] : [s] };
}
