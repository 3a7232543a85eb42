// slowFileOps — file operations slower than a threshold, as events (the
// article's fsslower-nd.stp), timed at the syscall level (no kprobes needed).
import { z } from 'zod';
import { defineProbe, tracepointsMissing } from './define.js';
import { FILE_OPS, renderSyscallTiming } from './fileLatency.js';
import { boundedInt } from './params.js';
import type { EventSpec } from './shape.js';

export const SLOW_EVENT: EventSpec = {
  kind: 'slow',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'op', type: 'n' },
    { name: 'latencyUs', type: 'n' },
    { name: 'ret', type: 'n' },
    { name: 'comm', type: 's' },
  ],
};

const params = z
  .object({
    thresholdMs: boundedInt(0, 600000).default(10).describe('report operations at least this slow (ms)'),
    ops: z
      .array(z.enum(FILE_OPS, { error: `must be one of ${FILE_OPS.join(', ')}` }))
      .min(1, { error: 'must list at least one operation' })
      .refine((a) => new Set(a).size === a.length, { error: 'must not repeat an operation' })
      .default(['read', 'write', 'pread64', 'pwrite64', 'fsync', 'fdatasync'])
      .describe(`operations to time (${FILE_OPS.join(', ')})`),
  })
  .strict();

export const slowFileOps = defineProbe({
  name: 'slowFileOps',
  summary: 'File operations slower than thresholdMs: events (pid, op, latency, bytes/ret) and per-op counts.',
  covers: 'fsslower-nd.stp (FS reads and writes slower than N ms)',
  scope: 'both',
  params,
  hooks: ['tracepoint:syscalls:sys_enter_<op>', 'tracepoint:syscalls:sys_exit_<op>'],
  unsupported: (caps, p) => tracepointsMissing(caps, p.ops.map((o) => `syscalls:sys_exit_${o}`)),
  render: (k) => {
    const th = k.ctx.params.thresholdMs * 1000;
    return renderSyscallTiming(k, k.ctx.params.ops, (i) => [
      `  @all[${i}] = count();`,
      `  if ($us >= ${th}) {`,
      `    @slow[${i}] = stats($us);`,
      ...k.emit(SLOW_EVENT, ['pid', String(i), '$us', '$ret', 'comm'], '    '),
      '  }',
    ]);
  },
  shape: {
    tables: [
      { map: '@slow', name: 'slow operations', keyColumns: ['op'], value: { kind: 'stats', unit: 'us' }, all: true },
      { map: '@all', name: 'all operations', keyColumns: ['op'], value: { kind: 'count', column: 'calls' }, all: true },
    ],
    events: [SLOW_EVENT],
    headline: (r) => `slow=${r.counters['slow'] ?? 0}`,
  },
  post: (r, _p, ctx) => {
    const opName = (i: string | number | undefined): string => ctx.params.ops[Number(i)] ?? String(i);
    for (const t of r.tables) for (const row of t.rows) row[0] = opName(row[0]);
    for (const e of r.events) e['op'] = opName(e['op']);
    const slow = r.tables.find((t) => t.name === 'slow operations');
    r.counters['slow'] = slow ? slow.rows.reduce((a, row) => a + Number(row[1] ?? 0), 0) : 0;
  },
});
