// tcpSendSizes — TCP send size histogram, per process, and large-send events
// (the article's `k:tcp_sendmsg { @size = hist(arg2) }` one-liners). With kprobes
// the requested size (tcp_sendmsg arg2); otherwise sock:sock_send_length for
// TCP sockets (bytes the send accepted).
import { z } from 'zod';
import { and, block, defineProbe } from './define.js';
import { boundedInt } from './params.js';
import { sockLengthMissing } from './sockLength.js';
import type { EventSpec } from './shape.js';

export const SEND_EVENT: EventSpec = {
  kind: 'send',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'bytes', type: 'n' },
    { name: 'comm', type: 's' },
  ],
};

const params = z
  .object({
    eventMinBytes: boundedInt(0, 1 << 30).default(8192).describe('print an event for sends of at least this many bytes'),
  })
  .strict();

export const tcpSendSizes = defineProbe({
  name: 'tcpSendSizes',
  summary: 'TCP send sizes: histogram (bytes), per-process stats, events for sends >= eventMinBytes.',
  covers: 'bpftrace tcp_sendmsg one-liners (size histogram, per pid/comm, sends > 8192 bytes)',
  scope: 'both',
  params,
  hooks: ['kprobe:tcp_sendmsg (with kprobes)', 'tracepoint:sock:sock_send_length'],
  unsupported: (caps) => (caps.kprobes ? undefined : sockLengthMissing(caps, ['sock:sock_send_length'])),
  render: (k) => {
    const kp = k.ctx.caps.kprobes;
    const size = kp ? 'arg2' : k.a('ret');
    const attach = kp ? 'kprobe:tcp_sendmsg' : 'tracepoint:sock:sock_send_length';
    const pred = kp ? k.target : and(`${k.a('protocol')} == 6 && ${k.a('ret')} > 0`, k.target);
    return [
      block(attach, pred, [
        `  @size = hist(${size});`,
        `  @size_stats = stats(${size});`,
        `  @by_process[pid, comm] = stats(${size});`,
        `  if (${size} >= ${k.ctx.params.eventMinBytes}) {`,
        ...k.emit(SEND_EVENT, ['pid', size, 'comm'], '    '),
        '  }',
      ]),
    ];
  },
  shape: {
    histograms: [{ map: '@size', name: 'send size', unit: 'bytes' }],
    tables: [{ map: '@by_process', name: 'by process', keyColumns: ['pid', 'comm'], value: { kind: 'stats', unit: 'bytes' }, sortBy: 'total_bytes' }],
    events: [SEND_EVENT],
    headline: (r) => `sends=${r.histograms[0]?.total ?? 0}`,
  },
  notes: (ctx) => (ctx.caps.kprobes ? ['sizes are requested sizes (tcp_sendmsg arg2)'] : ['sizes are bytes accepted per send (sock:sock_send_length)']),
});
