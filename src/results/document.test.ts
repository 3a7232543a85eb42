import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  AGENT_CUT_NOTE,
  boundDocument,
  buildResultDocument,
  fitConfigMap,
  headline,
  histogramOf,
  normalizeDocument,
  parseResultDocument,
  printfLines,
  RESULT_API_VERSION,
  type BuildOptions,
  type ResultDocument,
} from './document.js';
import { parseBpftraceJson } from './bpftrace-json.js';
import { renderFlameGraph } from './flamegraph.js';

const fixture = (name: string) => parseBpftraceJson(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8'));
const META: BuildOptions = {
  probe: 'p',
  tracer: { name: 'bpftrace', version: '0.17.0' },
  startedAt: '2025-03-01T10:00:00.000Z',
  finishedAt: '2025-03-01T10:00:10.500Z',
};
const close = (a: number | undefined, b: number): void => assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `expected ${b}, got ${a}`);

function baseDoc(over: Partial<ResultDocument> = {}): ResultDocument {
  return parseResultDocument({
    probe: 'p',
    tracer: { name: 'bpftrace', version: '0.17.0' },
    startedAt: '2025-03-01T10:00:00.000Z',
    finishedAt: '2025-03-01T10:00:10.000Z',
    durationSeconds: 10,
    ...over,
  });
}

// ---------------------------------------------------------------------------
// Schema

test('schema: defaults, and lenient input normalised to one shape', () => {
  const doc = parseResultDocument({
    probe: 'execs',
    tracer: { name: 'bpftrace', version: '0.17.0' },
    startedAt: 'a',
    finishedAt: 'b',
    durationSeconds: 1,
    histograms: [{ name: 'lat', unit: 'us', total: 20, buckets: [{ min: null, max: -1, count: 10 }, { min: 0, max: 9, count: 10 }] }],
    tables: [{ name: 't', columns: ['k', 'v'], rows: [['a', 1]] }],
  });
  assert.equal(doc.apiVersion, RESULT_API_VERSION);
  assert.equal(doc.partial, false);
  assert.deepEqual([doc.notes, doc.events, doc.eventsDropped, doc.counters, doc.lostEvents, doc.targets], [[], [], 0, {}, 0, []]);
  const h = doc.histograms[0];
  assert.deepEqual(h?.buckets, [{ max: -1, count: 10 }, { min: 0, max: 9, count: 10 }]);
  assert.equal(h?.count, 20);
  close(h?.p50, -1); // rank 10: top of the underflow bucket
  close(h?.p90, 8); // rank 18 → [0,10): 8/10
  assert.deepEqual(doc.tables[0], { name: 't', columns: ['k', 'v'], rows: [['a', 1]], totalRows: 1, truncated: false });
  assert.throws(() => parseResultDocument({ probe: 'x' }));
  assert.throws(() => parseResultDocument({ ...doc, apiVersion: 'tracejob.dev/result/v2' }));
});

test('normalizeDocument keeps what validates and says so', () => {
  const d = normalizeDocument({ probe: 'x', histograms: [{ name: 'ok', unit: 'us', count: 1, buckets: [{ min: 1, max: 1, count: 1 }] }, { bad: true }], counters: { a: 1, b: 'no' } });
  assert.equal(d.probe, 'x');
  assert.equal(d.histograms.length, 1);
  assert.deepEqual(d.counters, { a: 1 });
  assert.deepEqual(d.notes, ['result document did not fully validate; invalid parts were left out']);
  assert.equal(normalizeDocument(null).probe, 'unknown');
});

test('histogramOf computes summary fields', () => {
  assert.deepEqual(
    histogramOf('lat', 'us', [
      { min: 0, max: 0, count: 2 },
      { min: 1, max: 1, count: 3 },
      { min: 2, max: 3, count: 5 },
      { min: 4, max: 7, count: 10 },
    ]),
    {
      name: 'lat',
      unit: 'us',
      buckets: [
        { min: 0, max: 0, count: 2 },
        { min: 1, max: 1, count: 3 },
        { min: 2, max: 3, count: 5 },
        { min: 4, max: 7, count: 10 },
      ],
      count: 20,
      p50: 4,
      p90: 7.2,
      p99: 7.92,
      mean: 3.9,
      max: 7,
    },
  );
});

// ---------------------------------------------------------------------------
// Building from real output

