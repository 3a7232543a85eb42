// synBacklog — SYN/accept backlog size at SYN arrival, per backlog limit
// (tcpsynbl.bt). That needs a kprobe on tcp_v4_syn_recv_sock/tcp_v6_syn_recv_sock;
// there is no tracepoint. Fallback on nodes without kprobes (fallback: 'netstat',
// the default): the program cat()s the target network namespace's
// /proc/<main pid>/net/netstat at BEGIN and at END, and the shaper reports the
// difference of TcpExt ListenOverflows / ListenDrops / TCPReqQFullDrop
// (overflows and drops, not the backlog distribution), plus SYN-ACK
// retransmits from tcp:tcp_retransmit_synack.
import { z } from 'zod';
import { FilterError } from './filter.js';
import { block, defineProbe } from './define.js';
import type { ShapedResult } from './types.js';
import { toTraceData } from './trace-data.js';

const params = z
  .object({
    fallback: z
      .enum(['netstat', 'none'], { error: 'must be one of netstat, none' })
      .default('netstat')
      .describe('without kprobes: netstat = ListenOverflows/ListenDrops counter deltas; none = Unsupported'),
  })
  .strict();

export const NETSTAT_COUNTERS = ['ListenOverflows', 'ListenDrops', 'TCPReqQFullDrop', 'TCPReqQFullDoCookies'] as const;

/** Parses /proc/net/netstat text into { 'TcpExt.ListenOverflows': n, ... }. */
export function parseNetstat(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split('\n').filter((l) => l.includes(':'));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const [hp, ...names] = (lines[i] ?? '').trim().split(/\s+/);
    const [vp, ...vals] = (lines[i + 1] ?? '').trim().split(/\s+/);
    if (!hp || hp !== vp) continue;
    const prefix = hp.replace(/:$/, '');
    names.forEach((n, j) => {
      const v = Number(vals[j]);
      if (Number.isFinite(v)) out[`${prefix}.${n}`] = v;
    });
  }
  return out;
}

function netstatPath(mainPid: number | undefined, filter: { mode: string; pids?: number[] }): string {
  if (filter.mode === 'node') return '/proc/1/net/netstat';
  const pid = mainPid ?? filter.pids?.[0];
  if (pid === undefined || !Number.isSafeInteger(pid) || pid <= 0) throw new FilterError('synBacklog netstat fallback needs the target main pid');
  return `/proc/${pid}/net/netstat`;
}

function shapeNetstat(r: ShapedResult, parsed: unknown): void {
  const data = toTraceData(parsed);
  const text: Record<string, string> = {};
  let phase: string | undefined;
  for (const line of data.printfs) {
    const m = /^NETSTAT\t(begin|end)$/.exec(line);
    if (m) phase = m[1];
    else if (phase) text[phase] = `${text[phase] ?? ''}${line}\n`;
  }
  if (text['begin'] === undefined || text['end'] === undefined) {
    r.notes.push('netstat snapshots missing: the program did not print both BEGIN and END snapshots');
    return;
  }
  const b = parseNetstat(text['begin']);
  const e = parseNetstat(text['end']);
  for (const c of NETSTAT_COUNTERS) {
    const key = `TcpExt.${c}`;
    if (b[key] !== undefined && e[key] !== undefined) r.counters[c] = e[key] - b[key];
  }
  r.notes.push('no kprobes: backlog sizes are unavailable; counters are TcpExt deltas of the target network namespace over the trace');
}

export const synBacklog = defineProbe({
  name: 'synBacklog',
  summary: 'SYN backlog size at SYN arrival per backlog limit (kprobes); fallback: listen overflow/drop counter deltas of the target netns.',
  covers: 'tcpsynbl.bt (TCP SYN backlog histogram); netstat ListenOverflows/ListenDrops',
  scope: 'both',
  params,
  hooks: ['kprobe:tcp_v4_syn_recv_sock', 'kprobe:tcp_v6_syn_recv_sock', 'fallback: /proc/<pid>/net/netstat + tracepoint:tcp:tcp_retransmit_synack'],
  unsupported: (caps, p) => (!caps.kprobes && p.fallback === 'none' ? 'kprobes' : !caps.kprobes && !caps.btf ? 'btf' : undefined),
  render: (k) => {
    if (k.ctx.caps.kprobes) {
      return [
        block(['kprobe:tcp_v4_syn_recv_sock', 'kprobe:tcp_v6_syn_recv_sock'], k.sockNetns('arg0'), [
          '  $sock = (struct sock *)arg0;',
          '  @backlog[$sock->sk_max_ack_backlog & 0xffffffff] = hist($sock->sk_ack_backlog);',
          '  @syns = count();',
          '  if ($sock->sk_ack_backlog > $sock->sk_max_ack_backlog) { @overflows = count(); }',
        ]),
      ];
    }
    const path = netstatPath(k.ctx.mainPid, k.ctx.filter as { mode: string; pids?: number[] });
    return [
      block('BEGIN', undefined, ['  printf("NETSTAT\\tbegin\\n");', `  cat("${path}");`]),
      block('tracepoint:tcp:tcp_retransmit_synack', k.sockNetns(k.a('skaddr')), ['  @synack_retransmits = count();']),
      block('END', undefined, ['  printf("NETSTAT\\tend\\n");', `  cat("${path}");`]),
    ];
  },
  shape: {
    histograms: [{ map: '@backlog', name: 'syn backlog', unit: 'count', keyArity: 1, formatKey: ([l]) => `limit ${l ?? ''}` }],
    counters: [{ map: '@synack_retransmits', name: 'synackRetransmits' }],
    headline: (r) =>
      r.counters['ListenOverflows'] !== undefined
        ? `overflows=${r.counters['ListenOverflows']} drops=${r.counters['ListenDrops'] ?? 0}`
        : `syns=${r.counters['syns'] ?? 0} overflows=${r.counters['overflows'] ?? 0}`,
  },
  post: (r, parsed, ctx) => {
    if (ctx.caps.kprobes) {
      const d = toTraceData(parsed);
      r.counters['syns'] = Number(d.maps.get('@syns') ?? 0);
      r.counters['overflows'] = Number(d.maps.get('@overflows') ?? 0);
      delete r.counters['synackRetransmits'];
    } else {
      shapeNetstat(r, parsed);
    }
  },
});
