import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bucketLabel,
  detectLayout,
  fillGaps,
  formatBytes,
  formatCount,
  formatDuration,
  formatValue,
  guessUnit,
  maxNonEmptyBucket,
  meanEstimate,
  mergeHistograms,
  percentiles,
  pow2Label,
  quantile,
  summarize,
  totalCount,
  type Bucket,
} from './histogram.js';

// [0]:2 [1]:3 [2,4):5 [4,8):10 — total 20.
const LOG2: Bucket[] = [
  { min: 0, max: 0, count: 2 },
  { min: 1, max: 1, count: 3 },
  { min: 2, max: 3, count: 5 },
  { min: 4, max: 7, count: 10 },
];

const close = (a: number | undefined, b: number, msg?: string): void => {
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `${msg ?? ''} expected ${b}, got ${a}`);
};

test('quantiles by linear interpolation inside [min, max + 1)', () => {
  assert.equal(totalCount(LOG2), 20);
  const cases: Array<[number, number]> = [
    [0, 0], // lowest non-empty bucket's lower edge
    [0.05, 0], // rank 1 → inside [0]: a single-value bucket is exact
    [0.2, 1], // rank 4 → inside [1]
    [0.3, 2.4], // rank 6 → [2,4): cum 5, frac 1/5 → 2 + 0.2·2
    [0.5, 4], // rank 10 → top of [2,4)
    [0.9, 7.2], // rank 18 → [4,8): frac 8/10 → 4 + 0.8·4
    [0.99, 7.92], // rank 19.8 → 4 + 0.98·4
    [1, 8], // top edge of the highest bucket
  ];
  for (const [q, want] of cases) close(quantile(LOG2, q), want, `q=${q}`);
  const [p50, p90, p99] = percentiles(LOG2);
  close(p50, 4);
  close(p90, 7.2);
  close(p99, 7.92);
  close(quantile(LOG2, 2), 8, 'q clamped to 1');
});

test('empty buckets are skipped; empty histogram has no quantile', () => {
  assert.equal(quantile([], 0.5), undefined);
  assert.equal(quantile([{ min: 1, max: 1, count: 0 }], 0.5), undefined);
  const gappy: Bucket[] = [
    { min: 2, max: 3, count: 4 },
    { min: 4, max: 7, count: 0 },
    { min: 8, max: 15, count: 4 },
  ];
  close(quantile(gappy, 0.5), 4); // top of [2,4): the empty [4,8) is skipped
  close(quantile(gappy, 0.75), 12); // rank 6 → [8,16): frac 2/4 → 8 + 0.5·8
});

test('underflow and overflow buckets: open side clamps to the known edge', () => {
  const b: Bucket[] = [
    { max: -1, count: 5 },
    { min: 0, max: 9, count: 5 },
    { min: 10, count: 10 },
  ];
  close(quantile(b, 0.1), -1); // in underflow: its max
  close(quantile(b, 0.5), 10); // top of [0, 10)
  close(quantile(b, 0.4), 6); // rank 8 → [0,10): frac 3/5 → 0 + 0.6·10
  close(quantile(b, 0.9), 10); // in overflow: its min (a lower bound)
  close(meanEstimate(b), 6); // (5·-1 + 5·5 + 10·10) / 20
  const s = summarize(b);
  assert.deepEqual(
    { count: s.count, underflow: s.underflow, overflow: s.overflow, min: s.min, max: s.max, maxBucket: s.maxBucket, modeBucket: s.modeBucket },
    { count: 20, underflow: 5, overflow: 10, min: -1, max: 10, maxBucket: { min: 10, count: 10 }, modeBucket: { min: 10, count: 10 } },
  );
});

test('mean estimate and summary of a log2 histogram', () => {
  close(meanEstimate(LOG2), 3.9); // (2·0 + 3·1 + 5·3 + 10·6) / 20
  assert.equal(meanEstimate([]), undefined);
  const s = summarize(LOG2);
  assert.equal(s.count, 20);
  close(s.p50, 4);
  close(s.p90, 7.2);
  close(s.p99, 7.92);
  close(s.mean, 3.9);
  assert.equal(s.min, 0);
  assert.equal(s.max, 7);
  assert.deepEqual(s.maxBucket, { min: 4, max: 7, count: 10 });
  assert.deepEqual(maxNonEmptyBucket([...LOG2, { min: 8, max: 15, count: 0 }]), { min: 4, max: 7, count: 10 });
  assert.deepEqual(summarize([]), { count: 0, underflow: 0, overflow: 0 });
});

test('layout detection', () => {
  assert.deepEqual(detectLayout(LOG2), { kind: 'log2' });
  assert.deepEqual(
    detectLayout([
      { min: 0, max: 1023, count: 1 },
      { min: 1024, max: 2047, count: 1 },
      { min: 8192, count: 1 },
    ]),
    { kind: 'linear', width: 1024 },
  );
  assert.deepEqual(
    detectLayout([
      { min: 0, max: 0, count: 1 },
      { min: 1, max: 1, count: 1 },
      { min: 2, max: 2, count: 1 },
    ]),
    { kind: 'linear', width: 1 },
  );
  assert.deepEqual(
    detectLayout([
      { min: 0, max: 4, count: 1 },
      { min: 5, max: 6, count: 1 },
    ]),
    { kind: 'irregular' },
  );
});