test('build: latency histogram from a recording', () => {
  const doc = buildResultDocument(fixture('v017-read-latency-hist.ndjson'), META);
  assert.equal(doc.durationSeconds, 10.5);
  assert.equal(doc.histograms.length, 1);
  const h = doc.histograms[0];
  assert.equal(h?.name, 'usecs');
  assert.equal(h?.unit, 'us');
  assert.equal(h?.count, 10125);
  close(h?.p50, 1); // rank 5062.5 falls in the single-value bucket [1]
  close(h?.p90, 2 + (1011.5 / 1099) * 2); // rank 9112.5: 8101 before [2,4)
  close(h?.p99, 16 + (133.75 / 162) * 16); // rank 10023.75: 9890 before [16,32)
  assert.equal(h?.max, 1048575);
  assert.equal(headline(doc), 'n=10125 p99=29us');
  assert.doesNotThrow(() => parseResultDocument(JSON.parse(JSON.stringify(doc))));
});

test('build: keyed count map → top-N table with others', () => {
  const doc = buildResultDocument(fixture('v017-opens-count.ndjson'), { ...META, topN: 3, columns: { '@opens': ['comm', 'opens'] } });
  assert.deepEqual(doc.tables, [
    {
      name: 'opens',
      columns: ['comm', 'opens'],
      rows: [
        ['head', 3774],
        ['dd', 3552],
        ['cat', 3472],
      ],
      totalRows: 8,
      truncated: true,
      others: 586,
      total: 11384,
    },
  ]);
  assert.equal(headline(doc), '11384 opens, top: head(3774)');
});

test('build: stats, scalars, keyed stats', () => {
  const doc = buildResultDocument(fixture('v017-stats.ndjson'), { ...META, topN: 2 });
  assert.deepEqual(doc.counters, { 'avg.avg': 36807, mn: 0, mx: 65536, n: 3230, 'st.count': 3230, 'st.avg': 36807, 'st.total': 118887897 });
  assert.deepEqual(
    doc.tables.map((t) => [t.name, t.columns, t.rows, t.totalRows, t.truncated]),
    [
      [
        'kavg',
        ['key', 'average'],
        [
          ['dd', 57154],
          ['go', 24760],
        ],
        6,
        true,
      ],
      [
        'kst',
        ['key', 'count', 'average', 'total'],
        [
          ['dd', 1909, 57154, 109107484],
          ['go', 337, 24760, 8344234],
        ],
        6,
        true,
      ],
    ],
  );
});

test('build: stacks folded (+ optional SVG), events parsed and capped, notes from messages and lost events', () => {
  const doc = buildResultDocument(fixture('v017-kstack-profile.ndjson'), { ...META, flamegraph: { width: 600 } });
  assert.equal(doc.stacks?.samples, 394);
  assert.ok(doc.stacks?.folded.startsWith('[unknown] 290\n'));
  assert.ok(doc.stacks?.svg?.startsWith('<?xml'));
  assert.equal(headline(doc), '394 samples, top: [unknown](290)');

  const ev = buildResultDocument(fixture('v017-printf-events.ndjson'), {
    ...META,
    maxEvents: 2,
    parseEvent: (line) => {
      const m = /^(\d+) (\S+) (\S+)/.exec(line);
      return m ? { pid: Number(m[1]), comm: m[2] as string, file: m[3] as string } : undefined;
    },
  });
  assert.deepEqual(ev.events, [
    { pid: 8619, comm: 'bash', file: '/usr/bin/cat' },
    { pid: 8620, comm: 'bash', file: '/usr/bin/head' },
  ]);
  assert.equal(ev.eventsDropped, 494);
  assert.deepEqual(ev.notes, ['494 events not kept (limit 2)']);
  assert.equal(headline(ev), '496 events');

  const lost = buildResultDocument(fixture('v017-lost-events.ndjson'), { ...META, maxEvents: 0 });
  assert.equal(lost.lostEvents, 34090);
  assert.equal(lost.notes[0], '34090 events lost (perf buffer full): counts are lower bounds');

  const he = buildResultDocument(fixture('v017-helper-error.ndjson'), META);
  assert.deepEqual(he.notes, [
    'helper error: map_lookup_elem failed: retcode 0 (script line 1:38)',
    'helper error: map_lookup_elem failed: retcode 0 (script line 1:49)',
    'helper error: probe_read failed: EFAULT (-14) (script line 1:60) x3',
  ]);
  const bad = buildResultDocument(fixture('v017-strftime-invalid.ndjson'), META);
  assert.match(bad.notes[0] ?? '', /^unreadable output line 4: invalid JSON repaired/);
  assert.deepEqual(bad.tables[0], { name: 'ts', columns: ['value'], rows: [['04:49:00']], totalRows: 1, truncated: false });
});

