/**
 * Histogram maths over {@link Bucket}s (bpftrace `hist()`/`lhist()`, SystemTap
 * `@hist_log`/`@hist_linear`).
 *
 * Bucket model: a bucket is the closed integer interval [min, max] as bpftrace's
 * JSON prints it (log2 `[4, 7]` is the text output's `[4, 8)`). For
 * interpolation a bucket is treated as the continuous range [min, max + 1), and
 * its samples as spread evenly across it. A single-value bucket (min = max,
 * e.g. `[0]`, `[1]`) is exact: every sample in it *is* min.
 *
 * Underflow (no `min`: everything ≤ max) and overflow (no `max`: everything ≥
 * min) have one open side. A quantile that falls into the underflow bucket is
 * its `max` (an upper bound), into the overflow bucket its `min` (a lower bound);
 * the mean uses the same edges. Both are reported as `underflow`/`overflow`
 * counts so a caller can say "p99 ≥ 8K".
 */
import type { Bucket } from './types.js';

export type { Bucket } from './types.js';

export interface HistogramSummary {
  count: number;
  p50?: number;
  p90?: number;
  p99?: number;
  /** Estimated mean (bucket midpoints); undefined when empty. */
  mean?: number;
  /** Lower edge of the lowest non-empty bucket (underflow: its max). */
  min?: number;
  /** Inclusive upper edge of the highest non-empty bucket (overflow: its min, a lower bound). */
  max?: number;
  /** The highest non-empty bucket. */
  maxBucket?: Bucket;
  /** The bucket with the most samples (lowest such on ties). */
  modeBucket?: Bucket;
  /** Samples in the underflow / overflow bucket. */
  underflow: number;
  overflow: number;
}

export function totalCount(buckets: readonly Bucket[]): number {
  let n = 0;
  for (const b of buckets) n += b.count;
  return n;
}

/**
 * The value below which a fraction `q` (0..1) of samples lies, by linear
 * interpolation inside the bucket holding rank q·total. Undefined when empty.
 */
export function quantile(buckets: readonly Bucket[], q: number): number | undefined {
  const total = totalCount(buckets);
  if (total <= 0) return undefined;
  const rank = Math.min(Math.max(q, 0), 1) * total;
  let cum = 0;
  let last: Bucket | undefined;
  for (const b of buckets) {
    if (b.count <= 0) continue;
    last = b;
    if (cum + b.count >= rank) return positionIn(b, (rank - cum) / b.count);
    cum += b.count;
  }
  // Only reachable through rounding: the top of the highest bucket.
  return last ? positionIn(last, 1) : undefined;
}

function positionIn(b: Bucket, frac: number): number {
  if (b.min === undefined) return b.max ?? 0; // underflow: its upper bound
  if (b.max === undefined) return b.min; // overflow: its lower bound
  if (b.max <= b.min) return b.min;
  return b.min + frac * (b.max + 1 - b.min);
}

/** p50/p90/p99 (or the given quantiles) in one pass each. */
export function percentiles(buckets: readonly Bucket[], qs: readonly number[] = [0.5, 0.9, 0.99]): Array<number | undefined> {
  return qs.map((q) => quantile(buckets, q));
}

/** Representative value of a bucket: its midpoint, or the closed edge of an open bucket. */
export function bucketMidpoint(b: Bucket): number {
  if (b.min === undefined) return b.max ?? 0;
  if (b.max === undefined) return b.min;
  if (b.max <= b.min) return b.min;
  return (b.min + b.max + 1) / 2;
}

/** Estimated mean from bucket midpoints; undefined when empty. */
export function meanEstimate(buckets: readonly Bucket[]): number | undefined {
  const total = totalCount(buckets);
  if (total <= 0) return undefined;
  let sum = 0;
  for (const b of buckets) if (b.count > 0) sum += b.count * bucketMidpoint(b);
  return sum / total;
}

/** The highest bucket with samples. */
export function maxNonEmptyBucket(buckets: readonly Bucket[]): Bucket | undefined {
  for (let i = buckets.length - 1; i >= 0; i--) {
    const b = buckets[i] as Bucket;
    if (b.count > 0) return b;
  }
  return undefined;
}

export function summarize(buckets: readonly Bucket[]): HistogramSummary {
  const count = totalCount(buckets);
  const s: HistogramSummary = { count, underflow: 0, overflow: 0 };
  for (const b of buckets) {
    if (b.min === undefined) s.underflow += b.count;
    else if (b.max === undefined) s.overflow += b.count;
  }
  if (count <= 0) return s;
  const [p50, p90, p99] = percentiles(buckets);
  if (p50 !== undefined) s.p50 = p50;
  if (p90 !== undefined) s.p90 = p90;
  if (p99 !== undefined) s.p99 = p99;
  const mean = meanEstimate(buckets);
  if (mean !== undefined) s.mean = mean;
  let mode: Bucket | undefined;
  let lowest: Bucket | undefined;
  for (const b of buckets) {
    if (b.count <= 0) continue;
    lowest ??= b;
    if (!mode || b.count > mode.count) mode = b;
  }
  const top = maxNonEmptyBucket(buckets);
  if (lowest) s.min = lowest.min ?? lowest.max ?? 0;
  if (top) {
    s.maxBucket = top;
    s.max = top.max ?? top.min ?? 0;
  }
  if (mode) s.modeBucket = mode;
  return s;
}

