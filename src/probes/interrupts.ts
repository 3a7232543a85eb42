// interrupts — hardware interrupts per device and handler time, softirqs per
// vector (the article's interrupts-by-dev.stp). Node-wide only: interrupts do
// not belong to a pod. Device names come from /proc/interrupts, printed at END
// (the tracepoint's __data_loc `name` is misread by some bpftrace releases).

/** /proc/interrupts → irq number → device/action names (last column). */
export function parseProcInterrupts(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  const ncpu = (lines[0] ?? '').trim().split(/\s+/).filter((c) => /^CPU\d+$/.test(c)).length;
  for (const l of lines.slice(1)) {
    const m = /^\s*(\d+):\s+(.*)$/.exec(l);
    if (!m) continue;
    const fields = (m[2] ?? '').trim().split(/\s+/);
    // ncpu counts, then the chip name and "hwirq-type", then the action names.
    const name = fields.slice(ncpu + 2).join(' ') || fields.slice(ncpu).join(' ');
    out.set(m[1] ?? '', name);
  }
  return out;
}
import { block, defineProbe, tracepointsMissing } from './define.js';
import { toTraceData } from './trace-data.js';
import { noParams } from './params.js';

/** bpftrace releases whose `rawtracepoint:` probes attach here (0.17 rejects them; checked on 0.23). */
export function rawTracepoints(v: { major: number; minor: number } | undefined): boolean {
  return v !== undefined && (v.major > 0 || v.minor >= 23);
}

const SOFTIRQS = ['HI', 'TIMER', 'NET_TX', 'NET_RX', 'BLOCK', 'IRQ_POLL', 'TASKLET', 'SCHED', 'HRTIMER', 'RCU'];

export const interrupts = defineProbe({
  name: 'interrupts',
  summary: 'Hardware interrupts per IRQ and device name with total handler time (µs); softirqs per vector. Node targets only.',
  covers: 'interrupts-by-dev.stp (interrupts per device)',
  scope: 'node',
  params: noParams(),
  hooks: ['tracepoint:irq:irq_handler_entry', 'tracepoint:irq:irq_handler_exit', 'tracepoint:irq:softirq_entry', 'rawtracepoint:irq_handler_entry/exit, softirq_entry (bpftrace ≥ 0.23)'],
  unsupported: (caps) => tracepointsMissing(caps, ['irq:irq_handler_entry', 'irq:irq_handler_exit']),
  render: (k) => {
    // A tracepoint program is skipped when it fires while any other tracing BPF program
    // runs on that CPU (an interrupt arriving during another probe), so plain tracepoints
    // undercount under load; raw tracepoints only skip re-entry of the same program.
    // Their first argument is the irq number / softirq vector.
    const raw = rawTracepoints(k.ctx.caps.bpftrace);
    const a = raw ? (_field: string) => 'arg0' : k.a;
    const hook = (name: string) => (raw ? `rawtracepoint:${name}` : `tracepoint:irq:${name}`);
    return [
      block(hook('irq_handler_entry'), undefined, [
        '  @irq_start[cpu] = nsecs;',
        '  @count = count();',
        `  @by_irq[${a('irq')}] = count();`,
      ]),
      block(hook('irq_handler_exit'), '@irq_start[cpu]', [
        `  @time_us[${a('irq')}] = sum((nsecs - @irq_start[cpu]) / 1000);`,
        '  delete(@irq_start[cpu]);',
      ]),
      block(hook('softirq_entry'), undefined, [`  @softirqs[${a('vec')}] = count();`]),
      block('END', undefined, ['  clear(@irq_start);', '  printf("INTERRUPTS\\n");', '  cat("/proc/interrupts");']),
    ];
  },
  post: (r, parsed) => {
    const d = toTraceData(parsed);
    const i = d.printfs.indexOf('INTERRUPTS');
    const names = i >= 0 ? parseProcInterrupts(d.printfs.slice(i + 1).join('\n')) : new Map<string, string>();
    for (const t of r.tables) {
      if (t.name === 'interrupts by device' || t.name === 'handler time by irq') {
        t.columns.splice(1, 0, 'device');
        for (const row of t.rows) row.splice(1, 0, names.get(String(row[0])) ?? '');
      }
    }
    const top = r.tables.find((t) => t.name === 'interrupts by device')?.rows[0];
    r.headline = `interrupts=${r.counters['interrupts'] ?? 0}${top ? ` top=${String(top[1] || top[0])}` : ''}`;
  },
  shape: {
    counters: [{ map: '@count', name: 'interrupts' }],
    tables: [
      { map: '@by_irq', name: 'interrupts by device', keyColumns: ['irq'], value: { kind: 'count', column: 'interrupts' } },
      { map: '@time_us', name: 'handler time by irq', keyColumns: ['irq'], value: { kind: 'sum', column: 'total_us' } },
      { map: '@softirqs', name: 'softirqs', keyColumns: ['vector'], value: { kind: 'count', column: 'count' }, formatKey: ([v]) => [SOFTIRQS[Number(v)] ?? `vec ${v}`], all: true },
    ],
  },
});
