// tcpRetransmits — TCP retransmissions with 4-tuple, state and (via BTF) the
// socket's cwnd/srtt/RTO at the time (the article's tcp_retransmit.stp and
// tcpretrans). tcp:tcp_retransmit_skb often fires from a timer in softirq, so
// events are filtered by the socket's network namespace, not the current task.
import { z } from 'zod';
import { block, defineProbe, tracepointsMissing, type Kit } from './define.js';
import { bool } from './params.js';
import { tcpState, type EventSpec } from './shape.js';

export const RETRANS_EVENT: EventSpec = {
  kind: 'retrans',
  fields: [
    { name: 'state', type: 'n' },
    { name: 'sport', type: 'n' },
    { name: 'dport', type: 'n' },
    { name: 'sndCwnd', type: 'n' },
    { name: 'srttUs', type: 'n' },
    { name: 'rtoJiffies', type: 'n' },
    { name: 'saddr', type: 's' },
    { name: 'daddr', type: 's' },
  ],
};

const params = z
  .object({
    synack: bool().default(true).describe('also count SYN-ACK retransmits (tcp:tcp_retransmit_synack)'),
  })
  .strict();

function byFamily<P>(k: Kit<P>, v4: (s: string, d: string) => string[], v6: (s: string, d: string) => string[]): string[] {
  const a = k.a;
  return [
    `  if (${a('family')} == 2) {`,
    ...v4(`ntop(${a('saddr')})`, `ntop(${a('daddr')})`).map((l) => `  ${l}`),
    '  } else {',
    ...v6(`ntop(${a('saddr_v6')})`, `ntop(${a('daddr_v6')})`).map((l) => `  ${l}`),
    '  }',
  ];
}
export { byFamily };

export const tcpRetransmits = defineProbe({
  name: 'tcpRetransmits',
  summary: 'TCP retransmits: count, per-flow table (4-tuple), per-state counts, events with state, cwnd, srtt and RTO.',
  covers: 'tcp_retransmit.stp (4-tuple, state, RTO/cwnd changes); tcpretrans',
  scope: 'both',
  params,
  hooks: ['tracepoint:tcp:tcp_retransmit_skb', 'tracepoint:tcp:tcp_retransmit_synack'],
  unsupported: (caps) => tracepointsMissing(caps, ['tcp:tcp_retransmit_skb']) ?? (caps.btf ? undefined : 'btf'),
  render: (k) => {
    const a = k.a;
    const flow = (s: string, d: string) => `${s}, ${a('sport')}, ${d}, ${a('dport')}`;
    const ev = (s: string, d: string) =>
      k.emit(RETRANS_EVENT, [a('state'), a('sport'), a('dport'), '$tp->snd_cwnd', '$tp->srtt_us >> 3', '$tp->inet_conn.icsk_rto', s, d], '  ');
    const blocks = [
      block('tracepoint:tcp:tcp_retransmit_skb', k.sockNetns(a('skaddr')), [
        '  @count = count();',
        `  @by_state[${a('state')}] = count();`,
        `  $tp = (struct tcp_sock *)${a('skaddr')};`,
        ...byFamily(
          k,
          (s, d) => [`  @by_flow[${flow(s, d)}] = count();`, ...ev(s, d)],
          (s, d) => [`  @by_flow[${flow(s, d)}] = count();`, ...ev(s, d)],
        ),
      ]),
    ];
    if (k.ctx.params.synack) {
      blocks.push(
        block('tracepoint:tcp:tcp_retransmit_synack', k.sockNetns(a('skaddr')), [
          '  @synack = count();',
          ...byFamily(
            k,
            (s, d) => [`  @synack_by_flow[${flow(s, d)}] = count();`],
            (s, d) => [`  @synack_by_flow[${flow(s, d)}] = count();`],
          ),
        ]),
      );
    }
    return blocks;
  },
  shape: {
    counters: [
      { map: '@count', name: 'retransmits' },
      { map: '@synack', name: 'synackRetransmits' },
    ],
    tables: [
      { map: '@by_flow', name: 'by flow', keyColumns: ['saddr', 'sport', 'daddr', 'dport'], value: { kind: 'count', column: 'retransmits' } },
      { map: '@by_state', name: 'by state', keyColumns: ['state'], value: { kind: 'count', column: 'retransmits' }, formatKey: ([s]) => [tcpState(s ?? '')], all: true },
      { map: '@synack_by_flow', name: 'syn-ack retransmits by flow', keyColumns: ['saddr', 'sport', 'daddr', 'dport'], value: { kind: 'count', column: 'retransmits' } },
    ],
    events: [RETRANS_EVENT],
    headline: (r) => `retransmits=${r.counters['retransmits'] ?? 0}`,
  },
  post: (r) => {
    for (const e of r.events) e['stateName'] = tcpState(e['state'] ?? 0);
  },
  notes: () => [
    'one event per retransmitted skb (a GSO skb may carry many segments, so TcpRetransSegs can be larger)',
    'rtoJiffies is icsk_rto in jiffies (CONFIG_HZ ticks); srttUs is the smoothed RTT',
  ],
});
