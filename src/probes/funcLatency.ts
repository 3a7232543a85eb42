// funcLatency — latency histogram of one function (funclatency; the article's
// MySQL slow-insert uprobe case: entry/return timing per thread with a
// threshold). User functions via uprobe/uretprobe on a binary inside the target
// (/proc/<main pid>/root/<binary>); kernel functions via kfunc/kretfunc (BTF
// trampolines) or kprobe/kretprobe where the node has them.
import { z } from 'zod';
import { block, defineProbe, endBlock } from './define.js';
import { absPath, bool, boundedInt, symbolName } from './params.js';
import { latencyHeadline, type EventSpec } from './shape.js';
import { targetFilePath } from './uprobe-path.js';

export const SLOW_CALL_EVENT: EventSpec = {
  kind: 'call',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'tid', type: 'n' },
    { name: 'latencyUs', type: 'n' },
    { name: 'comm', type: 's' },
  ],
};

const params = z
  .object({
    function: symbolName().describe('function (symbol) name; C++ names as mangled or ns::name'),
    binary: absPath().optional().describe('binary or library path inside the target (required unless kernel)'),
    kernel: bool().default(false).describe('trace a kernel function (needs kfunc or kprobes)'),
    thresholdUs: boundedInt(0, 3_600_000_000).default(10000).describe('print an event for calls at least this slow (µs)'),
  })
  .strict()
  .superRefine((p, c) => {
    if (!p.kernel && p.binary === undefined) c.addIssue({ code: 'custom', path: ['binary'], message: 'is required unless kernel is true' });
    if (p.kernel && p.binary !== undefined) c.addIssue({ code: 'custom', path: ['binary'], message: 'must not be set when kernel is true' });
    if (p.kernel && p.function.includes(':')) c.addIssue({ code: 'custom', path: ['function'], message: 'must not contain ":" for a kernel function' });
  });

type Mode = 'uprobe' | 'kfunc' | 'kprobe';
const modeOf = (kernel: boolean, caps: { kfunc: boolean }): Mode => (!kernel ? 'uprobe' : caps.kfunc ? 'kfunc' : 'kprobe');

/**
 * Paths and symbols are quoted in uprobe attach points: bpftrace's parser rejects
 * unquoted `+` (libstdc++.so.6) and `::`. Both are validated quote-free.
 */
const q = (s: string): string => `"${s}"`;

export const funcLatency = defineProbe({
  name: 'funcLatency',
  summary: 'Latency histogram (µs) of a user function in a target binary (uprobes) or a kernel function (kfunc/kprobes), with slow-call events.',
  covers: 'funclatency; MySQL row_ins_clust_index_entry_low/mysql_insert slow-call stap script',
  scope: 'both',
  params,
  hooks: ['uprobe:<binary>:<function>', 'uretprobe:<binary>:<function>', 'kfunc/kretfunc:<function> (kernel)'],
  unsupported: (caps, p) => (p.kernel ? (caps.kfunc || caps.kprobes ? undefined : 'kfunc') : caps.uprobes ? undefined : 'uprobes'),
  render: (k) => {
    const p = k.ctx.params;
    const mode = modeOf(p.kernel, k.ctx.caps);
    let entry: string;
    let exit: string;
    if (mode === 'uprobe') {
      const bin = targetFilePath(k.ctx as never, p.binary ?? '', 'params.binary');
      entry = `uprobe:${q(bin)}:${q(p.function)}`;
      exit = `uretprobe:${q(bin)}:${q(p.function)}`;
    } else if (mode === 'kfunc') {
      entry = `kfunc:${p.function}`;
      exit = `kretfunc:${p.function}`;
    } else {
      entry = `kprobe:${p.function}`;
      exit = `kretprobe:${p.function}`;
    }
    return [
      block(entry, k.target, ['  @start[tid] = nsecs;']),
      block(exit, '@start[tid]', [
        '  $us = (nsecs - @start[tid]) / 1000;',
        '  @count = count();',
        '  @latency_us = hist($us);',
        '  @by_process[pid, comm] = stats($us);',
        `  if ($us >= ${p.thresholdUs}) {`,
        ...k.emit(SLOW_CALL_EVENT, ['pid', 'tid', '$us', 'comm'], '    '),
        '  }',
        '  delete(@start[tid]);',
      ]),
      endBlock(['@start']),
    ];
  },
  shape: {
    counters: [{ map: '@count', name: 'calls' }],
    histograms: [{ map: '@latency_us', name: 'function latency', unit: 'us' }],
    tables: [{ map: '@by_process', name: 'by process', keyColumns: ['pid', 'comm'], value: { kind: 'stats', unit: 'us' }, sortBy: 'total_us' }],
    events: [SLOW_CALL_EVENT],
    headline: (r) => latencyHeadline(r, 'function latency', 'calls') ?? 'calls=0',
  },
  notes: (ctx) => (ctx.params.kernel ? [] : ['recursive calls of the function on one thread are timed from the innermost entry']),
});