test('printfLines joins partial printf records and splits lines', () => {
  assert.deepEqual(printfLines(['a\nb', 'c\n', 'd\n\ne']), ['a', 'bc', 'd', '', 'e']);
  assert.deepEqual(printfLines([]), []);
});

// ---------------------------------------------------------------------------
// Headline

test('headline rules and the 60-char cap', () => {
  const cases: Array<[Partial<ResultDocument>, string]> = [
    [{ headline: 'execs=7' }, 'execs=7'],
    [{ headline: 'x'.repeat(80) }, `${'x'.repeat(57)}...`],
    [{}, 'no data'],
    [{ counters: { b: 2, a: 1 } }, 'a=1 b=2'],
    [{ events: [{ a: 1 }], eventsDropped: 41 }, '42 events'],
    [{ tables: [{ name: 'execs', columns: ['comm', 'n'], rows: [['curl', 30], ['sh', 12]], totalRows: 2, truncated: false }] }, '42 execs, top: curl(30)'],
    [
      { tables: [{ name: 'execs', columns: ['comm', 'n'], rows: [['a-really-long-command-name-that-goes-on-and-on-forever', 30]], totalRows: 1, truncated: false }] },
      '30 execs, top: a-really-long-command-name-that-goes-o...(30)',
    ],
    [{ histograms: [histogramOf('lat', 'us', [{ min: 2048, max: 4095, count: 1203 }])], lostEvents: 5, partial: true }, 'n=1203 p99=4.1ms lost=5 (partial)'],
    [{ histograms: [histogramOf('sz', 'bytes', [{ min: 0, max: 0, count: 1 }])] }, 'n=1 p99=0B'],
  ];
  for (const [over, want] of cases) {
    const h = headline(baseDoc(over));
    assert.equal(h, want);
    assert.ok(h.length <= 60);
  }
  // Keyed histograms of one name are summed for the headline.
  const keyed = baseDoc({
    histograms: [histogramOf('lat', 'us', [{ min: 4, max: 7, count: 3 }], 'read'), histogramOf('lat', 'us', [{ min: 4, max: 7, count: 1 }, { min: 8, max: 15, count: 1 }], 'write')],
  });
  assert.equal(headline(keyed), 'n=5 p99=16us');
});

// ---------------------------------------------------------------------------
// fitConfigMap

