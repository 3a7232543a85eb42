// oomKills — OOM kills with the victim's pid, name and memory (the article's
// memory case; oomkill.bt), from oom:mark_victim. The tracepoint fires in the
// context of the task that ran the OOM killer: for a container over its memory
// limit that is a task of the same cgroup, so the target filter applies to it.
// The victim's name is not read from mark_victim's __data_loc `comm` (misread by
// some bpftrace releases) but from the SIGKILL the OOM killer sends first.
import { and, block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { noParams } from './params.js';
import type { EventSpec } from './shape.js';

export const OOM_EVENT: EventSpec = {
  kind: 'oom',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'totalVmKb', type: 'n' },
    { name: 'anonRssKb', type: 'n' },
    { name: 'fileRssKb', type: 'n' },
    { name: 'shmemRssKb', type: 'n' },
    { name: 'uid', type: 'n' },
    { name: 'oomScoreAdj', type: 'n' },
    { name: 'triggeredByPid', type: 'n' },
    { name: 'triggeredByComm', type: 's' },
    { name: 'comm', type: 's' },
  ],
};

export const oomKills = defineProbe({
  name: 'oomKills',
  summary: 'OOM kills: victim pid and name, total VM and RSS (kB), oom_score_adj, and the task that triggered it.',
  covers: 'OOM kill tracing (oomkill.bt); the article\'s memory-pressure cases',
  scope: 'both',
  params: noParams(),
  hooks: ['tracepoint:oom:mark_victim', 'tracepoint:signal:signal_generate'],
  unsupported: (caps) => tracepointsMissing(caps, ['oom:mark_victim', 'signal:signal_generate']),
  render: (k) => {
    const a = k.a;
    return [
      // The OOM killer SIGKILLs the victim just before mark_victim, in the same
      // (invoking) task: take the victim's name from signal_generate's inline comm.
      block('tracepoint:signal:signal_generate', and(`${a('sig')} == 9`, k.target), [`  @victim_comm[${a('pid')}] = ${a('comm')};`]),
      block('tracepoint:oom:mark_victim', k.target, [
        '  @count = count();',
        `  @by_comm[@victim_comm[${a('pid')}]] = count();`,
        ...k.emit(OOM_EVENT, [
          a('pid'),
          a('total_vm'),
          a('anon_rss'),
          a('file_rss'),
          a('shmem_rss'),
          a('uid'),
          a('oom_score_adj'),
          'pid',
          'comm',
          `@victim_comm[${a('pid')}]`,
        ]),
        `  delete(@victim_comm[${a('pid')}]);`,
      ]),
      endBlock(['@victim_comm']),
    ];
  },
  shape: {
    counters: [{ map: '@count', name: 'oomKills' }],
    tables: [{ map: '@by_comm', name: 'victims by command', keyColumns: ['comm'], value: { kind: 'count', column: 'kills' } }],
    events: [OOM_EVENT],
    headline: (r) => {
      const v = r.events[0];
      return `oomKills=${r.counters['oomKills'] ?? 0}${v ? ` victim=${String(v['comm'])}(${String(v['pid'])})` : ''}`;
    },
  },
  notes: () => ['needs oom:mark_victim with memory fields (Linux >= 6.8); older kernels only report the pid'],
});
