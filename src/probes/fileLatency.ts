// Shared rendering for syscall-level file I/O timing (fsLatency, slowFileOps):
// without kprobes the VFS functions the article's fslatency/fsslower scripts
// use (__vfs_read/__vfs_write) are out of reach, so the syscalls are timed.
import type { Kit } from './define.js';
import { block, endBlock } from './define.js';

export const FILE_OPS = ['read', 'write', 'pread64', 'pwrite64', 'readv', 'writev', 'fsync', 'fdatasync', 'openat'] as const;
export type FileOp = (typeof FILE_OPS)[number];

/** Enter blocks record start time, fd-op index; exit blocks call `onExit(i)` with $us, $ret set. */
export function renderSyscallTiming<P>(k: Kit<P>, ops: readonly string[], onExit: (i: number, op: string) => string[], scratch: string[] = []): string[] {
  return [
    ...ops.map((op, i) => block(`tracepoint:syscalls:sys_enter_${op}`, k.target, ['  @start[tid] = nsecs;', `  @op[tid] = ${i};`])),
    ...ops.map((op, i) =>
      block(`tracepoint:syscalls:sys_exit_${op}`, `@start[tid] && @op[tid] == ${i}`, [
        '  $us = (nsecs - @start[tid]) / 1000;',
        `  $ret = ${k.a('ret')};`,
        ...onExit(i, op),
        '  delete(@start[tid]);',
        '  delete(@op[tid]);',
      ]),
    ),
    endBlock(['@start', '@op', ...scratch]),
  ];
}
