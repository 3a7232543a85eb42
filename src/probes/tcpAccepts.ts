// tcpAccepts — accepted TCP connections (tcpaccept; tcp_connections.stp):
// accept()/accept4() returns in the target's process context; the peer address
// comes from sock:inet_sock_set_state SYN_RECV→ESTABLISHED (softirq, filtered
// by the socket's netns). The accept-queue backlog needs kprobes (see synBacklog).
import { and, block, defineProbe, tracepointsMissing } from './define.js';
import { noParams } from './params.js';
import { byFamily } from './tcpRetransmits.js';
import type { EventSpec } from './shape.js';

export const ACCEPT_EVENT: EventSpec = {
  kind: 'accept',
  fields: [
    { name: 'lport', type: 'n' },
    { name: 'rport', type: 'n' },
    { name: 'raddr', type: 's' },
    { name: 'laddr', type: 's' },
  ],
};

export const tcpAccepts = defineProbe({
  name: 'tcpAccepts',
  summary: 'TCP accepts: accept() count per process (any socket family), established passive TCP connections per local port and peer, events.',
  covers: 'tcpaccept (bpftrace/bcc); tcp_connections.stp (each new incoming connection)',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:syscalls:sys_exit_accept', 'tracepoint:syscalls:sys_exit_accept4', 'tracepoint:sock:inet_sock_set_state'],
  unsupported: (caps) => tracepointsMissing(caps, ['syscalls:sys_exit_accept4', 'sock:inet_sock_set_state']) ?? (caps.btf ? undefined : 'btf'),
  render: (k) => {
    const a = k.a;
    return [
      block(['tracepoint:syscalls:sys_exit_accept', 'tracepoint:syscalls:sys_exit_accept4'], and(`${a('ret')} >= 0`, k.target), [
        '  @accepts = count();',
        '  @accepts_by_process[pid, comm] = count();',
      ]),
      block(
        'tracepoint:sock:inet_sock_set_state',
        and(`${a('protocol')} == 6 && ${a('oldstate')} == 3 && ${a('newstate')} == 1`, k.sockNetns(a('skaddr'))),
        [
          '  @established = count();',
          `  @by_local_port[${a('sport')}] = count();`,
          ...byFamily(
            k,
            (s, d) => [`  @by_peer[${d}] = count();`, ...k.emit(ACCEPT_EVENT, [a('sport'), a('dport'), d, s], '  ')],
            (s, d) => [`  @by_peer[${d}] = count();`, ...k.emit(ACCEPT_EVENT, [a('sport'), a('dport'), d, s], '  ')],
          ),
        ],
      ),
    ];
  },
  shape: {
    counters: [
      { map: '@accepts', name: 'accepts' },
      { map: '@established', name: 'established' },
    ],
    tables: [
      { map: '@accepts_by_process', name: 'accepts by process', keyColumns: ['pid', 'comm'], value: { kind: 'count', column: 'accepts' } },
      { map: '@by_local_port', name: 'by local port', keyColumns: ['lport'], value: { kind: 'count', column: 'connections' } },
      { map: '@by_peer', name: 'by peer', keyColumns: ['raddr'], value: { kind: 'count', column: 'connections' } },
    ],
    events: [ACCEPT_EVENT],
    headline: (r) => `accepts=${r.counters['accepts'] ?? 0} established=${r.counters['established'] ?? 0}`,
  },
  notes: () => [
    'accept-queue backlog is not readable from tracepoints; use synBacklog (kprobes) or its netstat fallback',
    // The syscall exit does not say what kind of socket the fd is; inet_sock_set_state does.
    '"accepts" counts accept(2)/accept4(2) returns on any socket (unix too); "established" counts TCP only',
  ],
});