// ---------------------------------------------------------------------------
// Merging (multi-pod / multi-node fan-out)

export type BucketLayout = { kind: 'log2' } | { kind: 'linear'; width: number } | { kind: 'irregular' };

function isPow2(n: number): boolean {
  return n > 0 && Number.isInteger(n) && Number.isInteger(Math.log2(n));
}

/** Whether [min, max] is a bpftrace log2 bucket: [0], [1], or [2^k, 2^(k+1) − 1]. */
export function isLog2Bucket(b: Bucket): boolean {
  if (b.min === undefined || b.max === undefined) return true; // open buckets fit any layout
  if (b.min === 0 && b.max === 0) return true;
  if (b.min === 1 && b.max === 1) return true;
  return b.min >= 2 && isPow2(b.min) && b.max === 2 * b.min - 1;
}

/** Detects the bucket layout from the closed buckets. */
export function detectLayout(buckets: readonly Bucket[]): BucketLayout {
  const closed = buckets.filter((b) => b.min !== undefined && b.max !== undefined);
  if (closed.length === 0) return { kind: 'irregular' };
  const widths = new Set(closed.map((b) => (b.max as number) - (b.min as number) + 1));
  if (closed.every(isLog2Bucket) && (widths.size > 1 || closed.some((b) => b.min === 0 && b.max === 0))) return { kind: 'log2' };
  if (widths.size === 1) {
    const width = [...widths][0] as number;
    const base = closed[0]?.min as number;
    if (width > 0 && closed.every((b) => ((b.min as number) - base) % width === 0)) return { kind: 'linear', width };
  }
  if (closed.every(isLog2Bucket)) return { kind: 'log2' };
  return { kind: 'irregular' };
}

const bucketKey = (b: Bucket): string => `${b.min ?? '-inf'}:${b.max ?? 'inf'}`;
const lowerSortKey = (b: Bucket): number => b.min ?? -Infinity;
const upperSortKey = (b: Bucket): number => b.max ?? Infinity;

/**
 * Sums histograms bucket by bucket (same [min, max] → counts added), sorts the
 * buckets, and fills the zero buckets that bpftrace would print between the
 * lowest and the highest (log2 and equal-width linear layouts). Throws a
 * RangeError when the inputs' buckets overlap without matching (e.g. two lhists
 * with different steps): such histograms cannot be merged meaningfully.
 */
export function mergeHistograms(lists: ReadonlyArray<readonly Bucket[]>): Bucket[] {
  const by = new Map<string, Bucket>();
  for (const list of lists) {
    for (const b of list) {
      const k = bucketKey(b);
      const cur = by.get(k);
      if (cur) cur.count += b.count;
      else by.set(k, copyBucket(b));
    }
  }
  const merged = [...by.values()].sort((a, b) => lowerSortKey(a) - lowerSortKey(b) || upperSortKey(a) - upperSortKey(b));
  for (let i = 1; i < merged.length; i++) {
    const a = merged[i - 1] as Bucket;
    const b = merged[i] as Bucket;
    const aTop = a.max ?? Infinity;
    const bBottom = b.min ?? -Infinity;
    if (bBottom <= aTop) {
      throw new RangeError(`cannot merge histograms: buckets ${bucketLabel(a)} and ${bucketLabel(b)} overlap`);
    }
  }
  return fillGaps(merged);
}

function copyBucket(b: Bucket): Bucket {
  const out = {} as Bucket;
  if (b.min !== undefined) out.min = b.min;
  if (b.max !== undefined) out.max = b.max;
  out.count = b.count;
  return out;
}

/** Inserts zero-count buckets into gaps between consecutive buckets of a log2 or linear layout. */
export function fillGaps(buckets: readonly Bucket[]): Bucket[] {
  const layout = detectLayout(buckets);
  if (layout.kind === 'irregular' || buckets.length < 2) return buckets.map(copyBucket);
  const out: Bucket[] = [];
  for (let i = 0; i < buckets.length; i++) {
    const b = buckets[i] as Bucket;
    const prev = out[out.length - 1];
    if (prev && prev.max !== undefined && b.min !== undefined) {
      let next = prev.max + 1;
      let guard = 0;
      while (next < b.min && guard++ < 4096) {
        const gap = layout.kind === 'log2' ? log2BucketAt(next) : { min: next, max: next + layout.width - 1, count: 0 };
        if (gap.max >= b.min) break; // layout does not line up: leave the gap
        out.push(gap);
        next = gap.max + 1;
      }
    }
    out.push(copyBucket(b));
  }
  return out;
}

function log2BucketAt(v: number): { min: number; max: number; count: number } {
  if (v <= 0) return { min: 0, max: 0, count: 0 };
  if (v === 1) return { min: 1, max: 1, count: 0 };
  const lo = 2 ** Math.floor(Math.log2(v));
  return { min: lo, max: 2 * lo - 1, count: 0 };
}

