import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeDocuments } from './merge.js';
import { histogramOf, parseResultDocument, type ResultDocument } from './document.js';

function doc(node: string, over: Partial<ResultDocument>): ResultDocument {
  return parseResultDocument({
    probe: 'execs',
    tracer: { name: 'bpftrace', version: '0.17.0' },
    node,
    targets: [{ kind: 'pod', namespace: 'ns', pod: `web-${node}`, node }],
    startedAt: node === 'a' ? '2025-03-01T10:00:00.000Z' : '2025-03-01T10:00:02.000Z',
    finishedAt: node === 'a' ? '2025-03-01T10:00:10.000Z' : '2025-03-01T10:00:15.000Z',
    durationSeconds: 10,
    ...over,
  });
}

const A = doc('a', {
  histograms: [histogramOf('lat', 'us', [{ min: 1, max: 1, count: 2 }, { min: 2, max: 3, count: 3 }])],
  tables: [
    { name: 'execs', columns: ['comm', 'count'], rows: [['curl', 30], ['sh', 2]], totalRows: 2, truncated: false },
    { name: 'lat', columns: ['comm', 'count', 'average', 'max'], rows: [['curl', 2, 10, 50]], totalRows: 1, truncated: false },
  ],
  events: [{ pid: 1, comm: 'curl' }],
  counters: { opens: 5, 'st.count': 1, 'st.avg': 10, peak_max: 3 },
  lostEvents: 2,
  notes: ['helper error: x'],
  stacks: { folded: 'main;a 3\nmain;b 1\n', samples: 4 },
});
const B = doc('b', {
  partial: true,
  histograms: [histogramOf('lat', 'us', [{ min: 8, max: 15, count: 5 }])],
  tables: [
    { name: 'execs', columns: ['comm', 'count'], rows: [['sh', 9], ['wget', 1]], totalRows: 3, truncated: true, others: 1 },
    { name: 'lat', columns: ['comm', 'count', 'average', 'max'], rows: [['curl', 6, 20, 40]], totalRows: 1, truncated: false },
  ],
  events: [{ pid: 2, comm: 'sh' }],
  eventsDropped: 4,
  counters: { opens: 7, 'st.count': 3, 'st.avg': 30, peak_max: 9 },
  lostEvents: 1,
  stacks: { folded: 'main;a 2\n', samples: 2, svg: '<svg/>' },
});

test('merging two nodes', () => {
  const m = mergeDocuments([A, B]);
  assert.equal(m.node, undefined);
  assert.equal(m.startedAt, '2025-03-01T10:00:00.000Z');
  assert.equal(m.finishedAt, '2025-03-01T10:00:15.000Z');
  assert.equal(m.durationSeconds, 15);
  assert.equal(m.partial, true);
  assert.equal(m.lostEvents, 3);
  assert.deepEqual(
    m.targets.map((t) => t.pod),
    ['web-a', 'web-b'],
  );
  assert.deepEqual(m.notes, ['[a] helper error: x']);
  // Histogram buckets summed, gap filled, percentiles recomputed.
  assert.deepEqual(m.histograms, [
    histogramOf('lat', 'us', [
      { min: 1, max: 1, count: 2 },
      { min: 2, max: 3, count: 3 },
      { min: 4, max: 7, count: 0 },
      { min: 8, max: 15, count: 5 },
    ]),
  ]);
  assert.equal(m.histograms[0]?.count, 10);
  // Tables: keys combined, sums summed, averages count-weighted, max kept.
  assert.deepEqual(m.tables[0], {
    name: 'execs',
    columns: ['comm', 'count'],
    rows: [
      ['curl', 30],
      ['sh', 11],
    ],
    totalRows: 3,
    truncated: true,
    others: 2,
  });
  assert.deepEqual(m.tables[1]?.rows, [['curl', 8, 17.5, 50]]);
  assert.deepEqual(m.counters, { opens: 12, peak_max: 9, 'st.avg': 25, 'st.count': 4 });
  assert.deepEqual(m.events, [
    { node: 'a', pid: 1, comm: 'curl' },
    { node: 'b', pid: 2, comm: 'sh' },
  ]);
  assert.equal(m.eventsDropped, 4);
  assert.equal(m.stacks?.folded, 'main;a 5\nmain;b 1\n');
  assert.equal(m.stacks?.samples, 6);
  assert.ok(m.stacks?.svg?.includes('<title>main;a') === false && m.stacks?.svg?.includes('<title>a (5 samples, 83.33%)</title>'));
  assert.deepEqual(
    m.perNode?.map((p) => [p.node, p.headline, p.partial, p.lostEvents]),
    [
      ['a', 'n=5 p99=4us lost=2', false, 2],
      ['b', 'n=5 p99=16us lost=1 (partial)', true, 1],
    ],
  );
  assert.doesNotThrow(() => parseResultDocument(JSON.parse(JSON.stringify(m))));
});

test('one document is returned as is; none gives an empty partial document', () => {
  assert.deepEqual(mergeDocuments([A]), A);
  const none = mergeDocuments([]);
  assert.equal(none.partial, true);
  assert.deepEqual(none.notes, ['no node produced a result']);
});

test('incompatible histogram layouts are kept apart with a note', () => {
  const x = doc('a', { histograms: [histogramOf('sz', 'bytes', [{ min: 0, max: 9, count: 1 }])] });
  const y = doc('b', { histograms: [histogramOf('sz', 'bytes', [{ min: 0, max: 4, count: 1 }])] });
  const m = mergeDocuments([x, y]);
  assert.equal(m.histograms.length, 2);
  assert.match(m.notes[0] ?? '', /^histogram sz not merged: cannot merge histograms: buckets/);
});

test('raw agent documents (unvalidated) are normalised first', () => {
  const m = mergeDocuments([
    { probe: 'p', tracer: { name: 'bpftrace', version: '0.17.0' }, startedAt: '2025-03-01T10:00:00.000Z', finishedAt: '2025-03-01T10:00:01.000Z', durationSeconds: 1, counters: { n: 1 } },
    { probe: 'p', tracer: { name: 'bpftrace', version: '0.24.0' }, startedAt: '2025-03-01T10:00:00.000Z', finishedAt: '2025-03-01T10:00:01.000Z', durationSeconds: 1, counters: { n: 2 } },
  ]);
  assert.deepEqual(m.counters, { n: 3 });
  assert.equal(m.tracer.version, '0.17.0,0.24.0');
});
