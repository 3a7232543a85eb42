// packetSizes — tx/rx packet size histograms and stats (the article's
// `net:net_dev_queue` / `net:netif_receive_skb` bpftrace one-liner), filtered by
// the network namespace of the packet's device (pod traffic is on its eth0/lo).
// The device name is read through BTF (skb->dev->name), not the tracepoint's
// __data_loc `name`: some bpftrace releases (fixed in bpftrace PR #4238, 2025)
// read __data_loc fields at the wrong offset.
import { block, defineProbe, tracepointsMissing } from './define.js';
import { noParams } from './params.js';
import { isStats, num, toTraceData } from './trace-data.js';

export const packetSizes = defineProbe({
  name: 'packetSizes',
  summary: 'Packet size histograms (bytes) and stats for tx (net_dev_queue) and rx (netif_receive_skb), bytes per device.',
  covers: 'bpftrace net_dev_queue/netif_receive_skb size histogram (@txsize/@rxsize, stats)',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:net:net_dev_queue', 'tracepoint:net:netif_receive_skb'],
  unsupported: (caps) => tracepointsMissing(caps, ['net:net_dev_queue', 'net:netif_receive_skb']) ?? (caps.btf ? undefined : 'btf'),
  render: (k) => {
    const a = k.a;
    return [
      block('tracepoint:net:net_dev_queue', k.skbNetns(a('skbaddr')), [
        `  @tx_size = hist(${a('len')});`,
        `  @tx_stats = stats(${a('len')});`,
        `  @tx_by_dev[((struct sk_buff *)${a('skbaddr')})->dev->name] = sum(${a('len')});`,
      ]),
      block('tracepoint:net:netif_receive_skb', k.skbNetns(a('skbaddr')), [
        `  @rx_size = hist(${a('len')});`,
        `  @rx_stats = stats(${a('len')});`,
        `  @rx_by_dev[((struct sk_buff *)${a('skbaddr')})->dev->name] = sum(${a('len')});`,
      ]),
    ];
  },
  shape: {
    histograms: [
      { map: '@tx_size', name: 'tx size', unit: 'bytes' },
      { map: '@rx_size', name: 'rx size', unit: 'bytes' },
    ],
    tables: [
      { map: '@tx_by_dev', name: 'tx bytes by device', keyColumns: ['device'], value: { kind: 'sum', column: 'bytes' } },
      { map: '@rx_by_dev', name: 'rx bytes by device', keyColumns: ['device'], value: { kind: 'sum', column: 'bytes' } },
    ],
    headline: (r) => `tx=${r.counters['txPackets'] ?? 0} rx=${r.counters['rxPackets'] ?? 0}`,
  },
  post: (r, parsed) => {
    const d = toTraceData(parsed);
    for (const dir of ['tx', 'rx'] as const) {
      const s = d.maps.get(`@${dir}_stats`);
      if (isStats(s)) {
        r.counters[`${dir}Packets`] = num(s.count);
        r.counters[`${dir}AvgBytes`] = num(s.average);
        r.counters[`${dir}Bytes`] = num(s.total);
      } else {
        r.counters[`${dir}Packets`] = 0;
      }
    }
  },
});
