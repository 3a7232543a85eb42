import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createParser, parseBpftraceJson, printedMaps, splitKey, type MapValue, type ParsedTrace, type TraceRecord } from './bpftrace-json.js';

const fixture = (name: string): string => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const parseFixture = (name: string): ParsedTrace => parseBpftraceJson(fixture(name));

function get<K extends MapValue['kind']>(p: ParsedTrace, name: string, kind: K): Extract<MapValue, { kind: K }> {
  const v = p.maps[name];
  assert.ok(v, `map ${name} missing`);
  assert.equal(v.kind, kind, `map ${name} kind`);
  return v as Extract<MapValue, { kind: K }>;
}

// ---------------------------------------------------------------------------
// Real v0.17 recordings

test('v0.17 keyed count map with attached_probes and the exit blank lines', () => {
  const p = parseFixture('v017-opens-count.ndjson');
  assert.equal(p.attachedProbes, 2);
  assert.equal(p.lines, 4);
  assert.equal(p.records, 2);
  assert.deepEqual(get(p, '@opens', 'keyed').entries, [
    { key: ['bpftrace'], value: 1 },
    { key: ['go'], value: 65 },
    { key: ['compile'], value: 73 },
    { key: ['bash'], value: 223 },
    { key: ['sh'], value: 224 },
    { key: ['cat'], value: 3472 },
    { key: ['dd'], value: 3552 },
    { key: ['head'], value: 3774 },
  ]);
  assert.deepEqual(p.warnings, []);
  assert.deepEqual(p.errors, []);
});

test('v0.17 -q output: no attached_probes, anonymous map @', () => {
  const p = parseFixture('v017-opens-count-quiet.ndjson');
  assert.equal(p.attachedProbes, undefined);
  const m = get(p, '@', 'keyed');
  assert.equal(m.entries.length, 8);
  assert.equal(
    m.entries.reduce((a, e) => a + e.value, 0),
    12366,
  );
});

test('v0.17 multi-key map: "pid,comm" keys split into two parts', () => {
  const m = get(parseFixture('v017-multikey-sum.ndjson'), '@bytes', 'keyed');
  assert.equal(m.entries.length, 454);
  assert.deepEqual(m.entries[0], { key: ['2037', 'bash'], value: 2 });
  assert.deepEqual(m.entries[1], { key: ['2059', 'bash'], value: 309 });
  assert.ok(m.entries.every((e) => e.key.length === 2 && /^\d+$/.test(e.key[0] as string)));
  assert.equal(
    m.entries.reduce((a, e) => a + e.value, 0),
    148809500,
  );
});

test('v0.17 log2 hist', () => {
  const h = get(parseFixture('v017-read-latency-hist.ndjson'), '@usecs', 'hist');
  assert.equal(h.buckets.length, 21);
  assert.deepEqual(h.buckets.slice(0, 3), [
    { min: 0, max: 0, count: 3145 },
    { min: 1, max: 1, count: 4956 },
    { min: 2, max: 3, count: 1099 },
  ]);
  assert.deepEqual(h.buckets[20], { min: 524288, max: 1048575, count: 2 });
  assert.equal(
    h.buckets.reduce((a, b) => a + b.count, 0),
    10125,
  );
});

test('v0.17 underflow (no min) and overflow (no max) buckets', () => {
  const p = parseFixture('v017-hist-underflow.ndjson');
  assert.deepEqual(get(p, '@lret', 'hist').buckets, [
    { max: -1, count: 8100 },
    { min: 0, max: 1, count: 1 },
    { min: 2, max: 3, count: 9697 },
    { min: 4, max: 5, count: 62 },
    { min: 6, max: 7, count: 0 },
    { min: 8, count: 414 },
  ]);
  assert.deepEqual(get(p, '@ret', 'hist').buckets[0], { max: -1, count: 8100 });
  assert.deepEqual(get(p, '@lret', 'hist').buckets[5], { min: 8, count: 414 });
  assert.deepEqual(get(parseFixture('v017-lhist.ndjson'), '@sizes', 'hist').buckets[8], { min: 8192, count: 4225 });
});

