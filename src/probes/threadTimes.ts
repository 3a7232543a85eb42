// threadTimes — per-thread CPU time split into user and kernel (the article's
// thread-times.stp, which samples timer.profile and checks user_mode()):
// profile:hz samples, classified by whether the interrupted instruction pointer
// is a kernel address.
import { z } from 'zod';
import { block, defineProbe } from './define.js';
import { boundedInt } from './params.js';
import { entries, num, splitKey, toTraceData } from './trace-data.js';

const params = z
  .object({
    hz: boundedInt(1, 999).default(99).describe('samples per second per CPU'),
  })
  .strict();

const ipReg = (arch: string | undefined): string => (arch === 'aarch64' || arch === 'arm64' ? 'pc' : 'ip');

export const threadTimes = defineProbe({
  name: 'threadTimes',
  summary: 'Per-thread CPU samples split into user and kernel time (percent of samples and approximate CPU ms).',
  covers: 'thread-times.stp (per-thread user/kernel CPU share)',
  scope: 'both',
  params,
  hooks: ['profile:hz:<hz>'],
  unsupported: (caps) => (caps.perfEvents ? undefined : 'perfEvents'),
  render: (k) => [
    block(`profile:hz:${k.ctx.params.hz}`, k.target, [
      `  if (reg("${ipReg(k.ctx.caps.arch)}") > 0x7fffffffffffffff) {`,
      '    @kernel[tid, comm] = count();',
      '  } else {',
      '    @user[tid, comm] = count();',
      '  }',
      '  @samples = count();',
    ]),
  ],
  shape: {
    counters: [{ map: '@samples', name: 'samples' }],
    headline: (r) => {
      const top = r.tables[0]?.rows[0];
      return `samples=${r.counters['samples'] ?? 0}${top ? ` top=${String(top[1])}(${String(top[0])})` : ''}`;
    },
  },
  post: (r, parsed, ctx) => {
    const d = toTraceData(parsed);
    const rows = new Map<string, { tid: number; comm: string; user: number; kernel: number; byComm: Map<string, number> }>();
    for (const which of ['user', 'kernel'] as const) {
      for (const [key, v] of entries(d, `@${which}`)) {
        const [tid, comm = ''] = splitKey(key, 2);
        const id = `${tid}`;
        const row = rows.get(id) ?? { tid: num(tid), comm, user: 0, kernel: 0, byComm: new Map<string, number>() };
        row[which] += num(v);
        row.byComm.set(comm, (row.byComm.get(comm) ?? 0) + num(v));
        rows.set(id, row);
      }
    }
    // A thread renamed during the trace (prctl, pthread_setname_np) has samples under
    // both names: it is shown under the one most of its samples carry.
    for (const row of rows.values()) row.comm = [...row.byComm].sort((a, b) => b[1] - a[1])[0]?.[0] ?? row.comm;
    const total = [...rows.values()].reduce((a, x) => a + x.user + x.kernel, 0);
    const ms = (n: number): number => Math.round((n * 1000) / ctx.params.hz);
    const pct = (n: number): number => (total > 0 ? Math.round((n / total) * 1000) / 10 : 0);
    const sorted = [...rows.values()].sort((a, b) => b.user + b.kernel - (a.user + a.kernel)).slice(0, ctx.topN);
    r.tables.push({
      name: 'thread times',
      columns: ['tid', 'comm', 'samples', 'user_pct', 'kernel_pct', 'cpu_ms', 'user_ms', 'kernel_ms'],
      rows: sorted.map((x) => [x.tid, x.comm, x.user + x.kernel, pct(x.user), pct(x.kernel), ms(x.user + x.kernel), ms(x.user), ms(x.kernel)]),
    });
    const u = [...rows.values()].reduce((a, x) => a + x.user, 0);
    r.counters['userPct'] = pct(u);
    r.counters['kernelPct'] = total > 0 ? Math.round((100 - pct(u)) * 10) / 10 : 0;
  },
  notes: (ctx) => [`sampled at ${ctx.params.hz} Hz per CPU: times are estimates (samples × 1/hz); percentages are of this target's samples`],
});
