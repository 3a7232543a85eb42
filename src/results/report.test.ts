import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderHistogram, renderReport, renderTable } from './report.js';
import { buildResultDocument, histogramOf, type ResultDocument } from './document.js';
import { parseBpftraceJson } from './bpftrace-json.js';

const DOC: ResultDocument = {
  apiVersion: 'tracejob.dev/result/v1',
  probe: 'syscallLatency',
  tracer: { name: 'bpftrace', version: '0.17.0' },
  targets: [{ kind: 'pod', namespace: 'shop', pod: 'cart-7d9f', container: 'app', node: 'node-a' }],
  startedAt: '2025-03-01T10:00:00.000Z',
  finishedAt: '2025-03-01T10:00:30.000Z',
  durationSeconds: 30,
  partial: true,
  notes: ['339 events lost (perf buffer full): counts are lower bounds'],
  histograms: [
    histogramOf('read', 'us', [
      { min: 0, max: 0, count: 2 },
      { min: 1, max: 1, count: 3 },
      { min: 2, max: 3, count: 5 },
      { min: 4, max: 7, count: 10 },
      { min: 1024, max: 2047, count: 1 },
    ]),
  ],
  tables: [
    {
      name: 'execs',
      columns: ['comm', 'count'],
      rows: [
        ['curl', 30],
        ['sh', 9],
        ['python3.11', 3],
      ],
      totalRows: 5,
      truncated: true,
      others: 2,
      total: 44,
    },
  ],
  events: [
    { pid: 4242, comm: 'curl', path: '/etc/hosts' },
    { pid: 7, comm: 'sh', path: 'a\tb\nc' },
  ],
  eventsDropped: 3,
  counters: { 'opens.total': 1203, errors: 2 },
  lostEvents: 339,
  stacks: { folded: 'main;work;vfs_read 5\nmain;idle 2\n', samples: 7 },
};

test('full report snapshot', () => {
  assert.equal(
    renderReport(DOC),
    `TraceJob result: syscallLatency
===============================
Tracer:   bpftrace 0.17.0
Target:   pod shop/cart-7d9f (container app) on node-a
Started:  2025-03-01T10:00:00.000Z
Finished: 2025-03-01T10:00:30.000Z
Duration: 30s
Status:   PARTIAL (the trace did not run to its end)
Summary:  n=21 p99=1.8ms lost=339 (partial)
Lost:     339 events

Notes
-----
- partial result: the trace was stopped before it finished
- 339 events lost (perf buffer full): counts are lower bounds

Histogram: read (us)
--------------------
count=21 p50=4.2us p90=7.6us p99=1.8ms mean=77us max<=2ms
[0]                    2 |@@@@@@@@@@                                          |
[1]                    3 |@@@@@@@@@@@@@@@                                     |
[2, 4)                 5 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
[4, 8)                10 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
[1K, 2K)               1 |@@@@@                                               |

Table: execs (top 3 of 5)
-------------------------
comm        count
----------  -----
curl           30
sh              9
python3.11      3
(others: 2 in 2 more rows)

Events (showing 2 of 5)
-----------------------
 pid  comm  path
----  ----  ----------
4242  curl  /etc/hosts
   7  sh    a b\\nc

Counters
--------
name         value
-----------  -----
errors           2
opens.total   1203

Stacks: 7 samples, 2 distinct
-----------------------------
    5  main;work;vfs_read
    2  main;idle
`,
  );
  assert.equal(renderReport(DOC), renderReport(structuredClone(DOC)), 'deterministic');
});

test('histogram rendering: under/overflow labels, narrow bars', () => {
  assert.equal(
    renderHistogram(
      [
        { max: -1, count: 4 },
        { min: 0, max: 1023, count: 8 },
        { min: 1024, max: 2047, count: 0 },
        { min: 2048, count: 123456789 },
      ],
      10,
    ),
    ['(..., 0)                 4 |          |', '[0, 1K)                  8 |          |', '[1K, 2K)                 0 |          |', '[2K, ...)        123456789 |@@@@@@@@@@|'].join('\n'),
  );
  assert.equal(renderHistogram([]), '(empty)');
  assert.equal(renderHistogram([{ min: 0, max: 0, count: 0 }], 4), '[0]                    0 |    |');
});

test('tables: numbers right, text left, long cells cut, ragged rows padded', () => {
  assert.equal(
    renderTable(
      ['name', 'n', 'avg'],
      [
        ['a-very-long-process-name', 1, 2.5],
        ['x', 12345, null],
        ['short'],
      ],
      10,
    ),
    ['name            n   avg', '----------  -----  ----', 'a-very-...      1  2.50', 'x           12345     -', 'short           -     -'].join('\n'),
  );
});

test('report from a real recording (keyed histogram, bytes)', () => {
  const parsed = parseBpftraceJson(readFileSync(new URL('./testdata/v017-keyed-hist.ndjson', import.meta.url), 'utf8'));
  const doc = buildResultDocument(parsed, {
    probe: 'readSizes',
    tracer: { name: 'bpftrace', version: '0.17.0' },
    startedAt: '2025-03-01T10:00:00Z',
    finishedAt: '2025-03-01T10:00:01Z',
  });
  const text = renderReport(doc);
  const lines = text.split('\n');
  assert.equal(lines[8], 'Summary:  n=5836 p99=127KiB');
  // Keyed histograms, biggest first.
  assert.deepEqual(
    lines.filter((l) => l.startsWith('Histogram: ')),
    ['Histogram: bytes [dd] (bytes)', 'Histogram: bytes [go] (bytes)', 'Histogram: bytes [cat] (bytes)', 'Histogram: bytes [head] (bytes)', 'Histogram: bytes [compile] (bytes)', 'Histogram: bytes [sh] (bytes)'],
  );
  assert.ok(text.includes('\nHistogram: bytes [sh] (bytes)\n-----------------------------\ncount=143 p50=768B p90=973B p99=1019B mean=768B max<=1023B\n[512, 1K)            143 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|\n'));
  assert.ok(text.endsWith('|\n'));
});

test('renders documents that did not validate (e.g. straight from an agent log)', () => {
  const text = renderReport({ probe: 'x', histograms: [{ name: 'h', unit: 'us', total: 3, buckets: [{ min: 1, max: 1, count: 3 }] }], tables: 'nope' } as unknown as ResultDocument);
  assert.ok(text.startsWith('TraceJob result: x\n'));
  assert.ok(text.includes('- result document did not fully validate; invalid parts were left out\n'));
  assert.ok(text.includes('count=3 p50=1us p90=1us p99=1us'));
});
