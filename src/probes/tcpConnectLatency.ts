// tcpConnectLatency — active TCP connect latency (the article's bcc tcpconnlat
// case), tracepoint-only: sock:inet_sock_set_state CLOSE→SYN_SENT runs in the
// connect()ing task's context (target filter, pid and comm recorded there);
// SYN_SENT→ESTABLISHED arrives in softirq, so it is matched by socket address
// only. SYN_SENT→anything else counts as a failed connect.
import { z } from 'zod';
import { and, block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { bool } from './params.js';
import { latencyHeadline, type EventSpec } from './shape.js';

export const CONNECT_EVENT: EventSpec = {
  kind: 'connect',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'latencyUs', type: 'n' },
    { name: 'family', type: 'n' },
    { name: 'dport', type: 'n' },
    { name: 'daddr', type: 's' },
    { name: 'comm', type: 's' },
  ],
};

const params = z
  .object({
    events: bool().default(true).describe('print one event per connection (capped at maxEvents)'),
  })
  .strict();

export const tcpConnectLatency = defineProbe({
  name: 'tcpConnectLatency',
  summary: 'Active TCP connects: count, latency histogram (µs) SYN_SENT→ESTABLISHED, per-destination table, failures, events.',
  covers: 'tcpconnlat (bcc): connection setup time per destination',
  scope: 'both',
  params,
  hooks: ['tracepoint:sock:inet_sock_set_state'],
  unsupported: (caps) => tracepointsMissing(caps, ['sock:inet_sock_set_state']) ?? (caps.btf ? undefined : 'btf'),
  render: (k) => {
    const a = k.a;
    const sk = a('skaddr');
    const done = [
      `  $us = (nsecs - @start[${sk}]) / 1000;`,
      `  if (${a('newstate')} == 1) {`,
      '    @count = count();',
      '    @latency_us = hist($us);',
      `    if (${a('family')} == 2) {`,
      `      @by_dest[ntop(${a('daddr')}), ${a('dport')}] = stats($us);`,
      '    } else {',
      `      @by_dest[ntop(${a('daddr_v6')}), ${a('dport')}] = stats($us);`,
      '    }',
      `    @by_comm[@start_comm[${sk}]] = count();`,
    ];
    if (k.ctx.params.events) {
      done.push(
        `    if (${a('family')} == 2) {`,
        ...k.emit(CONNECT_EVENT, [`@start_pid[${sk}]`, '$us', a('family'), a('dport'), `ntop(${a('daddr')})`, `@start_comm[${sk}]`], '      '),
        '    } else {',
        ...k.emit(CONNECT_EVENT, [`@start_pid[${sk}]`, '$us', a('family'), a('dport'), `ntop(${a('daddr_v6')})`, `@start_comm[${sk}]`], '      '),
        '    }',
      );
    }
    done.push(
      '  } else {',
      '    @failed = count();',
      '  }',
      `  delete(@start[${sk}]);`,
      `  delete(@start_pid[${sk}]);`,
      `  delete(@start_comm[${sk}]);`,
    );
    return [
      block('tracepoint:sock:inet_sock_set_state', and(`${a('protocol')} == 6 && ${a('newstate')} == 2`, k.target), [
        `  @start[${sk}] = nsecs;`,
        `  @start_pid[${sk}] = pid;`,
        `  @start_comm[${sk}] = comm;`,
      ]),
      block('tracepoint:sock:inet_sock_set_state', `${a('oldstate')} == 2 && @start[${sk}]`, done),
      endBlock(['@start', '@start_pid', '@start_comm']),
    ];
  },
  shape: {
    counters: [
      { map: '@count', name: 'connections' },
      { map: '@failed', name: 'failed' },
    ],
    histograms: [{ map: '@latency_us', name: 'connect latency', unit: 'us' }],
    tables: [
      { map: '@by_dest', name: 'by destination', keyColumns: ['daddr', 'dport'], value: { kind: 'stats', unit: 'us' }, sortBy: 'count' },
      { map: '@by_comm', name: 'by command', keyColumns: ['comm'], value: { kind: 'count', column: 'connections' } },
    ],
    events: [CONNECT_EVENT],
    headline: (r) => latencyHeadline(r, 'connect latency', 'connections') ?? `connections=${r.counters['connections'] ?? 0}`,
  },
});