test('v0.17 keyed hist', () => {
  const h = get(parseFixture('v017-keyed-hist.ndjson'), '@bytes', 'keyedHist');
  assert.deepEqual(
    h.hists.map((x) => [x.key, x.buckets.length, x.buckets.reduce((a, b) => a + b.count, 0)]),
    [
      [['sh'], 1, 143],
      [['compile'], 14, 269],
      [['head'], 14, 572],
      [['cat'], 13, 715],
      [['go'], 17, 848],
      [['dd'], 18, 3289],
    ],
  );
  assert.deepEqual(h.hists[0]?.buckets, [{ min: 512, max: 1023, count: 143 }]);
});

test('v0.17 stats, avg, min, max, count', () => {
  const p = parseFixture('v017-stats.ndjson');
  assert.deepEqual(p.maps['@avg'], { kind: 'stats', average: 36807 });
  assert.deepEqual(p.maps['@st'], { kind: 'stats', count: 3230, average: 36807, total: 118887897 });
  const kavg = get(p, '@kavg', 'keyedStats');
  assert.equal(kavg.entries.length, 6);
  assert.deepEqual(kavg.entries[0], { key: ['cat'], average: 766 });
  const kst = get(p, '@kst', 'keyedStats');
  assert.deepEqual(kst.entries[5], { key: ['dd'], count: 1909, average: 57154, total: 109107484 });
  assert.deepEqual(p.maps['@mn'], { kind: 'scalar', value: 0 });
  assert.deepEqual(p.maps['@mx'], { kind: 'scalar', value: 65536 });
  assert.deepEqual(p.maps['@n'], { kind: 'scalar', value: 3230 });
});

test('v0.17 printf events keep their text exactly', () => {
  const p = parseFixture('v017-printf-events.ndjson');
  assert.equal(p.printf.length, 496);
  assert.equal(p.printf[0], '8619 bash /usr/bin/cat "q"\n');
  assert.equal(p.printfDropped, 0);
  assert.deepEqual(p.snapshots, []);
});

test('v0.17 interval snapshots: one per time() marker, then the exit dump', () => {
  const p = parseFixture('v017-interval-snapshots.ndjson');
  assert.deepEqual(
    p.snapshots.map((s) => [s.marker, Object.keys(s.maps)]),
    [
      ['04:48:51', ['@', '@lat']],
      ['04:48:52', ['@', '@lat']],
      ['04:48:53', ['@', '@lat']],
      [undefined, ['@ticks']],
    ],
  );
  const first = p.snapshots[0]?.maps['@'];
  assert.equal(first?.kind === 'keyed' && first.entries.length, 9);
  // The latest dump wins in `maps`.
  assert.deepEqual(get(p, '@', 'keyed').entries[0], { key: ['go'], value: 16 });
  assert.deepEqual(get(p, '@lat', 'hist').buckets[12], { min: 2048, max: 4095, count: 5378 });
  assert.deepEqual(p.maps['@ticks'], { kind: 'scalar', value: 3 });
});

test('v0.17 kstack map: frames split, trimmed, innermost first; empty stack kept', () => {
  const m = get(parseFixture('v017-kstack-profile.ndjson'), '@', 'stack');
  assert.equal(m.entries.length, 81);
  assert.equal(
    m.entries.reduce((a, e) => a + e.value, 0),
    394,
  );
  assert.deepEqual(m.entries[1], {
    frames: ['native_set_pte+3', 'set_ptes.isra.0+54', 'do_wp_page+1826', '__handle_mm_fault+2624', 'handle_mm_fault+208', 'exc_page_fault+374', 'asm_exc_page_fault+34'],
    stacks: [['native_set_pte+3', 'set_ptes.isra.0+54', 'do_wp_page+1826', '__handle_mm_fault+2624', 'handle_mm_fault+208', 'exc_page_fault+374', 'asm_exc_page_fault+34']],
    key: [],
    value: 1,
  });
  assert.equal(m.entries[0]?.frames.length, 14);
  assert.equal(m.entries[0]?.frames[13], 'entry_SYSCALL_64_after_hwframe+118');
  const empty = m.entries.filter((e) => e.frames.length === 0);
  assert.deepEqual(empty, [{ frames: [], stacks: [[]], key: [], value: 290 }]);
});