const size = (files: Record<string, string>): number => Object.entries(files).reduce((a, [k, v]) => a + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
const json = (d: unknown): string => JSON.stringify(d, null, 1);

test('fit: nothing to do when it fits', () => {
  const files = { 'result.json': json(baseDoc()), 'report.txt': 'hi\n' };
  assert.deepEqual(fitConfigMap(files), { files, truncated: [] });
});

test('fit: raw goes first, and alone when that is enough', () => {
  const doc = { ...baseDoc({ events: [{ line: 'keep me' }] }), raw: 'r'.repeat(50_000) };
  const { files, truncated } = fitConfigMap({ 'result.json': json(doc) }, 20_000);
  assert.deepEqual(truncated, ['result.json: dropped raw tracer output']);
  const out = JSON.parse(files['result.json'] as string) as ResultDocument;
  assert.equal(out.raw, undefined);
  assert.deepEqual(out.events, [{ line: 'keep me' }]);
  assert.deepEqual(out.notes, ['truncated to fit the ConfigMap: result.json: dropped raw tracer output']);
  assert.ok(size(files) <= 20_000);
  assert.ok(files['result.json']?.startsWith('{\n "apiVersion"'), 'indentation kept');
});

test('fit: events are cut to as many as fit, and counted as dropped', () => {
  const events = Array.from({ length: 2000 }, (_, i) => ({ i, line: `event number ${i} with some padding text` }));
  const doc = baseDoc({ events, eventsDropped: 7, tables: [{ name: 't', columns: ['k', 'v'], rows: [['a', 1]], totalRows: 1, truncated: false }] });
  const limit = 40_000;
  const { files, truncated } = fitConfigMap({ 'result.json': json(doc) }, limit);
  const out = JSON.parse(files['result.json'] as string) as ResultDocument;
  const kept = out.events.length;
  assert.ok(kept > 100 && kept < 2000, String(kept));
  assert.deepEqual(truncated, [`result.json: events cut from 2000 to ${kept}`]);
  assert.equal(out.eventsDropped, 7 + 2000 - kept);
  assert.deepEqual(out.events.at(-1), { i: kept - 1, line: `event number ${kept - 1} with some padding text` });
  assert.equal(out.tables[0]?.rows.length, 1, 'tables untouched');
  assert.ok(size(files) <= limit);
  assert.ok(size(files) > limit - 1024 - 200, 'cut no more than needed');
});

test('fit: then tables, all cut to the same top-k and marked truncated', () => {
  const rows = Array.from({ length: 500 }, (_, i) => [`key-${i}`, 500 - i]);
  const doc = baseDoc({
    tables: [
      { name: 'a', columns: ['k', 'v'], rows, totalRows: 500, truncated: false },
      { name: 'b', columns: ['k', 'v'], rows: rows.slice(0, 10), totalRows: 10, truncated: false },
    ],
  });
  const { files, truncated } = fitConfigMap({ 'result.json': json(doc) }, 12_000);
  const out = JSON.parse(files['result.json'] as string) as ResultDocument;
  const k = out.tables[0]?.rows.length ?? -1;
  assert.deepEqual(truncated, [`result.json: tables cut to ${k} rows each`]);
  assert.ok(k > 10 && k < 500);
  assert.deepEqual([out.tables[0]?.totalRows, out.tables[0]?.truncated], [500, true]);
  assert.deepEqual([out.tables[1]?.rows.length, out.tables[1]?.truncated], [10, false]);
  assert.ok(size(files) <= 12_000);
});

test('fit: flame graph SVG shrinks by dropping narrow frames, then the embedded copy is gone first', () => {
  const stacks = Array.from({ length: 400 }, (_, i) => ({ frames: ['main', `fn_${i}`, `leaf_${i}`], count: i + 1 }));
  const svg = renderFlameGraph(stacks);
  const doc = baseDoc({ stacks: { folded: 'main 1\n', samples: 1, svg } });
  const limit = Math.floor(Buffer.byteLength(svg) * 0.7);
  const { files, truncated } = fitConfigMap({ 'result.json': json(doc), 'flamegraph.svg': svg }, limit);
  assert.deepEqual(truncated, ['result.json: dropped the embedded flame graph SVG', 'flamegraph.svg: narrow frames dropped']);
  assert.ok(size(files) <= limit);
  const out = files['flamegraph.svg'] as string;
  assert.ok(out.includes('<title>leaf_399 ('));
  assert.ok(!out.includes('<title>leaf_0 ('));
  assert.equal((out.match(/<g /g) ?? []).length, (out.match(/<\/g>/g) ?? []).length);
  assert.ok(out.endsWith('</svg>\n') || out.endsWith('</svg>'));
});

test('fit: order of cuts across everything, and the limit always holds', () => {
  const stacks = Array.from({ length: 300 }, (_, i) => ({ frames: ['main', `fn_${i}`], count: i + 1 }));
  const folded = stacks.map((s) => `${s.frames.join(';')} ${s.count}`).join('\n') + '\n';
  const doc = {
    ...baseDoc({
      events: Array.from({ length: 300 }, (_, i) => ({ line: `e${i} ${'x'.repeat(40)}` })),
      tables: [{ name: 't', columns: ['k', 'v'], rows: Array.from({ length: 300 }, (_, i) => [`k${i}${'y'.repeat(30)}`, i]), totalRows: 300, truncated: false }],
      stacks: { folded, samples: 45150 },
      histograms: [histogramOf('h', 'us', [{ min: 1, max: 1, count: 1 }])],
    }),
    raw: 'r'.repeat(30_000),
  };
  const input = {
    'result.json': json(doc),
    'report.txt': Array.from({ length: 2000 }, (_, i) => `report line ${i}`).join('\n'),
    'flamegraph.svg': renderFlameGraph(stacks),
    'stacks.folded': folded,
  };
  const order = [
    /dropped raw/,
    /events cut/,
    /tables cut/,
    /embedded flame graph SVG/,
    /^[^:]+\.svg: /,
    /folded stacks/,
    /^report\.txt: /,
    /^[^:]+: dropped$/,
    /reduced to its header/,
    /all files dropped/,
  ];
  for (const limit of [300_000, 100_000, 60_000, 30_000, 10_000, 3_000, 1_500, 300, 10]) {
    const { files, truncated } = fitConfigMap(input, limit);
    assert.ok(size(files) <= limit, `limit ${limit}: ${size(files)}`);
    if (files['result.json'] !== undefined) assert.doesNotThrow(() => JSON.parse(files['result.json'] as string));
    // The cuts come in the documented order.
    const idx = truncated.map((t) => order.findIndex((w) => w.test(t)));
    assert.ok(!idx.includes(-1), truncated.join(' | '));
    assert.deepEqual([...idx].sort((a, b) => a - b), idx, `limit ${limit}: ${truncated.join(' | ')}`);
  }
  const tiny = fitConfigMap(input, 10);
  assert.deepEqual(tiny.files, {});
  assert.equal(tiny.truncated.at(-1), 'all files dropped: the limit is too small');
  const mid = fitConfigMap(input, 100_000);
  assert.equal(mid.truncated[0], 'result.json: dropped raw tracer output');
});

test('fit: a big report.txt is cut before the last 100 events go', () => {
  const doc = baseDoc({ events: Array.from({ length: 300 }, (_, i) => ({ line: `event ${i} ${'x'.repeat(40)}` })) });
  const report = Array.from({ length: 3000 }, (_, i) => `report line ${i}`).join('\n');
  const { files, truncated } = fitConfigMap({ 'result.json': json(doc), 'report.txt': report }, 30_000);
  const out = JSON.parse(files['result.json'] as string) as ResultDocument;
  assert.equal(out.events.length, 100);
  assert.equal(out.eventsDropped, 200);
  const m = /^report\.txt: cut to (\d+) lines$/.exec(truncated[1] ?? '');
  assert.ok(m && Number(m[1]) > 200, truncated.join(' | '));
  assert.deepEqual(truncated[0], 'result.json: events cut from 300 to 100');
  assert.ok(files['report.txt']?.endsWith('\n... (report truncated to fit the ConfigMap)\n'));
  assert.ok(size(files) <= 30_000);
});

// A tenant's worst case: 100 000 opens of unique 200-character paths, maxEvents 100 000.
function hugeDocument(): ResultDocument {
  const path = (i: number) => `/tmp/${String(i).padStart(8, '0')}-${'x'.repeat(186)}`;
  return parseResultDocument({
    probe: 'fileOpens',
    tracer: { name: 'bpftrace', version: '0.17.0' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:10.000Z',
    durationSeconds: 10,
    counters: { opens: 100000, failed: 100000 },
    tables: [{ name: 'opens by path', columns: ['path', 'opens'], rows: Array.from({ length: 1000 }, (_, i) => [path(i), 1]), totalRows: 4096, truncated: true }],
    events: Array.from({ length: 100000 }, (_, i) => ({ kind: 'open', pid: 4242, ret: -2, comm: 'node', path: path(i) })),
  });
}

test('boundDocument: a document over the limit is cut to it, and says what it cut', () => {
  const doc = hugeDocument();
  const before = Buffer.byteLength(JSON.stringify(doc));
  assert.ok(before > 20 * 1024 * 1024, `fixture is ${before} bytes`);
  const limit = 2 * 1024 * 1024 - 512;
  const { document, cuts } = boundDocument(doc, limit);
  const after = Buffer.byteLength(JSON.stringify(document));
  assert.ok(after <= limit, `${after} > ${limit}`);
  assert.ok(after > limit / 2, 'cuts only as much as needed');
  assert.match(cuts[0] ?? '', /^events cut from 100000 to \d+$/);
  const note = document.notes.find((n) => n.startsWith(AGENT_CUT_NOTE));
  assert.match(note ?? '', /^cut to fit the agent's output limit \(2 MiB\): events cut from 100000 to \d+/);
  assert.equal(document.eventsDropped, 100000 - document.events.length);
  assert.deepEqual(document.counters, { opens: 100000, failed: 100000 }, 'counters are never cut');
  assert.equal(document.tables[0]?.rows.length, 1000, 'the events go first');
});

test('boundDocument: a document that fits is returned as is', () => {
  const doc = parseResultDocument({ probe: 'execs', tracer: { name: 'bpftrace', version: '0.17.0' }, startedAt: 'a', finishedAt: 'b', durationSeconds: 1, events: [{ comm: 'sh' }] });
  const r = boundDocument(doc, 10_000);
  assert.equal(r.document, doc);
  assert.deepEqual(r.cuts, []);
});
