// trafficByProcess — which process sends and receives how much (the article's
// socktop / "which process is sending packets"), from sock:sock_send_length and
// sock:sock_recv_length in the task's own context. A recv with MSG_PEEK leaves
// the data in the socket (the next read returns it again), so like the
// tracepoint's own print format ("length = 0" for peeks) it is not counted:
// otherwise a receiver that peeks before reading is counted twice.
import { and, block, defineProbe } from './define.js';
import { noParams } from './params.js';
import { AF, IPPROTO, sockLengthMissing } from './sockLength.js';

/** MSG_PEEK from <linux/socket.h>. */
export const MSG_PEEK = 2;

export const trafficByProcess = defineProbe({
  name: 'trafficByProcess',
  summary: 'Socket bytes sent/received per process (pid, comm) and per family/protocol.',
  covers: 'socktop (per-process traffic, top N); "which process sends the packets"',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:sock:sock_send_length', 'tracepoint:sock:sock_recv_length'],
  unsupported: (caps) => sockLengthMissing(caps, ['sock:sock_send_length', 'sock:sock_recv_length']),
  render: (k) => {
    const a = k.a;
    return [
      block('tracepoint:sock:sock_send_length', and(`${a('ret')} > 0`, k.target), [
        `  @tx_bytes[pid, comm] = sum(${a('ret')});`,
        `  @tx_by_proto[${a('family')}, ${a('protocol')}] = sum(${a('ret')});`,
        `  @tx_total = sum(${a('ret')});`,
      ]),
      block('tracepoint:sock:sock_recv_length', and(`${a('ret')} > 0 && (${a('flags')} & ${MSG_PEEK}) == 0`, k.target), [
        `  @rx_bytes[pid, comm] = sum(${a('ret')});`,
        `  @rx_by_proto[${a('family')}, ${a('protocol')}] = sum(${a('ret')});`,
        `  @rx_total = sum(${a('ret')});`,
      ]),
    ];
  },
  shape: {
    counters: [
      { map: '@tx_total', name: 'txBytes' },
      { map: '@rx_total', name: 'rxBytes' },
    ],
    tables: [
      { map: '@tx_bytes', name: 'sent by process', keyColumns: ['pid', 'comm'], value: { kind: 'sum', column: 'bytes' } },
      { map: '@rx_bytes', name: 'received by process', keyColumns: ['pid', 'comm'], value: { kind: 'sum', column: 'bytes' } },
      {
        map: '@tx_by_proto',
        name: 'sent by protocol',
        keyColumns: ['family', 'protocol'],
        value: { kind: 'sum', column: 'bytes' },
        formatKey: ([f, p]) => [AF[f ?? ''] ?? `af_${f}`, IPPROTO[p ?? ''] ?? `proto_${p}`],
        all: true,
      },
      {
        map: '@rx_by_proto',
        name: 'received by protocol',
        keyColumns: ['family', 'protocol'],
        value: { kind: 'sum', column: 'bytes' },
        formatKey: ([f, p]) => [AF[f ?? ''] ?? `af_${f}`, IPPROTO[p ?? ''] ?? `proto_${p}`],
        all: true,
      },
    ],
    headline: (r) => `tx=${r.counters['txBytes'] ?? 0}B rx=${r.counters['rxBytes'] ?? 0}B`,
  },
});
