// Pure-function tests: drop-reason table parsing on this machine's real format
// file, custom-program placeholders, the trace-data adapter, and shapers fed
// with recorded bpftrace 0.17 output.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseBpftraceJson } from '../results/bpftrace-json.js';
import { CATALOG } from './catalog.js';
import { CUSTOM_PLACEHOLDERS, CustomProgramError, customPlaceholders, renderCustomProgram, shapeCustom } from './custom.js';
import { foldStacks } from './cpuProfile.js';
import { parseProcInterrupts } from './interrupts.js';
import { parseKfreeSkbReasons } from './kfree-skb-reasons.js';
import { makeHistogram, parseEventLine, quantile } from './shape.js';
import { parseNetstat } from './synBacklog.js';
import { CAPS_017, CAPS_023, FILTERS, ctxFor } from './test-support.js';
import { splitKey, splitStackKey, toTraceData } from './trace-data.js';

const fixture = (name: string) => readFileSync(new URL(`../results/testdata/${name}`, import.meta.url), 'utf8');

describe('parseKfreeSkbReasons', () => {
  it('reads the reason table of this machine’s skb/kfree_skb format file', () => {
    const reasons = parseKfreeSkbReasons(readFileSync(new URL('./testdata/kfree_skb.format', import.meta.url), 'utf8'));
    assert.equal(reasons.get(2), 'NOT_SPECIFIED');
    assert.equal(reasons.get(3), 'NO_SOCKET');
    assert.equal(reasons.get(12), 'NETFILTER_DROP');
    assert.ok(reasons.size > 50, `only ${reasons.size} reasons`);
    for (const [n, name] of reasons) {
      assert.ok(Number.isInteger(n) && n >= 0);
      assert.match(name, /^[A-Z0-9_]+$/);
    }
  });
  it('returns an empty table for formats without one', () => {
    assert.equal(parseKfreeSkbReasons('name: kfree_skb\nprint fmt: "skbaddr=%p", REC->skbaddr\n').size, 0);
    assert.equal(parseKfreeSkbReasons('').size, 0);
  });
  it('decodes reasons in packetDrops results', () => {
    const reasons = parseKfreeSkbReasons(readFileSync(new URL('./testdata/kfree_skb.format', import.meta.url), 'utf8'));
    const ndjson = '{"type": "map", "data": {"@by_reason": {"3": 9, "12": 2}}}\n{"type": "map", "data": {"@count": 11}}\n';
    const r = CATALOG.packetDrops.shape(ndjson, ctxFor(CATALOG.packetDrops.params.parse({}), FILTERS.node, CAPS_017, { dropReasons: reasons }));
    assert.deepEqual(r.tables[0]?.rows, [['NO_SOCKET', 9], ['NETFILTER_DROP', 2]]);
    assert.equal(r.headline, 'drops=11 top=NO_SOCKET');
  });
});