test('v0.17 ustack + comm: duplicate JSON keys are all kept (JSON.parse would lose samples)', () => {
  const text = fixture('v017-ustack-profile.ndjson');
  const m = get(parseBpftraceJson(text), '@', 'stack');
  assert.equal(m.entries.length, 39);
  assert.equal(
    m.entries.reduce((a, e) => a + e.value, 0),
    44,
  );
  assert.deepEqual(m.entries[1], { frames: ['0x7f4b66c2cac0', '0x7f4b66c9006c'], stacks: [['0x7f4b66c2cac0', '0x7f4b66c9006c']], key: ['bash'], value: 1 });
  assert.ok(m.entries.every((e) => e.key.length === 1 && ['bash', 'dd'].includes(e.key[0] as string)));
  // What the naive path sees:
  const line = text.split('\n').find((l) => l.startsWith('{')) as string;
  const naive = Object.values((JSON.parse(line) as { data: Record<string, Record<string, number>> }).data['@'] ?? {});
  assert.equal(naive.length, 34);
});

test('v0.17 strftime bug: repaired, warned with the line number', () => {
  const p = parseFixture('v017-strftime-invalid.ndjson');
  assert.deepEqual(p.maps['@ts'], { kind: 'other', entries: [{ key: [], value: '04:49:00' }] });
  assert.deepEqual(p.maps['@n'], { kind: 'scalar', value: 15437 });
  assert.equal(p.warnings.length, 1);
  assert.equal(p.warnings[0]?.kind, 'parse');
  assert.equal(p.warnings[0]?.firstLine, 4);
  assert.match(p.warnings[0]?.message ?? '', /^invalid JSON repaired \(bare word "04:49:00"/);
});

test('v0.17 helper errors: counted per distinct site, as warnings', () => {
  const p = parseFixture('v017-helper-error.ndjson');
  assert.deepEqual(p.errors, []);
  assert.deepEqual(
    p.warnings.map((w) => [w.kind, w.helper, w.retcode, w.line, w.col, w.firstLine, w.count, w.message]),
    [
      ['helper_error', 'map_lookup_elem', 0, 1, 38, 1, 1, 'map_lookup_elem failed: retcode 0'],
      ['helper_error', 'map_lookup_elem', 0, 1, 49, 2, 1, 'map_lookup_elem failed: retcode 0'],
      ['helper_error', 'probe_read', -14, 1, 60, 3, 3, 'probe_read failed: EFAULT (-14)'],
    ],
  );
  assert.equal(p.lines, 9);
});

test('v0.17 lost events are summed', () => {
  const p = parseFixture('v017-lost-events.ndjson');
  assert.equal(p.lostEvents, 34090);
  assert.equal(p.printf.length, 2214);
  assert.equal(p.lines, 2223);
});

// ---------------------------------------------------------------------------
// Hand-written v0.24+ shapes

test('v0.24+: top-level count, big ints as strings, spaceless keys, new types', () => {
  const p = parseFixture('v024-mixed.ndjson');
  assert.equal(p.attachedProbes, 4); // last record wins
  assert.equal(p.lostEvents, 17); // `count` + `data.events` (12) and `count` only (5)
  assert.deepEqual(p.printf, ['tick 1 a"b\n']);
  assert.deepEqual(p.maps['@big'], { kind: 'scalar', value: Number('18446744073709551615'), exact: '18446744073709551615' });
  assert.deepEqual(get(p, '@bigk', 'keyed').entries, [
    { key: ['1'], value: 9007199254740992, exact: '9007199254740993' },
    { key: ['2'], value: 5 },
  ]);
  assert.deepEqual(get(p, '@bytes', 'keyed').entries, [
    { key: ['4674', 'bash'], value: 1 },
    { key: ['4675', 'kworker/u8:1'], value: 12 },
  ]);
  assert.deepEqual(p.maps['@comm'], {
    kind: 'other',
    entries: [
      { key: ['4674'], value: 'bash' },
      { key: ['4675'], value: 'curl' },
    ],
  });
  assert.deepEqual(p.maps['@a'], { kind: 'stats', average: 4706 });
  assert.deepEqual(get(p, '@ks', 'keyedStats').entries, [
    { key: ['bash'], count: 2, average: 10, total: 20 },
    { key: ['curl'], count: 1, average: 7, total: 7 },
  ]);
  assert.deepEqual(get(p, '@lh', 'hist').buckets, [
    { max: -1, count: 2 },
    { min: 0, max: 9, count: 5 },
    { min: 10, max: 19, count: 1 },
    { min: 20, count: 3 },
  ]);
  assert.deepEqual(
    get(p, '@hk', 'keyedHist').hists.map((h) => h.key),
    [['sh'], ['curl']],
  );
  assert.deepEqual(get(p, '@k', 'stack').entries, [
    {
      frames: ['finish_task_switch.isra.0+147', '__schedule+996', 'schedule+35'],
      stacks: [['finish_task_switch.isra.0+147', '__schedule+996', 'schedule+35']],
      key: [],
      value: 3,
    },
    { frames: ['vfs_read+10', 'ksys_read+99'], stacks: [['vfs_read+10', 'ksys_read+99']], key: ['curl'], value: 2 },
  ]);
  assert.deepEqual(p.maps['@ts'], {
    kind: 'tseries',
    series: [
      {
        key: [],
        points: [
          { intervalStart: '2025-01-01T00:00:00.000000000', value: 5 },
          { intervalStart: '2025-01-01T00:00:01.000000000', value: 7 },
        ],
      },
    ],
  });
  assert.deepEqual(
    p.errors.map((e) => [e.kind, e.message, e.filename, e.line, e.col, e.count]),
    [
      ['errorf', 'pid 42 misbehaved', 'script.bt', 7, 3, 1],
      ['runtime_error', 'divide by zero', 'script.bt', 9, 12, 1],
    ],
  );
  assert.deepEqual(
    p.warnings.map((e) => [e.kind, e.message, e.helper ?? null, e.retcode ?? null, e.count, e.firstLine]),
    [
      ['helper_error', 'Bad address', 'probe_read_kernel', -14, 2, 17],
      ['warnf', 'slow path taken', null, null, 1, 20],
    ],
  );
  assert.deepEqual(p.unknown, [
    { type: 'value', data: 42 },
    { type: 'benchmark_result', data: { fast: { average: 120, iters: 1000 } } },
  ]);
  assert.deepEqual(
    p.snapshots.map((s) => [s.marker, Object.keys(s.maps).length]),
    [['04:02:26', 13]],
  );
});

// ---------------------------------------------------------------------------
// Keys

test('splitKey', () => {
  const cases: Array<[string, string[], string[][]]> = [
    ['', [''], []],
    ['bash', ['bash'], []],
    ['4674,bash', ['4674', 'bash'], []],
    ['a,', ['a', ''], []],
    ['\n    f1+1\n    f2+2\n', [], [['f1+1', 'f2+2']]],
    ['\nf1+1\nf2+2\n', [], [['f1+1', 'f2+2']]], // v0.24+: spaces stripped
    ['\n    f1\n,bash', ['bash'], [['f1']]],
    ['bash,\n    f1\n', ['bash'], [['f1']]],
    ['\n    k1\n,\n    u1\n    u2\n', [], [['k1'], ['u1', 'u2']]],
    ['\n    k1\n,\n    u1\n,comm', ['comm'], [['k1'], ['u1']]],
    ['\n    std::map<int, int>::at+4\n,x', ['x'], [['std::map<int, int>::at+4']]],
  ];
  for (const [raw, parts, stacks] of cases) {
    const k = splitKey(raw);
    assert.deepEqual([k.parts, k.stacks], [parts, stacks], JSON.stringify(raw));
  }
});

test('empty stacks in stack maps: "" and ",comm" keys', () => {
  const p = parseBpftraceJson(
    [
      '{"type": "map", "data": {"@u": {"\\n    f1+1\\n,bash": 1, ",bash": 2, ",": 3}}}',
      '{"type": "map", "data": {"@ku": {"\\n    k1\\n,\\n    u1\\n": 1, ",\\n    u2\\n": 2}}}',
    ].join('\n'),
  );
  assert.deepEqual(get(p, '@u', 'stack').entries, [
    { frames: ['f1+1'], stacks: [['f1+1']], key: ['bash'], value: 1 },
    { frames: [], stacks: [[]], key: ['bash'], value: 2 },
    { frames: [], stacks: [[]], key: [''], value: 3 },
  ]);
  assert.deepEqual(get(p, '@ku', 'stack').entries, [
    { frames: ['k1', 'u1'], stacks: [['k1'], ['u1']], key: [], value: 1 },
    { frames: ['u2'], stacks: [[], ['u2']], key: [], value: 2 },
  ]);
});

test('keys with a comma inside a string part are folded back to the map arity', () => {
  const p = parseBpftraceJson(
    [
      '{"type": "map", "data": {"@f": {"/tmp/a,b": 1, "/etc/hosts": 2}}}',
      '{"type": "map", "data": {"@pf": {"1,/tmp/x,y,z": 3, "2,/etc/hosts": 4}}}',
    ].join('\n'),
  );
  assert.deepEqual(get(p, '@f', 'keyed').entries, [
    { key: ['/tmp/a,b'], value: 1 },
    { key: ['/etc/hosts'], value: 2 },
  ]);
  assert.deepEqual(get(p, '@pf', 'keyed').entries, [
    { key: ['1', '/tmp/x,y,z'], value: 3 },
    { key: ['2', '/etc/hosts'], value: 4 },
  ]);
});

// ---------------------------------------------------------------------------
// Robustness and streaming

test('never throws on garbage; warns with line numbers; keeps unknown records', () => {
  const text = [
    '', //1
    'hello world', //2
    '{"type": "printf", "data": "x\\n"}', //3
    '   ', //4
    '[1,2]', //5
    '{"type": "mystery", "data": {"a": 1}}', //6
    '{"type": "map", "data": {"@m": {"a": 1}', //7 truncated
    '{"type": "map", "data": 5}', //8 data not an object
    '{"no_type": true}', //9
  ].join('\n');
  const p = parseBpftraceJson(text);
  assert.equal(p.lines, 9);
  assert.deepEqual(
    p.warnings.map((w) => [w.kind, w.firstLine]),
    [
      ['parse', 2],
      ['parse', 5],
      ['parse', 7],
    ],
  );
  assert.match(p.warnings[0]?.message ?? '', /^not a JSON record: hello world$/);
  assert.match(p.warnings[1]?.message ?? '', /^not a JSON record: \[1,2\]$/);
  assert.match(p.warnings[2]?.message ?? '', /^invalid JSON \(expected ',' or '\}' at position 39\)/);
  assert.deepEqual(p.unknown, [{ type: 'mystery', data: { a: 1 } }, { type: 'map', data: 5 }, { no_type: true }]);
  assert.deepEqual(p.printf, ['x\n']);
});

test('streaming: any chunking gives the same result as one parse; CRLF accepted', () => {
  const text = fixture('v017-interval-snapshots.ndjson') + fixture('v024-mixed.ndjson');
  const whole = parseBpftraceJson(text);
  for (const size of [1, 7, 64, 1000]) {
    const parser = createParser();
    for (let i = 0; i < text.length; i += size) parser.write(text.slice(i, i + size));
    assert.deepEqual(parser.finish(), whole, `chunk size ${size}`);
  }
  const crlf = parseBpftraceJson('{"type": "printf", "data": "a\\n"}\r\n{"type": "map", "data": {"@c": 1}}\r\n');
  assert.deepEqual(crlf.printf, ['a\n']);
  assert.deepEqual(crlf.maps['@c'], { kind: 'scalar', value: 1 });
});

test('push() line API, partial last line flushed by finish(), onRecord sees every record', () => {
  const seen: Array<[TraceRecord['type'], number]> = [];
  const parser = createParser({ onRecord: (r, n) => seen.push([r.type, n]) });
  parser.push('{"type": "attached_probes", "data": {"probes": 3}}');
  parser.push('');
  parser.write('{"type": "lost_events", "data": {"events": 2}}\n{"type": "map", "da');
  assert.equal(parser.result().lostEvents, 2);
  parser.write('ta": {"@c": 9}}');
  const p = parser.finish();
  assert.deepEqual(p.maps['@c'], { kind: 'scalar', value: 9 });
  assert.deepEqual(seen, [
    ['attached_probes', 1],
    ['lost_events', 3],
    ['map', 4],
  ]);
});

test('caps: printf, snapshots, unknown records, messages', () => {
  const lines: string[] = [];
  for (let i = 0; i < 5; i++) {
    lines.push(`{"type": "printf", "data": "tick ${i}\\n"}`);
    lines.push(`{"type": "map", "data": {"@c": ${i}}}`);
    lines.push(`{"type": "odd${i}"}`);
    lines.push(`{"type": "errorf", "msg": "e${i}"}`);
  }
  const p = parseBpftraceJson(lines.join('\n'), { maxPrintf: 2, maxSnapshots: 3, maxUnknown: 1, maxMessages: 2 });
  assert.deepEqual(p.printf, ['tick 0\n', 'tick 1\n']);
  assert.equal(p.printfDropped, 3);
  assert.deepEqual(
    p.snapshots.map((s) => [s.marker, s.maps['@c']]),
    [
      ['tick 2', { kind: 'scalar', value: 2 }],
      ['tick 3', { kind: 'scalar', value: 3 }],
      ['tick 4', { kind: 'scalar', value: 4 }],
    ],
  );
  assert.equal(p.snapshotsDropped, 2);
  assert.deepEqual(p.unknown, [{ type: 'odd0' }]);
  assert.deepEqual(
    p.errors.map((e) => e.message),
    ['e0', 'e1'],
  );
});

test('a map printed again without a marker starts a new snapshot', () => {
  const p = parseBpftraceJson(
    ['{"type": "map", "data": {"@a": 1}}', '{"type": "map", "data": {"@b": 1}}', '{"type": "map", "data": {"@a": 2}}'].join('\n'),
  );
  assert.deepEqual(
    p.snapshots.map((s) => Object.keys(s.maps)),
    [['@a', '@b'], ['@a']],
  );
  assert.deepEqual(p.maps['@a'], { kind: 'scalar', value: 2 });
});

test('a map named __proto__ is stored as data', () => {
  const p = parseBpftraceJson('{"type": "map", "data": {"__proto__": 1}}');
  assert.deepEqual(Object.keys(p.maps), ['__proto__']);
  assert.equal(Object.getPrototypeOf(p.maps), Object.prototype);
});

test('toPrintedJson / printedMaps give back the printed shape (duplicates summed)', () => {
  const lines = [
    '{"type": "map", "data": {"@k": {"1,bash": 2, "2,sh": 3}}}',
    '{"type": "map", "data": {"@s": {"\\n    f1+1\\n    f2+2\\n,bash": 1, "\\n    f1+1\\n    f2+2\\n,bash": 4}}}',
    '{"type": "map", "data": {"@big": 18446744073709551615}}',
    '{"type": "stats", "data": {"@a": 5, "@st": {"count": 2, "average": 3, "total": 6}}}',
    '{"type": "hist", "data": {"@h": [{"max": -1, "count": 1}, {"min": 0, "max": 0, "count": 2}], "@hk": {"x": [{"min": 8, "count": 1}]}}}',
    '{"type": "map", "data": {"@comm": {"1": "bash"}, "@one": "text"}}',
  ];
  const m = printedMaps(parseBpftraceJson(lines.join('\n')));
  assert.deepEqual(Object.fromEntries(m), {
    '@k': { '1,bash': 2, '2,sh': 3 },
    '@s': { '\n    f1+1\n    f2+2\n,bash': 5 },
    '@big': '18446744073709551615',
    '@a': 5,
    '@st': { count: 2, average: 3, total: 6 },
    '@h': [{ max: -1, count: 1 }, { min: 0, max: 0, count: 2 }],
    '@hk': { x: [{ min: 8, count: 1 }] },
    '@comm': { '1': 'bash' },
    '@one': 'text',
  });
});
