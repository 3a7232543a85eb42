// execs — every successful exec in the target (the article's "who runs what";
// execsnoop). sched:sched_process_exec fires after the new image is in place,
// in the exec'ing task's context, so the target filter applies directly.
// Its `filename` is a __data_loc field; `str(args.filename)` came back empty
// with the agent image's bpftrace 0.23.2 on this kernel, so the path is taken
// from sys_enter_execve/execveat of the same task (keyed by tid, which
// sched_process_exec reports as old_pid) — correct on every version.
import { block, defineProbe, endBlock } from './define.js';
import { noParams } from './params.js';
import type { EventSpec } from './shape.js';

export const EXEC_EVENT: EventSpec = {
  kind: 'exec',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'oldPid', type: 'n' },
    { name: 'comm', type: 's' },
    { name: 'filename', type: 's' },
  ],
};

export const execs = defineProbe({
  name: 'execs',
  summary: 'Process execs in the target: count, per-command and per-binary tables, and exec events.',
  covers: 'execsnoop (bcc/bpftrace); the stap syscall tracing case',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:sched:sched_process_exec', 'tracepoint:syscalls:sys_enter_execve', 'tracepoint:syscalls:sys_enter_execveat'],
  render: (k) => [
    block(['tracepoint:syscalls:sys_enter_execve', 'tracepoint:syscalls:sys_enter_execveat'], k.target, [
      `  @exec_file[tid] = str(${k.a('filename')});`,
    ]),
    block('tracepoint:sched:sched_process_exec', k.target, [
      '  @count = count();',
      '  @by_comm[comm] = count();',
      `  @by_file[@exec_file[${k.a('old_pid')}]] = count();`,
      ...k.emit(EXEC_EVENT, ['pid', k.a('old_pid'), 'comm', `@exec_file[${k.a('old_pid')}]`]),
      // Execs that entered execve before attach have no entry; deleting a
      // missing key would raise a helper error.
      `  if (@exec_file[${k.a('old_pid')}] != "") { delete(@exec_file[${k.a('old_pid')}]); }`,
    ]),
    endBlock(['@exec_file']),
  ],
  shape: {
    counters: [{ map: '@count', name: 'execs' }],
    tables: [
      { map: '@by_comm', name: 'execs by command', keyColumns: ['comm'], value: { kind: 'count', column: 'execs' } },
      { map: '@by_file', name: 'execs by binary', keyColumns: ['filename'], value: { kind: 'count', column: 'execs' } },
    ],
    events: [EXEC_EVENT],
    headline: (r) => `execs=${r.counters['execs'] ?? 0}`,
  },
});
