// offCpu — where the target's threads wait (the article's latencytap.stp:
// "the slowest kernel operations of a process"): at sched_switch the outgoing
// thread's kernel stack, state and time are recorded if it belongs to the
// target; when it is switched back in, the off-CPU time is charged to that stack.
import { z } from 'zod';
import { block, defineProbe, endBlock } from './define.js';
import { bool, boundedInt } from './params.js';
import { latencyHeadline } from './shape.js';
import { entries, num, splitStackKey, toTraceData } from './trace-data.js';

const params = z
  .object({
    minUs: boundedInt(0, 3_600_000_000).default(1).describe('ignore off-CPU periods shorter than this (µs)'),
    userStacks: bool().default(false).describe('also record user stacks'),
  })
  .strict();

// sched_switch prev_state as the tracepoint reports it (1 << state index; TASK_REPORT_MAX = 256
// for a preemption inside the kernel, "R+"); 1026 is the raw TASK_IDLE of pre-4.14 kernels.
const STATES: Record<string, string> = {
  '0': 'R (preempted)',
  '1': 'S (sleep)',
  '2': 'D (uninterruptible)',
  '4': '__TASK_STOPPED',
  '8': '__TASK_TRACED',
  '128': 'I (idle)',
  '256': 'R+ (preempted in kernel)',
  '1026': 'D (idle)',
};

export const offCpu = defineProbe({
  name: 'offCpu',
  summary: 'Off-CPU time of the target threads: histogram (µs), time by blocking kernel stack (folded) and by task state.',
  covers: 'latencytap.stp (slowest kernel operations of a process); offcputime',
  scope: 'both',
  params,
  hooks: ['tracepoint:sched:sched_switch'],
  unsupported: (caps) => (caps.tracefs ? undefined : 'tracefs'),
  render: (k) => {
    const a = k.a;
    const p = k.ctx.params;
    const stackKey = p.userStacks ? '@off_kstack[$next], @off_ustack[$next]' : '@off_kstack[$next]';
    const record = [
      `@off_start[${a('prev_pid')}] = nsecs;`,
      `@off_state[${a('prev_pid')}] = ${a('prev_state')};`,
      `@off_kstack[${a('prev_pid')}] = kstack;`,
      ...(p.userStacks ? [`@off_ustack[${a('prev_pid')}] = ustack;`] : []),
    ];
    return [
      block('tracepoint:sched:sched_switch', undefined, [
        ...(k.target === undefined ? record.map((l) => `  ${l}`) : [`  if (${k.target}) {`, ...record.map((l) => `    ${l}`), '  }']),
        `  $next = ${a('next_pid')};`,
        '  $s = @off_start[$next];',
        '  if ($s) {',
        '    $us = (nsecs - $s) / 1000;',
        `    if ($us >= ${p.minUs}) {`,
        '      @offcpu_us = hist($us);',
        `      @offcpu_by_stack[${stackKey}, ${a('next_comm')}] = sum($us);`,
        '      @offcpu_by_state[@off_state[$next]] = sum($us);',
        '    }',
        '    delete(@off_start[$next]);',
        '    delete(@off_state[$next]);',
        '    delete(@off_kstack[$next]);',
        ...(p.userStacks ? ['    delete(@off_ustack[$next]);'] : []),
        '  }',
      ]),
      endBlock(['@off_start', '@off_state', '@off_kstack', ...(p.userStacks ? ['@off_ustack'] : [])]),
    ];
  },
  shape: {
    histograms: [{ map: '@offcpu_us', name: 'off-cpu time', unit: 'us' }],
    tables: [
      {
        map: '@offcpu_by_state',
        name: 'off-cpu time by state',
        keyColumns: ['state'],
        value: { kind: 'sum', column: 'total_us' },
        formatKey: ([s]) => [STATES[s ?? ''] ?? `state ${s}`],
        all: true,
      },
    ],
    headline: (r) => latencyHeadline(r, 'off-cpu time', 'switches'),
  },
  post: (r, parsed, ctx) => {
    const d = toTraceData(parsed);
    const n = ctx.params.userStacks ? 2 : 1;
    const agg = new Map<string, number>();
    let total = 0;
    for (const [key, v] of entries(d, '@offcpu_by_stack')) {
      const { stacks, rest } = splitStackKey(key, n);
      const comm = (rest[0] ?? '').replaceAll(';', ':') || '[unknown]';
      const k = (stacks[0] ?? []).reverse().map((f) => `${f.replace(/\+\d+$/, '')}_[k]`);
      const u = n === 2 ? (stacks[1] ?? []).reverse().map((f) => f.replace(/\+\d+$/, '')) : [];
      const line = [comm, ...u, ...k].join(';');
      agg.set(line, (agg.get(line) ?? 0) + num(v));
      total += num(v);
    }
    const sorted = [...agg.entries()].sort((x, y) => y[1] - x[1]);
    r.stacks = { folded: sorted.map(([s, us]) => `${s} ${us}\n`).join(''), samples: total };
    r.tables.push({
      name: 'off-cpu time by stack',
      columns: ['stack', 'total_us'],
      rows: sorted.slice(0, ctx.topN).map(([s, us]) => [s, us]),
    });
    r.counters['offCpuUs'] = total;
  },
  notes: () => ['stacks.folded is weighted by off-CPU µs, not samples'],
});
