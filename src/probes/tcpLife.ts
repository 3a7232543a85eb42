// tcpLife — per-connection lifespan and bytes (tcplife) and traffic between
// address pairs (the article's netfilter_summary.stp), from
// sock:inet_sock_set_state with a BTF cast of the socket to struct tcp_sock for
// bytes_acked/bytes_received. Filtered by the socket's netns (state changes
// often run in softirq); pid/comm are taken where the change runs in process
// context (SYN_SENT on connect, LAST_ACK/FIN_WAIT1 on close).
import { and, block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { noParams } from './params.js';
import { byFamily } from './tcpRetransmits.js';
import type { EventSpec } from './shape.js';
import { latencyHeadline } from './shape.js';

export const LIFE_EVENT: EventSpec = {
  kind: 'life',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'lport', type: 'n' },
    { name: 'rport', type: 'n' },
    { name: 'txBytes', type: 'n' },
    { name: 'rxBytes', type: 'n' },
    { name: 'durationUs', type: 'n' },
    { name: 'laddr', type: 's' },
    { name: 'raddr', type: 's' },
    { name: 'comm', type: 's' },
  ],
};

export const tcpLife = defineProbe({
  name: 'tcpLife',
  summary: 'TCP connection lifespans: duration histogram (µs), bytes per address pair, per-connection events with tx/rx bytes.',
  covers: 'tcplife; netfilter_summary.stp (traffic between each pair of IPs)',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:sock:inet_sock_set_state'],
  unsupported: (caps) => tracepointsMissing(caps, ['sock:inet_sock_set_state']) ?? (caps.btf ? undefined : 'btf'),
  render: (k) => {
    const a = k.a;
    const sk = a('skaddr');
    const ev = (s: string, d: string) =>
      k.emit(LIFE_EVENT, ['@skpid[$sk]', a('sport'), a('dport'), '$tx', '$rx', '$us', s, d, '@skcomm[$sk]'], '    ');
    return [
      block('tracepoint:sock:inet_sock_set_state', and(`${a('protocol')} == 6`, k.sockNetns(sk)), [
        `  $sk = ${sk};`,
        `  if (${a('newstate')} < 4 && @birth[$sk] == 0) { @birth[$sk] = nsecs; }`,
        `  if (${a('newstate')} == 2 || ${a('newstate')} == 4 || ${a('newstate')} == 9) {`,
        '    if (@skpid[$sk] == 0) { @skpid[$sk] = pid; @skcomm[$sk] = comm; }',
        '  }',
        `  if (${a('newstate')} == 7 && @birth[$sk]) {`,
        '    $us = (nsecs - @birth[$sk]) / 1000;',
        '    $tp = (struct tcp_sock *)$sk;',
        '    $rx = $tp->bytes_received;',
        '    $tx = $tp->bytes_acked;',
        '    @count = count();',
        '    @duration_us = hist($us);',
        '    @tx_bytes = sum($tx);',
        '    @rx_bytes = sum($rx);',
        ...byFamily(
          k,
          (s, d) => [`    @pair_bytes[${s}, ${d}] = sum($tx + $rx);`, ...ev(s, d)],
          (s, d) => [`    @pair_bytes[${s}, ${d}] = sum($tx + $rx);`, ...ev(s, d)],
        ).map((l) => `  ${l}`),
        '    delete(@birth[$sk]);',
        '    delete(@skpid[$sk]);',
        '    delete(@skcomm[$sk]);',
        '  }',
      ]),
      endBlock(['@birth', '@skpid', '@skcomm']),
    ];
  },
  shape: {
    counters: [
      { map: '@count', name: 'connections' },
      { map: '@tx_bytes', name: 'txBytes' },
      { map: '@rx_bytes', name: 'rxBytes' },
    ],
    histograms: [{ map: '@duration_us', name: 'connection duration', unit: 'us' }],
    tables: [{ map: '@pair_bytes', name: 'bytes by address pair', keyColumns: ['laddr', 'raddr'], value: { kind: 'sum', column: 'bytes' } }],
    events: [LIFE_EVENT],
    headline: (r) => latencyHeadline(r, 'connection duration', 'connections') ?? 'connections=0',
  },
  notes: () => ['connections already open when tracing started are not reported (their start was not seen); pid 0 / empty comm: opened and closed in softirq'],
});
