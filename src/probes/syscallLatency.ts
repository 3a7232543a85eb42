// syscallLatency — per-syscall latency histograms (the article's rwtime-nd.stp:
// "syscall read/write latency"), from syscalls:sys_enter_X / sys_exit_X pairs
// keyed by thread. Latencies are recorded in µs (bpftrace 0.17 hist() is wrong
// for values >= 2^31, which ns would reach at ~2 s).
import { z } from 'zod';
import { block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { syscallName } from './params.js';
import { latencyHeadline } from './shape.js';

export const DEFAULT_LATENCY_SYSCALLS = ['read', 'write', 'pread64', 'pwrite64', 'fsync', 'fdatasync'];

const params = z
  .object({
    syscalls: z
      .array(syscallName(), { error: 'must be a list of syscall names' })
      .min(1, { error: 'must list at least one syscall' })
      .max(32, { error: 'must list at most 32 syscalls' })
      .refine((a) => new Set(a).size === a.length, { error: 'must not repeat a syscall' })
      .default(DEFAULT_LATENCY_SYSCALLS)
      .describe('syscalls to time (each needs syscalls:sys_enter_<name>/sys_exit_<name>)'),
  })
  .strict();

const hooksFor = (names: string[]): string[] => names.flatMap((n) => [`syscalls:sys_enter_${n}`, `syscalls:sys_exit_${n}`]);

export const syscallLatency = defineProbe({
  name: 'syscallLatency',
  summary: 'Latency histogram (µs) per syscall, with per-syscall count/avg/total and error counts.',
  covers: 'rwtime-nd.stp (syscall read/write latency); fsync latency',
  scope: 'both',
  params,
  hooks: ['tracepoint:syscalls:sys_enter_<syscall>', 'tracepoint:syscalls:sys_exit_<syscall>'],
  unsupported: (caps, p) => tracepointsMissing(caps, hooksFor(p.syscalls)),
  render: (k) => {
    const names = k.ctx.params.syscalls;
    return [
      block(
        names.map((n) => `tracepoint:syscalls:sys_enter_${n}`),
        k.target,
        ['  @start[tid] = nsecs;'],
      ),
      // Keys are the syscall's index in params.syscalls: bpftrace 0.17 miscompiles some
      // string-literal map keys ("misaligned stack access" for e.g. "pread64").
      ...names.map((n, i) =>
        block(`tracepoint:syscalls:sys_exit_${n}`, '@start[tid]', [
          '  $us = (nsecs - @start[tid]) / 1000;',
          `  @latency_us[${i}] = hist($us);`,
          `  @stats_us[${i}] = stats($us);`,
          `  if (${k.a('ret')} < 0) { @errors[${i}] = count(); }`,
          '  delete(@start[tid]);',
        ]),
      ),
      endBlock(['@start']),
    ];
  },
  shape: {
    histograms: [{ map: '@latency_us', name: 'latency', unit: 'us', keyArity: 1 }],
    tables: [
      { map: '@stats_us', name: 'syscalls', keyColumns: ['syscall'], value: { kind: 'stats', unit: 'us' }, sortBy: 'total_us', all: true },
      { map: '@errors', name: 'errors', keyColumns: ['syscall'], value: { kind: 'count', column: 'errors' }, all: true },
    ],
    headline: (r) => latencyHeadline(r, 'latency'),
  },
  post: (r, _parsed, ctx) => {
    const name = (k: string | number): string => ctx.params.syscalls[Number(k)] ?? `syscall_${String(k)}`;
    for (const h of r.histograms) if (h.key !== undefined) h.key = name(h.key);
    for (const t of r.tables) for (const row of t.rows) row[0] = name(row[0] ?? '');
    r.counters['calls'] = r.histograms.reduce((a, h) => a + h.total, 0);
  },
});