// ---------------------------------------------------------------------------
// Labels and units

const SUFFIXES = ['', 'K', 'M', 'G', 'T', 'P', 'E'];

/** bpftrace's power-of-1024 label: 1024 → "1K", 3145728 → "3M", 1000 → "1000". */
export function pow2Label(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  let v = n;
  let i = 0;
  while (v !== 0 && Number.isInteger(v / 1024) && i < SUFFIXES.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v}${SUFFIXES[i]}`;
}

/** bpftrace text-output label of a bucket: `[0]`, `[4, 8)`, `[1K, 2K)`, `(..., 0)`, `[8K, ...)`. */
export function bucketLabel(b: Bucket): string {
  if (b.min === undefined) return `(..., ${b.max === undefined ? '...' : pow2Label(b.max + 1)})`;
  if (b.max === undefined) return `[${pow2Label(b.min)}, ...)`;
  if (b.max <= b.min) return `[${pow2Label(b.min)}]`;
  return `[${pow2Label(b.min)}, ${pow2Label(b.max + 1)})`;
}

export type Unit = 'ns' | 'us' | 'ms' | 's' | 'bytes' | 'count';

/** One decimal below 10, none above; "3.0" → "3". */
function short(x: number): string {
  if (Math.abs(x) < 10) {
    const s = (Math.round(x * 10) / 10).toFixed(1);
    return s.endsWith('.0') ? s.slice(0, -2) : s;
  }
  return String(Math.round(x));
}

/** Renders through the first unit whose rounded value stays below its limit. */
function scaled(v: number, steps: ReadonlyArray<readonly [divisor: number, suffix: string, limit: number]>, fmt = short): string {
  if (!Number.isFinite(v)) return String(v);
  if (v < 0) return `-${scaled(-v, steps, fmt)}`;
  for (let i = 0; i < steps.length; i++) {
    const [d, suffix, limit] = steps[i] as readonly [number, string, number];
    const s = fmt(v / d);
    if (Number(s) < limit || i === steps.length - 1) return `${s}${suffix}`;
  }
  return String(v);
}

const DURATION_STEPS = [
  [0.001, 'ns', 1000],
  [1, 'us', 1000],
  [1e3, 'ms', 1000],
  [1e6, 's', 60],
  [60e6, 'm', 60],
  [3600e6, 'h', Infinity],
] as const;

/** A duration given in microseconds: 0.5 → "500ns", 3200 → "3.2ms", 45000 → "45ms", 9e7 → "1.5m". */
export function formatDuration(us: number): string {
  if (us === 0) return '0us';
  return scaled(us, DURATION_STEPS);
}

const BYTE_STEPS = [
  [1, 'B', 1024],
  [1024, 'KiB', 1024],
  [1024 ** 2, 'MiB', 1024],
  [1024 ** 3, 'GiB', 1024],
  [1024 ** 4, 'TiB', 1024],
  [1024 ** 5, 'PiB', Infinity],
] as const;

/** A byte count: 512 → "512B", 1536 → "1.5KiB", 10 * 2^20 → "10MiB". */
export function formatBytes(n: number): string {
  return scaled(n, BYTE_STEPS, (x) => (x === Math.trunc(x) || Math.abs(x) >= 10 ? String(Math.round(x)) : short(x)));
}

/** A plain count: 950 → "950", 12345 → "12.3k" (SI, for headlines). */
export function formatCount(n: number): string {
  if (Math.abs(n) < 10_000) return Number.isInteger(n) ? String(n) : short(n);
  return scaled(n, [
    [1e3, 'k', 1000],
    [1e6, 'M', 1000],
    [1e9, 'G', Infinity],
  ], (x) => (Math.abs(x) < 100 ? (Math.round(x * 10) / 10).toString() : String(Math.round(x))));
}

/** Formats a value recorded in `unit` for humans. */
export function formatValue(v: number, unit: Unit | string | undefined): string {
  switch (unit) {
    case 'ns':
      return formatDuration(v / 1000);
    case 'us':
      return formatDuration(v);
    case 'ms':
      return formatDuration(v * 1000);
    case 's':
      return formatDuration(v * 1e6);
    case 'bytes':
      return formatBytes(v);
    default:
      return formatCount(v);
  }
}

/** Guesses a histogram/table unit from a bpftrace map name (`@usecs`, `@lat_ns`, `@bytes`). */
export function guessUnit(mapName: string): Unit {
  const n = mapName.replace(/^@/, '').toLowerCase();
  if (/(^|_)(ns|nsecs?)($|_)|nanos/.test(n)) return 'ns';
  if (/(^|_)(us|usecs?)($|_)|micros|latency|lat($|_)/.test(n)) return 'us';
  if (/(^|_)(ms|msecs?)($|_)|millis/.test(n)) return 'ms';
  if (/(^|_)(s|secs?)($|_)|seconds/.test(n)) return 's';
  if (/bytes|size|len/.test(n)) return 'bytes';
  return 'count';
}
