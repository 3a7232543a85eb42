import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  escapeXml,
  foldStacks,
  formatFolded,
  frameColor,
  mergeFolded,
  parseFolded,
  renderFlameGraph,
  shrinkFlameGraph,
  stripOffset,
  toFolded,
  totalSamples,
} from './flamegraph.js';
import { parseBpftraceJson } from './bpftrace-json.js';
import type { StackEntry } from './types.js';

const entry = (frames: string[], value: number, key: string[] = []): StackEntry => ({ frames, stacks: [frames], key, value });

/** Tags balance (ignoring <?xml …?>, comments and self-closing tags); no raw `<` or `&` in text. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<>]*")*)\s*(\/?)>/g;
  let last = 0;
  const body = svg.replace(/^<\?xml[^>]*\?>\n/, '').replace(/<!--[^]*?-->/g, '');
  for (let m = tag.exec(body); m; m = tag.exec(body)) {
    const between = body.slice(last, m.index);
    assert.ok(!/[<>]/.test(between), `stray angle bracket near ${JSON.stringify(between.slice(0, 40))}`);
    assert.ok(!/&(?!(amp|lt|gt|quot|apos);)/.test(between), `unescaped & in ${JSON.stringify(between.slice(0, 40))}`);
    last = tag.lastIndex;
    const [, close, name, , selfClose] = m;
    if (selfClose) continue;
    if (close) assert.equal(stack.pop(), name, `closing </${name}>`);
    else stack.push(name as string);
  }
  assert.equal(body.slice(last).trim(), '');
  assert.deepEqual(stack, []);
}

test('stripOffset', () => {
  const cases: Array<[string, string]> = [
    ['do_syscall_64+113', 'do_syscall_64'],
    ['finish_task_switch.isra.0+147', 'finish_task_switch.isra.0'],
    ['func+0x1a', 'func'],
    ['0x7f4b66b98ed6', '0x7f4b66b98ed6'],
    ['[unknown]', '[unknown]'],
    ['+12', '+12'],
    ['operator+', 'operator+'],
    ['main+12 (/usr/bin/app)', 'main (/usr/bin/app)'],
  ];
  for (const [i, o] of cases) assert.equal(stripOffset(i), o, i);
});

test('fold: leaf-first frames reversed to root-first, offsets stripped, equal stacks merged, sorted', () => {
  const stacks = foldStacks([
    entry(['vfs_read+10', 'ksys_read+99', 'do_syscall_64+113'], 3),
    entry(['vfs_read+22', 'ksys_read+99', 'do_syscall_64+113'], 2), // same function, other offset
    entry(['schedule+35', 'do_syscall_64+113'], 1),
    entry([], 4), // empty kstack (user-mode sample)
    entry(['a;b'], 1), // the separator inside a frame
    entry(['zero'], 0), // no samples: left out
  ]);
  assert.equal(
    formatFolded(stacks),
    ['[unknown] 4', 'a:b 1', 'do_syscall_64;ksys_read;vfs_read 5', 'do_syscall_64;schedule 1', ''].join('\n'),
  );
  assert.equal(totalSamples(stacks), 11);
  assert.equal(
    toFolded([entry(['f+1', 'g+2'], 2)], { keepOffsets: true }),
    'g+2;f+1 2\n',
  );
  assert.equal(toFolded([entry(['f+1'], 2, ['curl'])], { keyAsRoot: true }), 'curl;f 2\n');
});

test('folding the real kstack fixture', () => {
  const p = parseBpftraceJson(readFileSync(new URL('./testdata/v017-kstack-profile.ndjson', import.meta.url), 'utf8'));
  const m = p.maps['@'];
  assert.ok(m && m.kind === 'stack');
  const folded = foldStacks(m.entries);
  assert.equal(totalSamples(folded), 394);
  assert.deepEqual(folded[0], { frames: ['[unknown]'], count: 290 });
  assert.ok(folded.every((s) => s.frames.every((f) => !/\+\d+$/.test(f) && !f.includes(';'))));
  // Root-first: every kernel stack that went through a syscall starts at the entry point.
  const viaSyscall = folded.filter((s) => s.frames.includes('do_syscall_64'));
  assert.ok(viaSyscall.length > 0);
  assert.ok(viaSyscall.every((s) => s.frames[0] === 'entry_SYSCALL_64_after_hwframe'));
});

test('parseFolded / mergeFolded', () => {
  assert.deepEqual(parseFolded('a;b 3\nbad line\na;b 2\n\nc 1\nx -1\ny NaN\n'), [
    { frames: ['a', 'b'], count: 5 },
    { frames: ['c'], count: 1 },
  ]);
  assert.equal(mergeFolded(['a;b 3\nc 1\n', 'c 4\nd;e 2\n']), 'a;b 3\nc 5\nd;e 2\n');
});

const SAMPLE = [
  { frames: ['a', 'b'], count: 30 },
  { frames: ['a', 'c'], count: 10 },
  { frames: ['d'], count: 60 },
];

function widthOf(svg: string, titlePrefix: string): number {
  const re = new RegExp(`<title>${titlePrefix} \\([^<]*</title><rect [^>]*width="([0-9.]+)"`);
  const m = re.exec(svg);
  assert.ok(m, `frame ${titlePrefix} not found`);
  return Number(m[1]);
}

test('flame graph: widths proportional to samples, root at the bottom, tooltips with counts', () => {
  const svg = renderFlameGraph(SAMPLE, { width: 1200 });
  assertWellFormed(svg);
  // 1180 px for 100 samples.
  assert.equal(widthOf(svg, 'all'), 1180);
  assert.equal(widthOf(svg, 'a'), 472);
  assert.equal(widthOf(svg, 'b'), 354);
  assert.equal(widthOf(svg, 'c'), 118);
  assert.equal(widthOf(svg, 'd'), 708);
  assert.equal(widthOf(svg, 'b') / widthOf(svg, 'c'), 3);
  assert.ok(svg.includes('<title>b (30 samples, 30.00%)</title>'));
  assert.ok(svg.includes('<title>all (100 samples, 100.00%)</title>'));
  // Children sit above their parent and start at its x; siblings are laid side by side.
  const rect = (name: string): { x: number; y: number } => {
    const m = new RegExp(`<title>${name} \\([^<]*</title><rect x="([0-9.]+)" y="([0-9.]+)"`).exec(svg);
    assert.ok(m);
    return { x: Number(m[1]), y: Number(m[2]) };
  };
  assert.equal(rect('a').x, rect('all').x);
  assert.equal(rect('b').x, rect('a').x);
  assert.equal(rect('c').x, rect('b').x + 354);
  assert.equal(rect('d').x, rect('a').x + 472);
  assert.ok(rect('b').y < rect('a').y && rect('a').y < rect('all').y);
  assert.equal(rect('a').y - rect('b').y, 16);
});

test('flame graph: escaping, labels cut to fit, deterministic colours, min width', () => {
  const name = 'std::vector<int, alloc<int>>::push_back&"x"';
  const svg = renderFlameGraph(
    [
      { frames: [name], count: 999 },
      { frames: ['tiny'], count: 1 },
    ],
    { width: 300, minWidth: 1, title: 'T <&>' },
  );
  assertWellFormed(svg);
  assert.ok(svg.includes(escapeXml(name)));
  assert.ok(!svg.includes('vector<int'));
  assert.ok(svg.includes('<text class="t" x="150.00" y="24.00" text-anchor="middle">T &lt;&amp;&gt;</text>'));
  // 'tiny' is 0.28 px wide at 300 px: below minWidth, left out.
  assert.ok(!svg.includes('tiny'));
  // The long name does not fit 279.72 px at 12px/char*0.59: cut with "..".
  const label = /<text x="[0-9.]+" y="[0-9.]+">(std[^<]*)<\/text>/.exec(svg)?.[1] ?? '';
  assert.ok(label.endsWith('..'), label);
  // floor((279.72 - 6) / (12 · 0.59)) = 38 characters, counted unescaped.
  assert.equal(label.replace(/&(lt|gt|amp|quot|apos);/g, '_').length, 38);
  assert.equal(frameColor('vfs_read'), frameColor('vfs_read'));
  assert.match(frameColor('vfs_read'), /^rgb\(\d+,\d+,\d+\)$/);
  assert.equal(renderFlameGraph(SAMPLE), renderFlameGraph(formatFolded(SAMPLE)));
});

test('flame graph of nothing is still a valid image', () => {
  const svg = renderFlameGraph([]);
  assertWellFormed(svg);
  assert.ok(svg.includes('>no samples</text>'));
});

test('shrinkFlameGraph drops the narrowest frames first and stays well-formed', () => {
  const stacks = Array.from({ length: 200 }, (_, i) => ({ frames: ['root', `f${String(i).padStart(3, '0')}`], count: i + 1 }));
  const svg = renderFlameGraph(stacks);
  const full = Buffer.byteLength(svg);
  const limit = Math.floor(full / 2);
  const small = shrinkFlameGraph(svg, limit);
  assert.ok(small !== undefined);
  assert.ok(Buffer.byteLength(small) <= limit);
  assertWellFormed(small);
  assert.ok(small.includes('<title>f199 ('), 'the widest leaf stays');
  assert.ok(!small.includes('<title>f000 ('), 'the narrowest leaf goes');
  assert.ok(small.includes('narrow frames dropped to fit'));
  assert.equal(shrinkFlameGraph(svg, full), svg);
  assert.equal(shrinkFlameGraph(svg, 100), undefined);
});
