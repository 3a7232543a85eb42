// cpuProfile — sampled on-CPU stacks (the article's flame-graph case; bpftrace
// `profile:hz:99 { @[kstack, ustack, comm] = count(); }`). The shaper turns the
// stack map into folded stacks ("comm;user frames;kernel frames_[k] count"),
// the input of flame graphs.
import { z } from 'zod';
import { block, defineProbe } from './define.js';
import { bool, boundedInt } from './params.js';
import { entries, num, splitStackKey, toTraceData } from './trace-data.js';

const params = z
  .object({
    hz: boundedInt(1, 999).default(49).describe('samples per second per CPU'),
    kernelStacks: bool().default(true).describe('include kernel stacks'),
    userStacks: bool().default(true).describe('include user stacks'),
  })
  .strict()
  .refine((p) => p.kernelStacks || p.userStacks, { error: 'kernelStacks and userStacks must not both be false', path: ['userStacks'] });

const cleanFrame = (f: string): string => f.replace(/\+\d+$/, '').replaceAll(';', ':') || '[unknown]';

/** Folded stacks from the @samples map: root first, semicolon-separated, one "stack count" per line, sorted. */
export function foldStacks(parsed: unknown, kernel: boolean, user: boolean): { folded: string; samples: number; byComm: Map<string, number> } {
  const data = toTraceData(parsed);
  const nStacks = (kernel ? 1 : 0) + (user ? 1 : 0);
  const agg = new Map<string, number>();
  const byComm = new Map<string, number>();
  let samples = 0;
  for (const [key, v] of entries(data, '@samples')) {
    const n = num(v);
    const { stacks, rest } = splitStackKey(key, nStacks);
    const comm = (rest[0] ?? '').replaceAll(';', ':') || '[unknown]';
    const kst = kernel ? (stacks[0] ?? []) : [];
    const ust = user ? (stacks[kernel ? 1 : 0] ?? []) : [];
    const frames = [comm, ...[...ust].reverse().map(cleanFrame), ...[...kst].reverse().map((f) => `${cleanFrame(f)}_[k]`)];
    const line = frames.join(';');
    agg.set(line, (agg.get(line) ?? 0) + n);
    byComm.set(comm, (byComm.get(comm) ?? 0) + n);
    samples += n;
  }
  const folded = [...agg.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([s, n]) => `${s} ${n}`)
    .join('\n');
  return { folded: folded === '' ? '' : `${folded}\n`, samples, byComm };
}

export const cpuProfile = defineProbe({
  name: 'cpuProfile',
  summary: 'Sampled on-CPU stacks (user + kernel) at hz per CPU → folded stacks for a flame graph, and samples per command.',
  covers: 'flame graph case (stap/perf sampling → FlameGraph); bpftrace profile:hz:99 kstack/ustack',
  scope: 'both',
  params,
  hooks: ['profile:hz:<hz>'],
  unsupported: (caps) => (caps.perfEvents ? undefined : 'perfEvents'),
  render: (k) => {
    const p = k.ctx.params;
    const key = [...(p.kernelStacks ? ['kstack'] : []), ...(p.userStacks ? ['ustack'] : []), 'comm'].join(', ');
    return [block(`profile:hz:${p.hz}`, k.target, [`  @samples[${key}] = count();`])];
  },
  shape: {
    headline: (r) => {
      const top = r.tables[0]?.rows[0];
      return `samples=${r.stacks?.samples ?? 0}${top ? ` top=${String(top[0])}` : ''}`;
    },
  },
  post: (r, parsed, ctx) => {
    const f = foldStacks(parsed, ctx.params.kernelStacks, ctx.params.userStacks);
    r.stacks = { folded: f.folded, samples: f.samples };
    r.counters['samples'] = f.samples;
    const rows = [...f.byComm.entries()].sort((a, b) => b[1] - a[1]).slice(0, ctx.topN);
    if (rows.length > 0) r.tables.push({ name: 'samples by command', columns: ['comm', 'samples'], rows: rows.map(([c, n]) => [c, n]) });
  },
  notes: () => ['user frames without symbols (stripped binaries, JITs) show as addresses; the flame graph SVG is rendered from stacks.folded'],
});
