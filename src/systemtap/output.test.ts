// Recorded-format stap outputs (written from the documented formats: @hist_log
// tables, the JSON-lines contract, stap's error texts) through the agent's parse
// path: wiring.createStapParser → the probe's own shaper (wiring.shapeResult).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isAttachMarker } from '../agent/run.js';
import { createStapParser, getProbe, shapeResult, validateParams } from '../agent/wiring.js';
import { FILTERS, ctxFor } from '../probes/test-support.js';
import { classifyStapError } from './custom.js';

const fixture = (f: string) => readFileSync(new URL(`./testdata/output/${f}`, import.meta.url), 'utf8');

/** As the agent does: the run loop hides the attach marker, every other line goes to the parser. */
function shape(name: string, file: string, params: unknown = {}) {
  const probe = getProbe(name);
  assert.ok(probe);
  const v = validateParams(name, params);
  assert.ok(v.ok);
  const parser = createStapParser({ maxPrintf: 1000 });
  for (const line of fixture(file).split('\n')) if (!isAttachMarker(line)) parser.push(line);
  const parsed = parser.finish();
  return { parsed, shaped: shapeResult(probe, parsed, ctxFor(v.value, FILTERS.pids)) };
}

describe('stap output through the agent parse path', () => {
  it('syscallLatency: keyed @hist_log tables, stats and errors', () => {
    const { shaped, parsed } = shape('syscallLatency', 'syscallLatency.out');
    assert.deepEqual(parsed.warnings ?? [], []);
    const read = shaped.histograms.find((h) => h.key === 'read');
    assert.ok(read, JSON.stringify(shaped.histograms));
    assert.equal(read.total, 25);
    assert.deepEqual(read.buckets.slice(0, 3), [
      { min: 0, max: 0, count: 4 },
      { min: 1, max: 1, count: 20 },
      { min: 2, max: 3, count: 0 },
    ]);
    assert.deepEqual(read.buckets.at(-1), { min: 16, max: 31, count: 1 });
    const fsync = shaped.histograms.find((h) => h.key === 'fsync');
    assert.equal(fsync?.total, 10);
    // Interpolated inside the top log2 bucket [2048, 4095] (results package percentiles).
    assert.equal(fsync?.p99, 4070.4);
    const stats = shaped.tables.find((t) => t.name === 'syscalls');
    assert.deepEqual(stats?.rows[0], ['fsync', 10, 2150, 21500]);
    assert.deepEqual(shaped.tables.find((t) => t.name === 'errors')?.rows, [['read', 3]]);
    assert.equal(shaped.counters['calls'], 35);
  });

  it('tcpRetransmits: maps, an empty map, and EV lines printed as plain text', () => {
    const { shaped } = shape('tcpRetransmits', 'tcpRetransmits.out');
    assert.equal(shaped.counters['retransmits'], 2);
    assert.equal(shaped.counters['synackRetransmits'], 0);
    const flow = shaped.tables.find((t) => t.name === 'by flow')?.rows[0] ?? [];
    assert.equal(String(flow[0]), '10.0.0.1');
    assert.equal(Number(flow[1]), 43210);
    assert.equal(Number(flow.at(-1)), 2);
    assert.deepEqual(shaped.tables.find((t) => t.name === 'by state')?.rows, [['ESTABLISHED', 2]]);
    assert.equal(shaped.events.length, 2);
    assert.equal(shaped.events[0]?.['kind'], 'retrans');
    assert.equal(shaped.events[0]?.['sndCwnd'], 10);
    assert.equal(shaped.events[1]?.['rtoJiffies'], 408);
    assert.equal(shaped.events[0]?.['daddr'], '10.0.0.2');
    assert.equal(shaped.headline, 'retransmits=2');
  });

  it('futexContention: unkeyed hist + keyed stats with hex lock addresses', () => {
    const { shaped } = shape('futexContention', 'futexContention.out');
    const h = shaped.histograms[0];
    assert.equal(h?.total, 4);
    assert.deepEqual(h?.buckets[0], { min: 32, max: 63, count: 3 });
    const locks = shaped.tables.find((t) => t.name === 'contended locks');
    assert.equal(locks?.rows.length, 2);
    assert.equal(locks?.rows[0]?.[1], `0x${(140020000000000n).toString(16)}`);
    assert.equal(locks?.rows[0]?.[2], 'java');
  });
});

describe('classifyStapError (stap stderr texts)', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['semantic-error.txt', 'compile', /no match \(similar functions/],
    ['parse-error.txt', 'compile', /parse error: expected literal string/],
    ['pass4-guru.txt', 'compile', /implicit declaration of function 'set_fs'/],
    ['pass4-headers.txt', 'environment', /linux\/list\.h: No such file/],
    ['no-build-tree.txt', 'environment', /build\/\.config" failed/],
    ['stapbpf-memlock.txt', 'runtime', /RLIMIT_MEMLOCK/],
  ];
  for (const [file, kind, summary] of cases) {
    it(`${file} → ${kind}`, () => {
      const c = classifyStapError(fixture(file));
      assert.equal(c.kind, kind);
      assert.match(c.summary, summary);
      assert.doesNotMatch(c.summary, /^Tip: /m);
    });
  }
});
