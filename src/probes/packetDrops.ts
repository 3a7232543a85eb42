// packetDrops — dropped packets (the article's stap kernel.trace("kfree_skb")
// case; dropwatch): skb:kfree_skb with the drop reason decoded from the node's
// format file (RenderContext.dropReasons), the kernel location that dropped it,
// the protocol, and optionally kernel stacks. Filtered by the network namespace
// of the packet's device; node-wide on node targets.
import { z } from 'zod';
import { and, block, defineProbe, tracepointsMissing } from './define.js';
import { dropReasonName } from './kfree-skb-reasons.js';
import { bool } from './params.js';
import type { EventSpec } from './shape.js';
import { unescapeStackKey } from './trace-data.js';

export const DROP_EVENT: EventSpec = {
  kind: 'drop',
  fields: [
    { name: 'reason', type: 'n' },
    { name: 'protocol', type: 'n' },
    { name: 'location', type: 's' },
  ],
};

const params = z
  .object({
    stacks: bool().default(false).describe('also count kernel stacks (8 frames) of drops'),
    ignoreNotSpecified: bool().default(false).describe('skip reason NOT_SPECIFIED (2) drops'),
  })
  .strict();

/** ETH_P_* → name for the protocol column (host byte order as the tracepoint reports it). */
const ETH_P: Record<string, string> = { '2048': 'IPv4', '34525': 'IPv6', '2054': 'ARP', '0': 'none' };

export const packetDrops = defineProbe({
  name: 'packetDrops',
  summary: 'Packet drops by reason (decoded from the node format file), kernel location and protocol; optional kernel stacks.',
  covers: 'stap kernel.trace("kfree_skb") drop tracing; dropwatch',
  scope: 'both',
  params,
  hooks: ['tracepoint:skb:kfree_skb'],
  unsupported: (caps) => tracepointsMissing(caps, ['skb:kfree_skb']) ?? (caps.btf ? undefined : 'btf'),
  render: (k) => {
    const a = k.a;
    return [
      block('tracepoint:skb:kfree_skb', and(k.ctx.params.ignoreNotSpecified ? `${a('reason')} != 2` : undefined, k.skbNetns(a('skbaddr'))), [
        '  @count = count();',
        `  @by_reason[${a('reason')}] = count();`,
        `  @by_location[ksym(${a('location')})] = count();`,
        `  @by_protocol[${a('protocol')}] = count();`,
        ...(k.ctx.params.stacks ? ['  @stacks[kstack(8)] = count();'] : []),
        ...k.emit(DROP_EVENT, [a('reason'), a('protocol'), `ksym(${a('location')})`]),
      ]),
    ];
  },
  shape: {
    counters: [{ map: '@count', name: 'drops' }],
    tables: [
      { map: '@by_reason', name: 'by reason', keyColumns: ['reason'], value: { kind: 'count', column: 'drops' } },
      { map: '@by_location', name: 'by location', keyColumns: ['location'], value: { kind: 'count', column: 'drops' } },
      { map: '@by_protocol', name: 'by protocol', keyColumns: ['protocol'], value: { kind: 'count', column: 'drops' }, formatKey: ([p]) => [ETH_P[p ?? ''] ?? `0x${Number(p).toString(16)}`] },
      { map: '@stacks', name: 'by kernel stack', keyColumns: ['stack'], value: { kind: 'count', column: 'drops' }, formatKey: ([s]) => [unescapeStackKey(s ?? '').split('\n').map((f) => f.trim()).filter(Boolean).join(';')] },
    ],
    events: [DROP_EVENT],
    headline: (r) => {
      const top = r.tables.find((t) => t.name === 'by reason')?.rows[0];
      return `drops=${r.counters['drops'] ?? 0}${top ? ` top=${String(top[0])}` : ''}`;
    },
  },
  post: (r, _p, ctx) => {
    const t = r.tables.find((x) => x.name === 'by reason');
    if (t) for (const row of t.rows) row[0] = dropReasonName(ctx.dropReasons, row[0] ?? '');
    for (const e of r.events) e['reasonName'] = dropReasonName(ctx.dropReasons, e['reason'] ?? '');
    if (!ctx.dropReasons || ctx.dropReasons.size === 0) r.notes.push('drop reasons not decoded: no reason table from the node format file');
  },
  notes: (ctx) => (ctx.filter.mode === 'node' ? [] : ['filtered by the network namespace of the dropping device; drops of packets without a device are not attributed']),
});
