// fileOpens — who opens what (the article's first SystemTap script, `probe
// syscall.open` printing execname(pid) open(argstr)), from the open/openat/
// openat2 syscall tracepoints; the path is read at entry, the result at exit.
import { z } from 'zod';
import { block, wrap, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { bool } from './params.js';
import type { EventSpec } from './shape.js';

export const OPEN_EVENT: EventSpec = {
  kind: 'open',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'ret', type: 'n' },
    { name: 'comm', type: 's' },
    { name: 'path', type: 's' },
  ],
};

const params = z
  .object({
    failedOnly: bool().default(false).describe('only count and report opens that failed (ret < 0)'),
  })
  .strict();

const SYSCALLS = ['open', 'openat', 'openat2'];

export const fileOpens = defineProbe({
  name: 'fileOpens',
  summary: 'Files opened by the target: per-path and per-command tables, failures, open events with the return value.',
  covers: 'stap `probe syscall.open` script (who opens what); opensnoop',
  scope: 'both',
  params,
  hooks: SYSCALLS.flatMap((s) => [`tracepoint:syscalls:sys_enter_${s}`, `tracepoint:syscalls:sys_exit_${s}`]),
  unsupported: (caps) => tracepointsMissing(caps, ['syscalls:sys_enter_openat', 'syscalls:sys_exit_openat']),
  render: (k) => {
    const present = (s: string) => !k.ctx.caps.tracepoints || k.ctx.caps.tracepoints.has(`syscalls:sys_enter_${s}`);
    const calls = SYSCALLS.filter(present);
    const failedOnly = k.ctx.params.failedOnly;
    return [
      block(
        calls.map((s) => `tracepoint:syscalls:sys_enter_${s}`),
        k.target,
        [`  @path[tid] = str(${k.a('filename')});`, '  @pending[tid] = 1;'],
      ),
      block(
        calls.map((s) => `tracepoint:syscalls:sys_exit_${s}`),
        '@pending[tid]',
        [
          ...wrap(failedOnly ? `${k.a('ret')} < 0` : undefined, [
            '@count = count();',
            `if (${k.a('ret')} < 0) { @failed = count(); @failed_by_path[@path[tid]] = count(); }`,
            '@by_path[@path[tid]] = count();',
            '@by_comm[comm] = count();',
            ...k.emit(OPEN_EVENT, ['pid', k.a('ret'), 'comm', '@path[tid]'], ''),
          ]),
          '  delete(@path[tid]);',
          '  delete(@pending[tid]);',
        ],
      ),
      endBlock(['@path', '@pending']),
    ];
  },
  shape: {
    counters: [
      { map: '@count', name: 'opens' },
      { map: '@failed', name: 'failed' },
    ],
    tables: [
      { map: '@by_path', name: 'opens by path', keyColumns: ['path'], value: { kind: 'count', column: 'opens' } },
      { map: '@by_comm', name: 'opens by command', keyColumns: ['comm'], value: { kind: 'count', column: 'opens' } },
      { map: '@failed_by_path', name: 'failed opens by path', keyColumns: ['path'], value: { kind: 'count', column: 'failures' } },
    ],
    events: [OPEN_EVENT],
    headline: (r) => `opens=${r.counters['opens'] ?? 0} failed=${r.counters['failed'] ?? 0}`,
  },
});
