/**
 * Shared shapes of parsed tracer output (bpftrace `-f json`, SystemTap histograms
 * and SystemTap JSON lines all end up here).
 */

/**
 * One histogram bucket: the closed integer interval [min, max] as bpftrace's JSON
 * prints it. The underflow bucket has no `min` (everything ≤ max); the overflow
 * bucket has no `max` (everything ≥ min). A log2 bucket [4, 7] is what bpftrace's
 * text output labels `[4, 8)`.
 */
export interface Bucket {
  min?: number;
  max?: number;
  count: number;
}

/** A map key split into its parts: `@[pid, comm]` → `["4674", "bash"]`; `@x` → `[]`. */
export type MapKey = string[];

export interface KeyedEntry {
  key: MapKey;
  value: number;
  /** Exact decimal digits when |value| > 2^53 − 1 (the number is then rounded). */
  exact?: string;
}

export interface StatsValue {
  /** Absent for `avg()`, which prints only the average. */
  count?: number;
  average: number;
  total?: number;
}

export interface StackEntry {
  /** All stack frames of the key, innermost (leaf) first as bpftrace prints them, offsets kept. */
  frames: string[];
  /** The same frames per stack in the key (`@[kstack, ustack]` has two). */
  stacks: string[][];
  /** The non-stack key parts (`@[ustack, comm]` → `["bash"]`). */
  key: MapKey;
  value: number;
}

export interface TimeSeriesPoint {
  intervalStart: string;
  value: number;
}

/** A JSON value as plain JS (objects as records). */
export type PlainJson = null | boolean | number | string | PlainJson[] | { [k: string]: PlainJson };

export type MapValue =
  | { kind: 'scalar'; value: number; exact?: string }
  | { kind: 'keyed'; entries: KeyedEntry[] }
  | { kind: 'hist'; buckets: Bucket[] }
  | { kind: 'keyedHist'; hists: Array<{ key: MapKey; buckets: Bucket[] }> }
  | ({ kind: 'stats' } & StatsValue)
  | { kind: 'keyedStats'; entries: Array<{ key: MapKey } & StatsValue> }
  | { kind: 'stack'; entries: StackEntry[] }
  | { kind: 'tseries'; series: Array<{ key: MapKey; points: TimeSeriesPoint[] }> }
  /** Anything non-numeric: string values (`@comm[pid] = comm`), tuples, records. Scalars have `key: []`. */
  | { kind: 'other'; entries: Array<{ key: MapKey; value: PlainJson }> };

export type MapKind = MapValue['kind'];

export type TracerMessageKind =
  | 'helper_error'
  | 'runtime_error'
  | 'errorf'
  | 'warnf'
  | 'print_error'
  /** A stdout line this parser could not read (or had to repair). */
  | 'parse';

/**
 * A message from the tracer, or about its output. Identical messages are counted,
 * not repeated (a failing helper in a hot probe reports once per event).
 */
export interface TracerMessage {
  kind: TracerMessageKind;
  message: string;
  helper?: string;
  retcode?: number;
  filename?: string;
  /** Position in the tracer script (not in stdout). */
  line?: number;
  col?: number;
  /** 1-based stdout line where this message was first seen. */
  firstLine: number;
  count: number;
}

export interface Snapshot {
  /** The last `printf`/`time` text seen before this snapshot's first map, trimmed. */
  marker?: string;
  maps: Record<string, MapValue>;
}

export interface ParsedTrace {
  attachedProbes?: number;
  lostEvents: number;
  /** The last value printed for every map (interval snapshots: the latest one). */
  maps: Record<string, MapValue>;
  /** `printf` (and `cat`/`join`/`system`) output, one string per record, as printed (newlines kept). */
  printf: string[];
  /** printf records beyond `maxPrintf` that were counted but not kept. */
  printfDropped: number;
  errors: TracerMessage[];
  warnings: TracerMessage[];
  /** Every map dump in order; see `bpftrace-json.ts` for how snapshots are split. */
  snapshots: Snapshot[];
  /** Oldest snapshots dropped beyond `maxSnapshots`. */
  snapshotsDropped: number;
  /** Records of types this parser does not model, as plain JSON (capped by `maxUnknown`). */
  unknown: unknown[];
  /** stdout lines seen (blank ones included). */
  lines: number;
  /** JSON records read. */
  records: number;
}