describe('custom programs', () => {
  const ctx = { filter: FILTERS.cgroup, mainPid: 4242 };
  it('substitutes placeholders', () => {
    const p = 'tracepoint:syscalls:sys_enter_openat /{{filter}}/ { @[comm] = count(); } // {{ cgroup_ids }} {{pids}} {{main_pid}} {{mnt_ns}} {{net_ns}} {{cgroup_id}}';
    assert.equal(
      renderCustomProgram(p, ctx),
      'tracepoint:syscalls:sys_enter_openat /(cgroup == 1234 || cgroup == 5678)/ { @[comm] = count(); } // 1234, 5678 4242 4242 4026532002 4026532001 1234',
    );
    assert.equal(renderCustomProgram('k /{{filter}}/ {}', { filter: FILTERS.node }), 'k /1/ {}');
    assert.equal(renderCustomProgram('/{{filter}}/', { filter: FILTERS.pids }), '/(pid == 4242 || pid == 4343)/');
    assert.deepEqual(customPlaceholders('/{{filter}}/ {{pids}}').sort(), ['filter', 'pids']);
    assert.equal(CUSTOM_PLACEHOLDERS.length, 7);
  });
  it('rejects unknown placeholders, stray braces and unavailable values', () => {
    assert.throws(() => renderCustomProgram('/{{TARGET}}/', ctx), /unknown placeholder \{\{TARGET\}\}/);
    assert.throws(() => renderCustomProgram('/{{filter}/', ctx), CustomProgramError);
    assert.throws(() => renderCustomProgram('{{ system("x") }}', ctx), CustomProgramError);
    assert.throws(() => renderCustomProgram('/{{cgroup_ids}}/', { filter: FILTERS.pids }), /needs cgroup ids/);
    assert.throws(() => renderCustomProgram('/{{main_pid}}/', { filter: FILTERS.pids }), /needs a main pid/);
    assert.throws(() => renderCustomProgram('', ctx), /non-empty/);
    assert.throws(() => renderCustomProgram('a\u0000b', ctx), /NUL/);
    assert.throws(() => renderCustomProgram('x'.repeat(70000), ctx), /at most/);
  });
  it('shapes any output generically', () => {
    const r = shapeCustom(fixture('v017-keyed-hist.ndjson'), { topN: 5, maxEvents: 3 });
    assert.ok(r.histograms.length > 1 && r.histograms.every((h) => h.name === '@bytes' && h.key !== undefined));
    const e = shapeCustom(fixture('v017-printf-events.ndjson'), { topN: 5, maxEvents: 3 });
    assert.equal(e.events.length, 3);
    assert.match(String(e.events[0]?.['line']), /^\d+ bash /);
  });
});

describe('trace-data adapter', () => {
  it('splits multi-keys from the left (free text last)', () => {
    assert.deepEqual(splitKey('4674,bash', 2), ['4674', 'bash']);
    assert.deepEqual(splitKey('1,2,a,b', 3), ['1', '2', 'a,b']);
    assert.deepEqual(splitKey(['1', 'x'], 2), ['1', 'x']);
  });
  it('splits stack keys as bpftrace 0.17 prints them', () => {
    assert.deepEqual(splitStackKey('\n    a+1\n    b+2\n,\n    u1\n,comm', 2), { stacks: [['a+1', 'b+2'], ['u1']], rest: ['comm'] });
    assert.deepEqual(splitStackKey(',\n    u1\n,co,mm', 2), { stacks: [[], ['u1']], rest: ['co,mm'] });
    assert.deepEqual(splitStackKey('\n    0x7f\n,bash', 1), { stacks: [['0x7f']], rest: ['bash'] });
    // bpftrace 0.23: newlines arrive as literal backslash-n, an empty stack as "\n".
    assert.deepEqual(splitStackKey('\\n,\\n        0x55a3cd1c9170\\n        0\\n,bash', 2), { stacks: [[], ['0x55a3cd1c9170', '0']], rest: ['bash'] });
    assert.deepEqual(splitStackKey('\\n        down_write+33\\n        anon_vma_clone+148\\n,\\n        _Fork+35\\n,bash', 2), {
      stacks: [['down_write+33', 'anon_vma_clone+148'], ['_Fork+35']],
      rest: ['bash'],
    });
  });
  it('reads the same data from NDJSON text and from src/results ParsedTrace', () => {
    for (const f of ['v017-multikey-sum.ndjson', 'v017-keyed-hist.ndjson', 'v017-stats.ndjson', 'v017-ustack-profile.ndjson', 'v017-read-latency-hist.ndjson']) {
      const raw = toTraceData(fixture(f));
      const viaParsed = toTraceData(parseBpftraceJson(fixture(f)));
      assert.deepEqual([...viaParsed.maps.keys()].sort(), [...raw.maps.keys()].sort(), f);
      for (const [k, v] of raw.maps) {
        if (f.includes('ustack')) continue; // duplicate symbolised keys are summed by the parser
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
          const a = v as Record<string, unknown>;
          const b = viaParsed.maps.get(k) as Record<string, unknown>;
          if ('count' in a && 'average' in a) continue; // stats
          assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort(), `${f} ${k}`);
        }
      }
    }
  });
});

