// Strings the traced workload chose (file names, comm, stack frames, a custom
// program's map keys) reach report.txt, the headline (`kubectl get`'s Result
// column) and the flame graph escaped, never as terminal control sequences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headline, type ResultDocumentInput } from './document.js';
import { renderReport } from './report.js';
import { renderFlameGraph } from './flamegraph.js';
/** A file name a hostile workload opens: OSC retitles the terminal, CSI clears the screen. */
const HOSTILE_NAME = '\x1b]0;pwned\x07\x1b[2J evil';

const SHOWN = '\\x1b]0;pwned\\x07\\x1b[2J evil';
/** Anything a terminal or a bidi renderer would act on (LF allowed: report lines). */
const ACTIVE = /(?![\n])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

const base = {
  probe: 'fileOpens',
  tracer: { name: 'bpftrace', version: 'v0.23.2' },
  startedAt: '2026-01-01T00:00:00Z',
  finishedAt: '2026-01-01T00:00:05Z',
  durationSeconds: 5,
} satisfies ResultDocumentInput;

const CASES: Array<{ what: string; doc: ResultDocumentInput }> = [
  { what: 'a table cell (file name)', doc: { ...base, tables: [{ name: 'opens', columns: ['comm', 'path', 'count'], rows: [['cat', HOSTILE_NAME, 3]] }] } },
  { what: 'the first string of the top row (headline key)', doc: { ...base, tables: [{ name: 'opens', columns: ['path', 'count'], rows: [[HOSTILE_NAME, 3]] }] } },
  { what: 'a table name and column (custom program maps)', doc: { ...base, tables: [{ name: HOSTILE_NAME, columns: [HOSTILE_NAME, 'count'], rows: [['x', 1]] }] } },
  { what: 'a probe-set headline', doc: { ...base, headline: `opened ${HOSTILE_NAME}` } },
  { what: 'event fields and a line event', doc: { ...base, events: [{ comm: HOSTILE_NAME, [HOSTILE_NAME]: 1 }, { line: `printf: ${HOSTILE_NAME}\u202Egnp.exe` }] } },
  { what: 'a note, a histogram key and name, a counter', doc: { ...base, notes: [`note ${HOSTILE_NAME}`], histograms: [{ name: HOSTILE_NAME, unit: 'us', key: HOSTILE_NAME, count: 1, buckets: [{ min: 1, max: 1, count: 1 }] }], counters: { [HOSTILE_NAME]: 1 } } },
  { what: 'a stack frame (the hottest leaf)', doc: { ...base, probe: 'cpuProfile', stacks: { folded: `main;${HOSTILE_NAME} 7\n`, samples: 7 } } },
  { what: 'target and node fields', doc: { ...base, node: HOSTILE_NAME, targets: [{ kind: 'pod', namespace: 'ns', pod: HOSTILE_NAME, container: HOSTILE_NAME }] } },
];

test('report.txt shows hostile strings escaped, never raw', () => {
  for (const c of CASES) {
    const report = renderReport(c.doc as never);
    assert.doesNotMatch(report, ACTIVE, c.what);
    assert.ok(report.includes(SHOWN), `${c.what}: the escaped name is shown:\n${report}`);
    // No value can start a line of its own (a forged "Status: complete" line, say).
    for (const line of report.split('\n')) assert.ok(!line.startsWith(' evil'), c.what);
  }
});

test('the headline (kubectl get Result column) is escaped and still at most 60 characters', () => {
  for (const c of CASES.slice(0, 4).concat(CASES[6] as (typeof CASES)[number])) {
    const line = headline(c.doc);
    assert.doesNotMatch(line, /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u, c.what);
    assert.ok(line.length <= 60, `${c.what}: ${line}`);
    assert.ok(line.includes('\\x1b'), `${c.what}: ${line}`);
  }
  assert.equal(headline({ ...base, headline: HOSTILE_NAME }), SHOWN);
});

test('flame graph labels and tooltips: no control characters (XML 1.0 forbids them, viewers obey bidi)', () => {
  // `;` separates folded frames, so the frame holds the CSI part of the name.
  const svg = renderFlameGraph(`main;\x1b[2J evil\x07\u202E;\x01bad 10\n`, { width: 1200, title: 'cpu' });
  assert.doesNotMatch(svg.replace(/\n/g, ''), /[\p{Cc}\p{Cf}\p{Cs}]/u);
  assert.ok(svg.includes('<title>\\x1b[2J evil\\x07\\u202e (10 samples'), svg);
  assert.ok(svg.includes('\\x01bad'));
});
