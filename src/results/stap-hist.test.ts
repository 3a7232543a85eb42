import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createStapParser, parseStapHist, parseStapHistograms, parseStapOutput, tableToBuckets } from './stap-hist.js';
import { parseBpftraceJson } from './bpftrace-json.js';

const fixture = (name: string): string => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

test('@hist_log with negatives, scaling and an elided run', () => {
  const [h, ...rest] = parseStapHistograms(fixture('stap-hist-log.txt'));
  assert.equal(rest.length, 0);
  assert.ok(h);
  assert.equal(h.kind, 'log');
  assert.equal(h.line, 1);
  assert.equal(h.title, undefined);
  assert.deepEqual(h.buckets, [
    { min: -31, max: -16, count: 0 },
    { min: -15, max: -8, count: 0 },
    { min: -7, max: -4, count: 2 },
    { min: -3, max: -2, count: 0 },
    { min: -1, max: -1, count: 0 },
    { min: 0, max: 0, count: 4 },
    { min: 1, max: 1, count: 120 },
    { min: 2, max: 3, count: 0 },
    { min: 4, max: 7, count: 30 },
    { min: 8, max: 15, count: 0 },
    { min: 16, max: 31, count: 0 },
    // the `~` row: 32 … 512 re-inserted
    { min: 32, max: 63, count: 0 },
    { min: 64, max: 127, count: 0 },
    { min: 128, max: 255, count: 0 },
    { min: 256, max: 511, count: 0 },
    { min: 512, max: 1023, count: 0 },
    { min: 1024, max: 2047, count: 0 },
    { min: 2048, max: 4095, count: 0 },
    { min: 4096, max: 8191, count: 3 },
    { min: 8192, max: 16383, count: 0 },
    { min: 16384, max: 32767, count: 0 },
  ]);
});

test('@hist_linear(x, 0, 1000, 50): underflow, elided rows, overflow', () => {
  const b = parseStapHist(fixture('stap-hist-linear.txt'));
  assert.equal(b.length, 23);
  assert.deepEqual(b[0], { max: -1, count: 3 });
  assert.deepEqual(b[1], { min: 0, max: 49, count: 14 });
  assert.deepEqual(b[13], { min: 600, max: 649, count: 1 });
  assert.deepEqual(b[21], { min: 1000, max: 1049, count: 2 });
  assert.deepEqual(b[22], { min: 1050, count: 6 });
  assert.equal(
    b.reduce((a, x) => a + x.count, 0),
    26,
  );
  // Every closed bucket is 50 wide and they are contiguous.
  for (let i = 2; i < 22; i++) assert.equal(b[i]?.min, (b[i - 1]?.max ?? NaN) + 1, `bucket ${i}`);
});

test('detection, overrides, titles and several tables', () => {
  const text = [
    'read sizes:',
    'value |-------------------------------------------------- count',
    '    0 |@@                                                 2',
    '    1 |@                                                  1',
    '    2 |@@@                                                3',
    '',
    'junk',
    'value |-------------------------------------------------- count',
    '   10 |@                                                  1',
    '   20 |                                                   0',
    '',
  ].join('\n');
  const hs = parseStapHistograms(text);
  assert.deepEqual(
    hs.map((h) => [h.title, h.kind, h.line, h.buckets]),
    [
      [
        'read sizes:',
        'log',
        2,
        [
          { min: 0, max: 0, count: 2 },
          { min: 1, max: 1, count: 1 },
          { min: 2, max: 3, count: 3 },
        ],
      ],
      [
        'junk',
        'linear',
        8,
        [
          { min: 10, max: 19, count: 1 },
          { min: 20, max: 29, count: 0 },
        ],
      ],
    ],
  );
  // 0, 1, 2 is also a valid @hist_linear(x, 0, N, 1): the caller can say so.
  assert.deepEqual(parseStapHist(text, { kind: 'linear' }), [
    { min: 0, max: 0, count: 2 },
    { min: 1, max: 1, count: 1 },
    { min: 2, max: 2, count: 3 },
  ]);
  // A single linear row with no neighbour: the interval comes from the option.
  assert.deepEqual(tableToBuckets(['   40 |@   1'], { kind: 'linear', interval: 20 }).buckets, [{ min: 40, max: 59, count: 1 }]);
  assert.deepEqual(parseStapHistograms('no tables here\n'), []);
});

test('stap JSON lines + tagged tables go through the bpftrace parser', () => {
  const p = parseStapOutput(fixture('stap-output.txt'));
  assert.equal(p.lines, 43);
  assert.deepEqual(p.printf, ['Tracing... Hit Ctrl-C to end.\n', '123 curl /etc/hosts\n', 'read latency (us):\n', 'done\n']);
  assert.deepEqual(p.maps['@opens'], {
    kind: 'keyed',
    entries: [
      { key: ['curl'], value: 12 },
      { key: ['bash'], value: 3 },
      { key: ['123,curl'], value: 1 },
    ],
  });
  assert.deepEqual(p.maps['@lat'], { kind: 'stats', count: 3, average: 20, total: 60 });
  assert.equal(p.lostEvents, 7);
  assert.deepEqual(p.maps['@lat_us'], {
    kind: 'hist',
    buckets: [
      { min: 0, max: 0, count: 0 },
      { min: 1, max: 1, count: 0 },
      { min: 2, max: 3, count: 5 },
      { min: 4, max: 7, count: 0 },
      { min: 8, max: 15, count: 0 },
      { min: 16, max: 31, count: 0 },
      { min: 32, max: 63, count: 2 },
      { min: 64, max: 127, count: 0 },
      { min: 128, max: 255, count: 0 },
    ],
  });
  const bytes = p.maps['@bytes'];
  assert.equal(bytes?.kind, 'keyedHist');
  assert.deepEqual(
    bytes?.kind === 'keyedHist' && bytes.hists.map((h) => [h.key, h.buckets.filter((b) => b.count > 0)]),
    [
      [['read'], [{ min: 512, max: 1023, count: 4 }]],
      [['write'], [{ min: 4096, max: 8191, count: 1 }]],
    ],
  );
  assert.deepEqual(p.maps['@hist1'], {
    kind: 'hist',
    buckets: [
      { min: 0, max: 9, count: 1 },
      { min: 10, max: 19, count: 1 },
      { min: 20, max: 29, count: 1 },
      { min: 30, max: 39, count: 0 },
    ],
  });
  assert.deepEqual(
    p.warnings.map((w) => [w.kind, w.firstLine, w.message.slice(0, 40)]),
    [
      ['warnf', 41, 'probe skipped 2 times'],
      ['parse', 42, 'invalid JSON (bad escape at position 37)'],
    ],
  );
});

test('stap parser streams in chunks like the bpftrace one', () => {
  const text = fixture('stap-output.txt');
  const whole = parseStapOutput(text);
  for (const size of [1, 5, 333]) {
    const p = createStapParser();
    for (let i = 0; i < text.length; i += size) p.write(text.slice(i, i + size));
    assert.deepEqual(p.finish(), whole, `chunk ${size}`);
  }
});

test('a bpftrace-shaped stap stream and the same bpftrace stream parse identically', () => {
  const lines = ['{"type": "map", "data": {"@c": {"a,b": 2}}}', '{"type": "printf", "data": "x\\n"}', '{"type": "lost_events", "data": {"events": 1}}'];
  const stap = parseStapOutput(lines.join('\n'));
  const bt = parseBpftraceJson(lines.join('\n'));
  assert.deepEqual(stap, bt);
});
