// runqLatency — time the target's threads wait runnable for a CPU (runqlat;
// the "where threads wait" half of latencytap). A thread is enqueued at
// sched_wakeup/sched_wakeup_new or when preempted (sched_switch with a runnable
// prev_state: 0 when rescheduled on the way back to user space, TASK_REPORT_MAX
// (256, shown "R+") when preempted inside the kernel) and dequeued when switched in. Wakeups run in the waker's
// context, so target threads are learned when they are switched out
// (@is_target) and wakeups are matched against that set.
import { block, defineProbe, endBlock } from './define.js';
import { noParams } from './params.js';
import { latencyHeadline } from './shape.js';

/** sched_switch prev_state of a task that stays runnable: R (0) or R+ (TASK_REPORT_MAX = 256, kernel preemption, since 4.14). */
export const stillRunnable = (prevState: string): string => `(${prevState} == 0 || ${prevState} == 256)`;

export const runqLatency = defineProbe({
  name: 'runqLatency',
  summary: 'Run-queue latency (µs) of the target threads: histogram and per-command stats.',
  covers: 'runqlat; latencytap.stp (scheduler wait)',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:sched:sched_wakeup', 'tracepoint:sched:sched_wakeup_new', 'tracepoint:sched:sched_switch'],
  unsupported: (caps) => (caps.tracefs ? undefined : 'tracefs'),
  render: (k) => {
    const a = k.a;
    const node = k.target === undefined;
    return [
      block(['tracepoint:sched:sched_wakeup', 'tracepoint:sched:sched_wakeup_new'], node ? undefined : `@is_target[${a('pid')}]`, [
        `  @qtime[${a('pid')}] = nsecs;`,
      ]),
      block('tracepoint:sched:sched_switch', undefined, [
        ...(node
          ? [`  if ${stillRunnable(a('prev_state'))} { @qtime[${a('prev_pid')}] = nsecs; }`]
          : [
              `  if (${k.target}) {`,
              `    @is_target[${a('prev_pid')}] = 1;`,
              `    if ${stillRunnable(a('prev_state'))} { @qtime[${a('prev_pid')}] = nsecs; }`,
              '  }',
            ]),
        `  $ns = @qtime[${a('next_pid')}];`,
        '  if ($ns) {',
        '    $us = (nsecs - $ns) / 1000;',
        '    @runq_us = hist($us);',
        `    @by_comm[${a('next_comm')}] = stats($us);`,
        `    delete(@qtime[${a('next_pid')}]);`,
        '  }',
      ]),
      endBlock(['@qtime', ...(node ? [] : ['@is_target'])]),
    ];
  },
  shape: {
    histograms: [{ map: '@runq_us', name: 'run queue latency', unit: 'us' }],
    tables: [{ map: '@by_comm', name: 'by command', keyColumns: ['comm'], value: { kind: 'stats', unit: 'us' }, sortBy: 'total_us' }],
    headline: (r) => latencyHeadline(r, 'run queue latency'),
  },
  notes: (ctx) =>
    ctx.filter.mode === 'node' ? [] : ['a target thread is recognised from its first switch-out; its very first wakeup (e.g. a new thread) is not counted'],
});
