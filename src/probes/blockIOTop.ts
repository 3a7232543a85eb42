// blockIOTop — per-process block I/O count and bytes (biotop; the article's
// iostats-style per-process table), attributed at block_rq_issue.
import { block, defineProbe, tracepointsMissing } from './define.js';
import { noParams } from './params.js';
import { formatDev } from './shape.js';
import { opName } from './blockIOLatency.js';

export const blockIOTop = defineProbe({
  name: 'blockIOTop',
  summary: 'Block I/O per process (pid, comm): I/O count and bytes, and per disk/op totals.',
  covers: 'biotop; iostats per-process I/O table',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:block:block_rq_issue'],
  unsupported: (caps) => tracepointsMissing(caps, ['block:block_rq_issue']),
  render: (k) => [
    block('tracepoint:block:block_rq_issue', k.target, [
      '  @count = count();',
      `  @bytes = sum(${k.a('bytes')});`,
      `  @io_count[pid, comm] = count();`,
      `  @io_bytes[pid, comm] = sum(${k.a('bytes')});`,
      `  @disk_bytes[${k.a('dev')}, ${k.a('rwbs')}] = sum(${k.a('bytes')});`,
    ]),
  ],
  shape: {
    counters: [
      { map: '@count', name: 'ios' },
      { map: '@bytes', name: 'bytes' },
    ],
    tables: [
      { map: '@io_bytes', name: 'bytes by process', keyColumns: ['pid', 'comm'], value: { kind: 'sum', column: 'bytes' } },
      { map: '@io_count', name: 'ios by process', keyColumns: ['pid', 'comm'], value: { kind: 'count', column: 'ios' } },
      {
        map: '@disk_bytes',
        name: 'bytes by disk',
        keyColumns: ['disk', 'op'],
        value: { kind: 'sum', column: 'bytes' },
        formatKey: ([d, op]) => [formatDev(d ?? ''), opName(op)],
      },
    ],
    headline: (r) => `ios=${r.counters['ios'] ?? 0} bytes=${r.counters['bytes'] ?? 0}`,
  },
});
