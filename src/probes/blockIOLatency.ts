// blockIOLatency — block I/O issue→complete latency per disk and operation
// (biolatency; the article's perf block:block_rq_issue/block_rq_complete case).
// Completion runs in irq context: requests are matched by (dev, sector) and
// attributed at issue time, where the target filter applies.
import { z } from 'zod';
import { block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { bool } from './params.js';
import { formatDev, latencyHeadline } from './shape.js';

const params = z
  .object({
    perDisk: bool().default(true).describe('one histogram per disk and operation (false: one overall histogram)'),
  })
  .strict();

/** rwbs ("R", "WS", "FWS", "D", "N"...) → operation: F(lush) first, then R/W/D/N. */
export const opName = (rwbs: string | number | undefined): string => {
  const s = String(rwbs ?? '');
  const base = s.replace(/^F/, '');
  const op = base.startsWith('R') ? 'read' : base.startsWith('W') ? 'write' : base.startsWith('D') ? 'discard' : s.startsWith('F') ? 'flush' : base.startsWith('N') ? 'none' : `op_${s}`;
  return s.startsWith('F') && op !== 'flush' ? `flush+${op}` : op;
};

export const blockIOLatency = defineProbe({
  name: 'blockIOLatency',
  summary: 'Block I/O latency (µs) from issue to completion, per disk and read/write, with per-disk stats.',
  covers: 'biolatency; perf block:block_rq_issue → block:block_rq_complete',
  scope: 'both',
  params,
  hooks: ['tracepoint:block:block_rq_issue', 'tracepoint:block:block_rq_complete'],
  unsupported: (caps) => tracepointsMissing(caps, ['block:block_rq_issue', 'block:block_rq_complete']),
  render: (k) => {
    const a = k.a;
    const key = `${a('dev')}, ${a('sector')}`;
    return [
      block('tracepoint:block:block_rq_issue', k.target, [`  @start[${key}] = nsecs;`]),
      block('tracepoint:block:block_rq_complete', `@start[${key}]`, [
        `  $us = (nsecs - @start[${key}]) / 1000;`,
        k.ctx.params.perDisk ? `  @latency_us[${a('dev')}, ${a('rwbs')}] = hist($us);` : '  @latency_us = hist($us);',
        `  @by_disk[${a('dev')}, ${a('rwbs')}] = stats($us);`,
        `  if (${a('error')} != 0) { @errors = count(); }`,
        `  delete(@start[${key}]);`,
      ]),
      endBlock(['@start']),
    ];
  },
  shape: {
    histograms: [
      { map: '@latency_us', name: 'block io latency', unit: 'us', keyArity: 2, formatKey: ([d, op]) => `${formatDev(d ?? '')} ${opName(op)}` },
    ],
    tables: [
      {
        map: '@by_disk',
        name: 'by disk',
        keyColumns: ['disk', 'op'],
        value: { kind: 'stats', unit: 'us' },
        sortBy: 'count',
        formatKey: ([d, op]) => [formatDev(d ?? ''), opName(op)],
      },
    ],
    counters: [{ map: '@errors', name: 'errors' }],
    headline: (r) => latencyHeadline(r, 'block io latency', 'ios'),
  },
  notes: (ctx) =>
    ctx.filter.mode === 'node' ? [] : ['I/O is attributed to the task that issued it; writeback flushed by kernel threads is not counted for the target'],
});
