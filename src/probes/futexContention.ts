// futexContention — per-lock contention (the article's futexes.stp: "lock
// 0x7f.. contended N times, avg us"): FUTEX_WAIT-family futex() calls are the
// contended acquisitions; the time until the syscall returns is the wait.
import { and, block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { noParams } from './params.js';
import { latencyHeadline } from './shape.js';

/** FUTEX_WAIT 0, FUTEX_LOCK_PI 6, FUTEX_WAIT_BITSET 9, FUTEX_WAIT_REQUEUE_PI 11, FUTEX_LOCK_PI2 13 (op & FUTEX_CMD_MASK). */
const WAIT_OPS = [0, 6, 9, 11, 13];

export const futexContention = defineProbe({
  name: 'futexContention',
  summary: 'Futex waits per lock address (pid, lock, comm): count, avg and total wait (µs), and a wait histogram.',
  covers: 'futexes.stp (per-lock contention count and average wait)',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:syscalls:sys_enter_futex', 'tracepoint:syscalls:sys_exit_futex'],
  unsupported: (caps) => tracepointsMissing(caps, ['syscalls:sys_enter_futex', 'syscalls:sys_exit_futex']),
  render: (k) => {
    const a = k.a;
    const op = `(${a('op')} & 0x7f)`;
    return [
      block('tracepoint:syscalls:sys_enter_futex', and(`(${WAIT_OPS.map((o) => `${op} == ${o}`).join(' || ')})`, k.target), [
        '  @start[tid] = nsecs;',
        `  @uaddr[tid] = ${a('uaddr')};`,
      ]),
      block('tracepoint:syscalls:sys_exit_futex', '@start[tid]', [
        '  $us = (nsecs - @start[tid]) / 1000;',
        '  @wait_us = hist($us);',
        '  @locks[pid, @uaddr[tid], comm] = stats($us);',
        '  delete(@start[tid]);',
        '  delete(@uaddr[tid]);',
      ]),
      endBlock(['@start', '@uaddr']),
    ];
  },
  shape: {
    histograms: [{ map: '@wait_us', name: 'futex wait', unit: 'us' }],
    tables: [{ map: '@locks', name: 'contended locks', keyColumns: ['pid', 'lock', 'comm'], value: { kind: 'stats', unit: 'us' }, sortBy: 'total_us' }],
    headline: (r) => {
      const top = r.tables[0]?.rows[0];
      const h = latencyHeadline(r, 'futex wait', 'waits') ?? 'waits=0';
      return top ? `${h} top=${String(top[1])}` : h;
    },
  },
  post: (r) => {
    const t = r.tables.find((x) => x.name === 'contended locks');
    if (t) for (const row of t.rows) if (typeof row[1] === 'string' && /^\d+$/.test(row[1])) row[1] = `0x${BigInt(row[1]).toString(16)}`;
  },
  notes: () => ['waits include timeouts and spurious wakeups; a lock is a futex word address within a process'],
});