describe('shaping', () => {
  it('histogram quantiles interpolate inside the bucket', () => {
    const h = makeHistogram('x', 'us', [
      { min: 0, max: 0, count: 1 },
      { min: 1, max: 1, count: 1 },
      { min: 2, max: 3, count: 8 },
      { min: 4, max: null, count: 1 },
    ]);
    assert.equal(h.total, 11);
    assert.equal(h.p50, 2.875); // rank 5.5: 3.5 of the 8 samples in [2,3] → 2 + 0.4375·2
    assert.equal(h.p99, 4); // rank 10.89 falls in the overflow bucket: its lower bound
    assert.equal(quantile([], 0.5), undefined);
  });
  it('event lines: tabs in the last free-text field are kept', () => {
    const spec = { kind: 'open', fields: [{ name: 'pid', type: 'n' as const }, { name: 'path', type: 's' as const }] };
    assert.deepEqual(parseEventLine('EV\topen\t12\t/a\tb', spec), { pid: 12, path: '/a\tb' });
    assert.equal(parseEventLine('EV\texec\t12\t/a', spec), undefined);
    assert.equal(parseEventLine('hello', spec), undefined);
  });
  it('syscallLatency on recorded output: keys named, headline with p99', () => {
    const ndjson = [
      '{"type": "hist", "data": {"@latency_us": {"0": [{"min": 0, "max": 0, "count": 3}, {"min": 1, "max": 1, "count": 4956}], "4": [{"min": 1024, "max": 2047, "count": 2}]}}}',
      '{"type": "stats", "data": {"@stats_us": {"0": {"count": 4959, "average": 0, "total": 4956}, "4": {"count": 2, "average": 1500, "total": 3000}}}}',
      '{"type": "map", "data": {"@errors": {"0": 1}}}',
    ].join('\n');
    const def = CATALOG.syscallLatency;
    const r = def.shape(ndjson, ctxFor(def.params.parse({}), FILTERS.pids));
    assert.deepEqual(r.histograms.map((h) => [h.key, h.total]), [['read', 4959], ['fsync', 2]]);
    assert.deepEqual(r.tables[0]?.rows, [['read', 4959, 0, 4956], ['fsync', 2, 1500, 3000]]);
    assert.equal(r.counters['calls'], 4961);
    assert.equal(r.headline, 'n=4961 p99=1us');
  });
  it('interrupts: raw tracepoints (not skipped while another BPF program runs) on bpftrace ≥ 0.23, tracepoints before', () => {
    const def = CATALOG.interrupts;
    const v17 = def.renderBpftrace(ctxFor(def.params.parse({}), FILTERS.node, CAPS_017));
    const v23 = def.renderBpftrace(ctxFor(def.params.parse({}), FILTERS.node, CAPS_023));
    assert.match(v17, /^tracepoint:irq:irq_handler_entry\n\{\n {2}@irq_start\[cpu\] = nsecs;\n {2}@count = count\(\);\n {2}@by_irq\[args->irq\] = count\(\);/m);
    assert.doesNotMatch(v17, /rawtracepoint/);
    assert.match(v23, /^rawtracepoint:irq_handler_entry\n\{\n {2}@irq_start\[cpu\] = nsecs;\n {2}@count = count\(\);\n {2}@by_irq\[arg0\] = count\(\);/m);
    assert.match(v23, /^rawtracepoint:irq_handler_exit\n\/@irq_start\[cpu\]\/\n\{\n {2}@time_us\[arg0\]/m);
    assert.match(v23, /^rawtracepoint:softirq_entry\n\{\n {2}@softirqs\[arg0\] = count\(\);/m);
    assert.doesNotMatch(v23, /tracepoint:irq:/);
  });
  it('threadTimes: a thread renamed during the trace is one row, under the name most samples carry', () => {
    // The catalog-host e2e spinner names itself after it starts: its first samples carry "python3".
    const ndjson = [
      '{"type": "map", "data": {"@user": {"10613,python3": 2, "10613,spinner": 940, "10600,python3": 5}}}',
      '{"type": "map", "data": {"@kernel": {"10613,python3": 1, "10613,spinner": 6}}}',
      '{"type": "map", "data": {"@samples": 954}}',
    ].join('\n');
    const def = CATALOG.threadTimes;
    const r = def.shape(ndjson, ctxFor(def.params.parse({ hz: 499 }), FILTERS.pids));
    const rows = r.tables.find((t) => t.name === 'thread times')?.rows ?? [];
    assert.deepEqual(rows.map((x) => [x[0], x[1], x[2]]), [[10613, 'spinner', 949], [10600, 'python3', 5]]);
  });
  it('events are capped at maxEvents with a note', () => {
    const lines = Array.from({ length: 8 }, (_, i) => `{"type": "printf", "data": "EV\\texec\\t${i}\\t${i}\\tsh\\t/bin/sh\\n"}`).join('\n');
    const r = CATALOG.execs.shape(`${lines}\n{"type": "map", "data": {"@events": 8}}\n`, ctxFor({}, FILTERS.node, CAPS_017, { maxEvents: 5 }));
    assert.equal(r.events.length, 5);
    assert.ok(r.notes.some((n) => /8 events printed, 5 kept/.test(n)));
  });
  it('tables respect topN', () => {
    const r = CATALOG.execs.shape(fixture('v017-opens-count.ndjson').replace('@opens', '@by_comm'), ctxFor({}, FILTERS.node, CAPS_017, { topN: 3 }));
    assert.deepEqual(r.tables[0]?.rows, [['head', 3774], ['dd', 3552], ['cat', 3472]]);
  });
  it('cpuProfile folds recorded ustack samples (root first, offsets dropped)', () => {
    const text = fixture('v017-ustack-profile.ndjson').replaceAll('"@":', '"@samples":');
    const f = foldStacks(text, false, true);
    assert.ok(f.samples > 0);
    const first = f.folded.split('\n')[0] ?? '';
    assert.match(first, /^(bash|dd);\S+ \d+$/);
    const kf = foldStacks(fixture('v017-kstack-profile.ndjson').replaceAll('"@":', '"@samples":').replaceAll('\\n": ', '\\n,swapper": '), true, false);
    assert.ok(kf.folded.includes('_[k]'));
    // The same folding from src/results' parsed form (stack keys already split there).
    const ktext = fixture('v017-kstack-profile.ndjson').replaceAll('"@":', '"@samples":');
    assert.equal(foldStacks(parseBpftraceJson(ktext), true, false).folded, foldStacks(ktext, true, false).folded);
    assert.doesNotMatch(kf.folded, /\+\d+[; ]/);
  });
  it('parses /proc/net/netstat and /proc/interrupts', () => {
    const n = parseNetstat('TcpExt: SyncookiesSent ListenOverflows ListenDrops\nTcpExt: 0 5 7\nIpExt: InNoRoutes\nIpExt: 1\n');
    assert.deepEqual(n, { 'TcpExt.SyncookiesSent': 0, 'TcpExt.ListenOverflows': 5, 'TcpExt.ListenDrops': 7, 'IpExt.InNoRoutes': 1 });
    const i = parseProcInterrupts('           CPU0       CPU1\n  1:          9          0  IO-APIC   1-edge      i8042\n 24:        100         20  PCI-MSI 49152-edge      virtio0-input.0\nNMI:          0          0   Non-maskable interrupts\n');
    assert.equal(i.get('1'), 'i8042');
    assert.equal(i.get('24'), 'virtio0-input.0');
  });
});