test('merging log2 histograms sums equal buckets and fills the gaps', () => {
  const a: Bucket[] = [
    { min: 0, max: 0, count: 1 },
    { min: 1, max: 1, count: 2 },
  ];
  const b: Bucket[] = [
    { min: 1, max: 1, count: 5 },
    { min: 4, max: 7, count: 3 },
    { min: 16, max: 31, count: 1 },
  ];
  assert.deepEqual(mergeHistograms([a, b]), [
    { min: 0, max: 0, count: 1 },
    { min: 1, max: 1, count: 7 },
    { min: 2, max: 3, count: 0 },
    { min: 4, max: 7, count: 3 },
    { min: 8, max: 15, count: 0 },
    { min: 16, max: 31, count: 1 },
  ]);
  // Inputs are not mutated.
  assert.deepEqual(a[1], { min: 1, max: 1, count: 2 });
});

test('merging lhists with under/overflow', () => {
  const a: Bucket[] = [
    { max: -1, count: 1 },
    { min: 0, max: 9, count: 2 },
    { min: 20, count: 1 },
  ];
  const b: Bucket[] = [
    { min: 10, max: 19, count: 4 },
    { min: 20, count: 2 },
  ];
  assert.deepEqual(mergeHistograms([a, b]), [
    { max: -1, count: 1 },
    { min: 0, max: 9, count: 2 },
    { min: 10, max: 19, count: 4 },
    { min: 20, count: 3 },
  ]);
});

test('merging incompatible layouts throws', () => {
  assert.throws(
    () => mergeHistograms([[{ min: 0, max: 9, count: 1 }], [{ min: 0, max: 4, count: 1 }, { min: 5, max: 9, count: 1 }]]),
    (err: unknown) => err instanceof RangeError && /\[0, 5\) and \[0, 10\) overlap/.test(err.message),
  );
});

test('fillGaps: linear layout', () => {
  assert.deepEqual(
    fillGaps([
      { min: 0, max: 9, count: 1 },
      { min: 30, max: 39, count: 2 },
    ]),
    [
      { min: 0, max: 9, count: 1 },
      { min: 10, max: 19, count: 0 },
      { min: 20, max: 29, count: 0 },
      { min: 30, max: 39, count: 2 },
    ],
  );
});

test('bucket labels as bpftrace prints them', () => {
  const cases: Array<[Bucket, string]> = [
    [{ min: 0, max: 0, count: 0 }, '[0]'],
    [{ min: 1, max: 1, count: 0 }, '[1]'],
    [{ min: 2, max: 3, count: 0 }, '[2, 4)'],
    [{ min: 512, max: 1023, count: 0 }, '[512, 1K)'],
    [{ min: 1024, max: 2047, count: 0 }, '[1K, 2K)'],
    [{ min: 1048576, max: 2097151, count: 0 }, '[1M, 2M)'],
    [{ min: 2 ** 30, max: 2 ** 31 - 1, count: 0 }, '[1G, 2G)'],
    [{ max: -1, count: 0 }, '(..., 0)'],
    [{ min: 8192, count: 0 }, '[8K, ...)'],
    [{ min: 1000, max: 1999, count: 0 }, '[1000, 2000)'],
    [{ min: 3072, max: 4095, count: 0 }, '[3K, 4K)'],
  ];
  for (const [b, label] of cases) assert.equal(bucketLabel(b), label);
  assert.equal(pow2Label(0), '0');
  assert.equal(pow2Label(1536), '1536');
  assert.equal(pow2Label(2 ** 60), '1E');
});

test('formatDuration (input in µs)', () => {
  const cases: Array<[number, string]> = [
    [0, '0us'],
    [0.5, '500ns'],
    [0.0004, '0.4ns'],
    [1, '1us'],
    [3.25, '3.3us'],
    [12.4, '12us'],
    [999, '999us'],
    [999.6, '1ms'],
    [3200, '3.2ms'],
    [45000, '45ms'],
    [1_500_000, '1.5s'],
    [59_990_000, '1m'],
    [90_000_000, '1.5m'],
    [7_200_000_000, '2h'],
    [-3200, '-3.2ms'],
  ];
  for (const [us, want] of cases) assert.equal(formatDuration(us), want, String(us));
});

test('formatBytes and formatCount', () => {
  const bytes: Array<[number, string]> = [
    [0, '0B'],
    [512, '512B'],
    [1023, '1023B'],
    [1023.7, '1KiB'],
    [1536, '1.5KiB'],
    [10240, '10KiB'],
    [2 ** 20, '1MiB'],
    [1.5 * 2 ** 30, '1.5GiB'],
    [2 ** 50 * 3, '3PiB'],
  ];
  for (const [n, want] of bytes) assert.equal(formatBytes(n), want, String(n));
  const counts: Array<[number, string]> = [
    [950, '950'],
    [9999, '9999'],
    [12345, '12.3k'],
    [999_999, '1M'],
    [1_500_000, '1.5M'],
    [2.5, '2.5'],
  ];
  for (const [n, want] of counts) assert.equal(formatCount(n), want, String(n));
});

test('formatValue by unit; unit guessed from map names', () => {
  assert.equal(formatValue(3_200_000, 'ns'), '3.2ms');
  assert.equal(formatValue(3200, 'us'), '3.2ms');
  assert.equal(formatValue(3.2, 'ms'), '3.2ms');
  assert.equal(formatValue(2, 's'), '2s');
  assert.equal(formatValue(1536, 'bytes'), '1.5KiB');
  assert.equal(formatValue(12345, 'count'), '12.3k');
  const names: Array<[string, string]> = [
    ['@usecs', 'us'],
    ['@lat_us', 'us'],
    ['@latency', 'us'],
    ['@lat_ns', 'ns'],
    ['@nsecs', 'ns'],
    ['@ms', 'ms'],
    ['@bytes', 'bytes'],
    ['@sizes', 'bytes'],
    ['@opens', 'count'],
    ['@', 'count'],
  ];
  for (const [n, u] of names) assert.equal(guessUnit(n), u, n);
});
