// interrupts — hardware interrupts per device and handler time, softirqs per
// vector (the article's interrupts-by-dev.stp). Node-wide only: interrupts do
// not belong to a pod.
import { block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { noParams } from './params.js';

const SOFTIRQS = ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU'];

export const interrupts = defineProbe({
  name: 'interrupts',
  summary: 'Hardware interrupts per IRQ and device name with total handler time (µs); softirqs per vector. Node targets only.',
  covers: 'interrupts-by-dev.stp (interrupts per device)',
  scope: 'node',
  params: noParams(),
  hooks: ['tracepoint:irq:irq_handler_entry', 'tracepoint:irq:irq_handler_exit', 'tracepoint:irq:softirq_entry'],
  unsupported: (caps) => tracepointsMissing(caps, ['irq:irq_handler_entry', 'irq:irq_handler_exit']),
  render: (k) => {
    const a = k.a;
    return [
      block('tracepoint:irq:irq_handler_entry', undefined, [
        '  @irq_start[cpu] = nsecs;',
        '  @count = count();',
        `  @by_irq[${a('irq')}, str(${a('name')})] = count();`,
      ]),
      block('tracepoint:irq:irq_handler_exit', '@irq_start[cpu]', [
        `  @time_us[${a('irq')}] = sum((nsecs - @irq_start[cpu]) / 1000);`,
        '  delete(@irq_start[cpu]);',
      ]),
      block('tracepoint:irq:softirq_entry', undefined, [`  @softirqs[${a('vec')}] = count();`]),
      endBlock(['@irq_start']),
    ];
  },
  shape: {
    counters: [{ map: '@count', name: 'interrupts' }],
    tables: [
      { map: '@by_irq', name: 'interrupts by device', keyColumns: ['irq', 'device'], value: { kind: 'count', column: 'interrupts' } },
      { map: '@time_us', name: 'handler time by irq', keyColumns: ['irq'], value: { kind: 'sum', column: 'total_us' } },
      { map: '@softirqs', name: 'softirqs', keyColumns: ['vector'], value: { kind: 'count', column: 'count' }, formatKey: ([v]) => [SOFTIRQS[Number(v)] ?? `vec ${v}`], all: true },
    ],
    headline: (r) => {
      const top = r.tables[0]?.rows[0];
      return `interrupts=${r.counters['interrupts'] ?? 0}${top ? ` top=${String(top[1])}` : ''}`;
    },
  },
});
