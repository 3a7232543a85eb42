// fsLatency — file-system read/write latency histograms (the article's
// fslatency-nd.stp on __vfs_read/__vfs_write). With kprobes: vfs_read/vfs_write
// (file I/O only, any path into the VFS); otherwise syscall-level read/write/
// pread64/pwrite64 (includes reads of pipes and sockets — noted in the result).
import { z } from 'zod';
import { block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { renderSyscallTiming } from './fileLatency.js';
import { latencyHeadline } from './shape.js';

const OPS = ['read', 'write', 'pread64', 'pwrite64'];

const params = z
  .object({
    level: z
      .enum(['auto', 'syscall', 'vfs'], { error: 'must be one of auto, syscall, vfs' })
      .default('auto')
      .describe('auto: vfs when the node has kprobes, else syscall'),
  })
  .strict();

const useVfs = (kprobes: boolean, level: string): boolean => level === 'vfs' || (level === 'auto' && kprobes);

export const fsLatency = defineProbe({
  name: 'fsLatency',
  summary: 'File-system read/write latency histograms (µs): VFS-level with kprobes, syscall-level on tracepoint-only nodes.',
  covers: 'fslatency-nd.stp (FS latency of __vfs_read/__vfs_write)',
  scope: 'both',
  params,
  hooks: ['kprobe:vfs_read', 'kprobe:vfs_write (with kprobes)', 'tracepoint:syscalls:sys_enter_/sys_exit_{read,write,pread64,pwrite64}'],
  unsupported: (caps, p) =>
    p.level === 'vfs' && !caps.kprobes ? 'kprobes' : useVfs(caps.kprobes, p.level) ? undefined : tracepointsMissing(caps, OPS.map((o) => `syscalls:sys_exit_${o}`)),
  render: (k) => {
    if (useVfs(k.ctx.caps.kprobes, k.ctx.params.level)) {
      return [
        block(['kprobe:vfs_read', 'kprobe:vfs_write'], k.target, ['  @start[tid] = nsecs;']),
        block('kretprobe:vfs_read', '@start[tid]', ['  @latency_us[0] = hist((nsecs - @start[tid]) / 1000);', '  delete(@start[tid]);']),
        block('kretprobe:vfs_write', '@start[tid]', ['  @latency_us[1] = hist((nsecs - @start[tid]) / 1000);', '  delete(@start[tid]);']),
        endBlock(['@start']),
      ];
    }
    return renderSyscallTiming(k, OPS, (i) => [`  @latency_us[${i % 2}] = hist($us);`]);
  },
  shape: {
    histograms: [{ map: '@latency_us', name: 'fs latency', unit: 'us', keyArity: 1, formatKey: ([i]) => (i === '1' ? 'write' : 'read') }],
    headline: (r) => latencyHeadline(r, 'fs latency'),
  },
  notes: (ctx) =>
    useVfs(ctx.caps.kprobes, ctx.params.level)
      ? []
      : ['syscall-level: read/write include pipes and sockets (no kprobes for vfs_read/vfs_write on this node)'],
});
