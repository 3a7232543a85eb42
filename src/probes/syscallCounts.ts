// syscallCounts — which syscalls the target makes, how often, and which fail
// (strace -c style), from raw_syscalls:sys_enter/sys_exit (one probe each
// instead of one per syscall; ids are named from the x86_64 table).
import { z } from 'zod';
import { block, defineProbe, tracepointsMissing } from './define.js';
import { bool } from './params.js';
import { syscallNameOf } from './syscall-table.js';

const params = z
  .object({
    byProcess: bool().default(true).describe('also count per process (pid, comm)'),
  })
  .strict();

export const syscallCounts = defineProbe({
  name: 'syscallCounts',
  summary: 'Syscall counts by syscall and by process, and failed syscalls by syscall.',
  covers: 'syscall counting (strace -c; bpftrace syscount one-liner)',
  scope: 'both',
  params,
  hooks: ['tracepoint:raw_syscalls:sys_enter', 'tracepoint:raw_syscalls:sys_exit'],
  unsupported: (caps) => tracepointsMissing(caps, ['raw_syscalls:sys_enter', 'raw_syscalls:sys_exit']),
  render: (k) => [
    block('tracepoint:raw_syscalls:sys_enter', k.target, [
      '  @count = count();',
      `  @by_syscall[${k.a('id')}] = count();`,
      ...(k.ctx.params.byProcess ? ['  @by_process[pid, comm] = count();'] : []),
    ]),
    block('tracepoint:raw_syscalls:sys_exit', k.target === undefined ? `${k.a('ret')} < 0` : `${k.a('ret')} < 0 && ${k.target}`, [
      `  @errors[${k.a('id')}, -${k.a('ret')}] = count();`,
    ]),
  ],
  shape: {
    counters: [{ map: '@count', name: 'syscalls' }],
    tables: [
      { map: '@by_syscall', name: 'by syscall', keyColumns: ['syscall'], value: { kind: 'count', column: 'calls' } },
      { map: '@by_process', name: 'by process', keyColumns: ['pid', 'comm'], value: { kind: 'count', column: 'calls' } },
      { map: '@errors', name: 'errors', keyColumns: ['syscall', 'errno'], value: { kind: 'count', column: 'errors' } },
    ],
    headline: (r) => `syscalls=${r.counters['syscalls'] ?? 0}`,
  },
  post: (r, _p, ctx) => {
    for (const t of r.tables) {
      if (t.name === 'by syscall' || t.name === 'errors') for (const row of t.rows) row[0] = syscallNameOf(row[0] ?? '', ctx.caps.arch);
    }
    if (ctx.caps.arch && ctx.caps.arch !== 'x86_64') r.notes.push(`syscall numbers are not named on ${ctx.caps.arch}`);
  },
});
