// SystemTap scripts for catalog probes, rendered from the same RenderContext as the
// bpftrace programs and printing the same map names and record shapes, so each
// probe's own shaper (src/probes/<name>.ts) turns stap output into the same result
// document. The agent consults SYSTEMTAP_RENDERERS (src/probes is not edited).
//
// Hooks mirror the bpftrace probes: tracepoints (`kernel.trace`, `syscall_any` —
// the raw_syscalls tracepoints) wherever bpftrace uses them; `kernel.function`
// (kprobes + debuginfo) and `process(...).function` (uprobes) where bpftrace uses
// kprobes/kfunc/uprobes. Each script needs SystemTap's module runtime (they print
// @hist_log tables and loop in `end`, which stapbpf cannot do).
import type { CatalogProbeName } from '../api/probe-names.js';
import { RETRANS_EVENT } from '../probes/tcpRetransmits.js';
import { SLOW_CALL_EVENT } from '../probes/funcLatency.js';
import { targetFilePath } from '../probes/uprobe-path.js';
import type { NodeCapabilities, RenderContext } from '../probes/types.js';
import {
  printEventCount,
  printHist,
  printKeyedHist,
  printKeyedMap,
  printKeyedStats,
  printScalar,
  stapKit,
  stapProgram,
  stapString,
  type StapKit,
} from './render.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Ctx = RenderContext<any>;
type Params<T> = RenderContext<T>;

const K1N = { vars: ['k1'], fmts: ['%d'] };

/** `probe end { … }` around printer lines. */
const endProbe = (lines: string[]): string[] => ['probe end {', ...lines, '}'];

// ---------------------------------------------------------------------------

function tcpRetransmits(ctx: Params<{ synack: boolean }>): string {
  const k = stapKit(ctx);
  const flow = { vars: ['s', 'sp', 'd', 'dp'], fmts: ['%s', '%d', '%s', '%d'] };
  const body = [
    'global retrans_count, synack_count',
    'global by_state, by_flow, synack_by_flow',
    '',
    '# TP_PROTO(const struct sock *sk, const struct sk_buff *skb); often runs in softirq.',
    'probe kernel.trace("tcp:tcp_retransmit_skb") {',
    `  if (!${k.sockNetns('$sk')}) next`,
    '  sk = $sk',
    '  family = __ip_sock_family(sk)',
    '  saddr = format_ipaddr(__ip_sock_saddr(sk), family)',
    '  daddr = format_ipaddr(__ip_sock_daddr(sk), family)',
    '  sport = __tcp_sock_sport(sk)',
    '  dport = __tcp_sock_dport(sk)',
    '  state = tcp_ts_get_info_state(sk)',
    '  retrans_count++',
    '  by_state[state]++',
    '  by_flow[saddr, sport, daddr, dport]++',
    ...k.event(
      RETRANS_EVENT,
      [
        'state',
        'sport',
        'dport',
        '@cast(sk, "tcp_sock", "kernel")->snd_cwnd',
        '@cast(sk, "tcp_sock", "kernel")->srtt_us >> 3',
        '@cast(sk, "inet_connection_sock", "kernel")->icsk_rto',
        'saddr',
        'daddr',
      ],
      '  ',
    ),
    '}',
  ];
  if (ctx.params.synack) {
    body.push(
      '',
      '# TP_PROTO(const struct sock *sk, const struct request_sock *req): the listener + the request.',
      'probe kernel.trace("tcp:tcp_retransmit_synack") {',
      `  if (!${k.sockNetns('$sk')}) next`,
      '  synack_count++',
      '  family = __ip_sock_family($sk)',
      '  saddr = format_ipaddr($req->__req_common->skc_rcv_saddr, family)',
      '  daddr = format_ipaddr($req->__req_common->skc_daddr, family)',
      '  synack_by_flow[saddr, $req->__req_common->skc_num, daddr, ntohs($req->__req_common->skc_dport)]++',
      '}',
    );
  }
  body.push(
    '',
    ...endProbe([
      ...printScalar('@count', 'retrans_count'),
      ...printKeyedMap('@by_state', 'by_state', K1N),
      ...printKeyedMap('@by_flow', 'by_flow', flow),
      ...(ctx.params.synack ? [...printScalar('@synack', 'synack_count'), ...printKeyedMap('@synack_by_flow', 'synack_by_flow', flow)] : []),
      ...printEventCount(),
    ]),
  );
  return stapProgram('tcpRetransmits', ctx, body, { netns: true });
}

/**
 * Syscall entry/exit timing over `syscall_any` (raw_syscalls tracepoints), for the
 * syscalls in `names`; results are keyed by the index in `names` like the bpftrace
 * programs. `record(i)` returns the lines that record `us` for index `i`.
 */
function syscallTiming(k: StapKit<unknown>, names: string[], record: string[]): string[] {
  return [
    'global __tj_sc',
    'global start%, scidx%',
    '',
    'probe begin {',
    ...names.map((n, i) => `  __tj_sc[${stapString(n)}] = ${i + 1}`),
    '}',
    '',
    'probe syscall_any {',
    '  if (!(name in __tj_sc)) next',
    `  if (!${k.target}) next`,
    '  start[tid()] = local_clock_ns()',
    '  scidx[tid()] = __tj_sc[name]',
    '}',
    '',
    'probe syscall_any.return {',
    '  t = start[tid()]',
    '  if (!t) next',
    '  i = scidx[tid()] - 1',
    '  us = (local_clock_ns() - t) / 1000',
    ...record,
    '  delete start[tid()]',
    '  delete scidx[tid()]',
    '}',
  ];
}

function syscallLatency(ctx: Params<{ syscalls: string[] }>): string {
  const k = stapKit(ctx);
  const body = [
    'global latency_us, stats_us, errors',
    ...syscallTiming(k as StapKit<unknown>, ctx.params.syscalls, ['  latency_us[i] <<< us', '  stats_us[i] <<< us', '  if (retval < 0) errors[i]++']),
    '',
    ...endProbe([...printKeyedHist('@latency_us', 'latency_us', K1N), ...printKeyedStats('@stats_us', 'stats_us', K1N), ...printKeyedMap('@errors', 'errors', K1N)]),
  ];
  return stapProgram('syscallLatency', ctx, body);
}

function blockIOLatency(ctx: Params<{ perDisk: boolean }>): string {
  const k = stapKit(ctx);
  const key = { vars: ['dev', 'op'], fmts: ['%d', '%s'] };
  const body = [
    'global start%, rq_dev%, rq_op%',
    'global latency_us, by_disk, errors_count',
    '',
    '# REQ_OP_* (cmd_flags & 0xff) → the rwbs letter the bpftrace tracepoint prints.',
    'function __tj_rwbs:string (flags:long) {',
    '  op = flags & 0xff',
    '  if (op == 0) return "R"',
    '  if (op == 1) return "W"',
    '  if (op == 2) return "F"',
    '  if (op == 3) return "D"',
    '  return "N"',
    '}',
    '',
    '# TP_PROTO(struct request *rq). Attributed at issue time (completion runs in irq context).',
    'probe kernel.trace("block:block_rq_issue") {',
    `  if (!${k.target}) next`,
    '  rq = $rq',
    '  start[rq] = local_clock_ns()',
    '  try { rq_dev[rq] = @cast(rq, "request", "kernel")->part->bd_dev } catch { rq_dev[rq] = 0 }',
    '  rq_op[rq] = __tj_rwbs(@cast(rq, "request", "kernel")->cmd_flags)',
    '}',
    '',
    '# TP_PROTO(struct request *rq, blk_status_t error, unsigned int nr_bytes)',
    'probe kernel.trace("block:block_rq_complete") {',
    '  rq = $rq',
    '  t = start[rq]',
    '  if (!t) next',
    '  us = (local_clock_ns() - t) / 1000',
    '  dev = rq_dev[rq]',
    '  op = rq_op[rq]',
    ctx.params.perDisk ? '  latency_us[dev, op] <<< us' : '  latency_us <<< us',
    '  by_disk[dev, op] <<< us',
    '  if ($error != 0) errors_count++',
    '  delete start[rq]',
    '  delete rq_dev[rq]',
    '  delete rq_op[rq]',
    '}',
    '',
    ...endProbe([
      ...(ctx.params.perDisk ? printKeyedHist('@latency_us', 'latency_us', key) : printHist('@latency_us', 'latency_us')),
      ...printKeyedStats('@by_disk', 'by_disk', key),
      ...printScalar('@errors', 'errors_count'),
    ]),
  ];
  return stapProgram('blockIOLatency', ctx, body);
}

const useVfs = (caps: NodeCapabilities, level: string): boolean => level === 'vfs' || (level === 'auto' && caps.kprobes);

function fsLatency(ctx: Params<{ level: 'auto' | 'syscall' | 'vfs' }>): string {
  const k = stapKit(ctx);
  let timing: string[];
  if (useVfs(ctx.caps, ctx.params.level)) {
    timing = [
      'global start%',
      '',
      'probe kernel.function("vfs_read"), kernel.function("vfs_write") {',
      `  if (!${k.target}) next`,
      '  start[tid()] = local_clock_ns()',
      '}',
      '',
      'probe kernel.function("vfs_read").return {',
      '  t = start[tid()]',
      '  if (!t) next',
      '  latency_us[0] <<< (local_clock_ns() - t) / 1000',
      '  delete start[tid()]',
      '}',
      '',
      'probe kernel.function("vfs_write").return {',
      '  t = start[tid()]',
      '  if (!t) next',
      '  latency_us[1] <<< (local_clock_ns() - t) / 1000',
      '  delete start[tid()]',
      '}',
    ];
  } else {
    // read, write, pread64, pwrite64 → index % 2: 0 read, 1 write (as the bpftrace program).
    timing = syscallTiming(k as StapKit<unknown>, ['read', 'write', 'pread64', 'pwrite64'], ['  latency_us[i % 2] <<< us']);
  }
  const body = ['global latency_us', ...timing, '', ...endProbe(printKeyedHist('@latency_us', 'latency_us', K1N))];
  return stapProgram('fsLatency', ctx, body);
}

function threadTimes(ctx: Params<{ hz: number }>): string {
  const k = stapKit(ctx);
  const period = Math.round(1e9 / ctx.params.hz);
  const key = { vars: ['t', 'c'], fmts: ['%d', '%s'] };
  const body = [
    'global user_ticks, kernel_ticks, samples',
    '',
    `# The article's thread-times.stp classified timer.profile ticks with user_mode(); a per-CPU`,
    `# cpu-clock sample every ${period} ns gives the same at the probe's ${ctx.params.hz} Hz.`,
    `probe perf.sw.cpu_clock.sample(${period}) {`,
    `  if (!${k.target}) next`,
    '  if (user_mode()) user_ticks[tid(), execname()]++',
    '  else kernel_ticks[tid(), execname()]++',
    '  samples++',
    '}',
    '',
    ...endProbe([...printKeyedMap('@kernel', 'kernel_ticks', key), ...printKeyedMap('@user', 'user_ticks', key), ...printScalar('@samples', 'samples')]),
  ];
  return stapProgram('threadTimes', ctx, body);
}

/** FUTEX_WAIT 0, FUTEX_LOCK_PI 6, FUTEX_WAIT_BITSET 9, FUTEX_WAIT_REQUEUE_PI 11, FUTEX_LOCK_PI2 13. */
const WAIT_OPS = [0, 6, 9, 11, 13];

function futexContention(ctx: Params<Record<string, never>>): string {
  const k = stapKit(ctx);
  const key = { vars: ['p', 'u', 'c'], fmts: ['%d', '%d', '%s'] };
  const body = [
    'global start%, uaddr%',
    'global wait_us, locks',
    '',
    '# futexes.stp: a FUTEX_WAIT-family call is a contended acquisition; its duration is the wait.',
    'probe syscall_any {',
    '  if (name != "futex") next',
    '  op = int_arg(2) & 0x7f',
    `  if (!(${WAIT_OPS.map((o) => `op == ${o}`).join(' || ')})) next`,
    `  if (!${k.target}) next`,
    '  start[tid()] = local_clock_ns()',
    '  uaddr[tid()] = pointer_arg(1)',
    '}',
    '',
    'probe syscall_any.return {',
    '  t = start[tid()]',
    '  if (!t) next',
    '  us = (local_clock_ns() - t) / 1000',
    '  wait_us <<< us',
    '  locks[pid(), uaddr[tid()], execname()] <<< us',
    '  delete start[tid()]',
    '  delete uaddr[tid()]',
    '}',
    '',
    ...endProbe([...printHist('@wait_us', 'wait_us'), ...printKeyedStats('@locks', 'locks', key)]),
  ];
  return stapProgram('futexContention', ctx, body);
}

/** Function names stap accepts inside a quoted probe point (no quotes, wildcards or `@`). */
const STAP_FUNC = /^[A-Za-z_][A-Za-z0-9_:.~<>, *&-]*$/;

function funcLatency(ctx: Params<{ function: string; binary?: string; kernel: boolean; thresholdUs: number }>): string {
  const k = stapKit(ctx);
  const p = ctx.params;
  if (!STAP_FUNC.test(p.function) || /["@*?]/.test(p.function)) throw new Error(`function name ${JSON.stringify(p.function)} cannot be used in a SystemTap probe point`);
  const fn = stapString(p.function);
  let entry: string;
  let exit: string;
  if (p.kernel) {
    entry = `kernel.function(${fn}).call`;
    exit = `kernel.function(${fn}).return`;
  } else {
    const bin = stapString(targetFilePath(ctx as never, p.binary ?? '', 'params.binary'));
    entry = `process(${bin}).function(${fn}).call`;
    exit = `process(${bin}).function(${fn}).return`;
  }
  const body = [
    'global start%',
    'global calls, latency_us, by_process',
    '',
    `probe ${entry} {`,
    `  if (!${k.target}) next`,
    '  start[tid()] = local_clock_ns()',
    '}',
    '',
    `probe ${exit} {`,
    '  t = start[tid()]',
    '  if (!t) next',
    '  us = (local_clock_ns() - t) / 1000',
    '  calls++',
    '  latency_us <<< us',
    '  by_process[pid(), execname()] <<< us',
    `  if (us >= ${Math.floor(p.thresholdUs)}) {`,
    ...k.event(SLOW_CALL_EVENT, ['pid()', 'tid()', 'us', 'execname()'], '    '),
    '  }',
    '  delete start[tid()]',
    '}',
    '',
    ...endProbe([
      ...printScalar('@count', 'calls'),
      ...printHist('@latency_us', 'latency_us'),
      ...printKeyedStats('@by_process', 'by_process', { vars: ['p', 'c'], fmts: ['%d', '%s'] }),
      ...printEventCount(),
    ]),
  ];
  return stapProgram('funcLatency', ctx, body);
}

/** SystemTap renderers for catalog probes (params already validated by the probe's schema). */
export const SYSTEMTAP_RENDERERS: Partial<Record<CatalogProbeName, (ctx: Ctx) => string>> = {
  tcpRetransmits,
  syscallLatency,
  blockIOLatency,
  fsLatency,
  threadTimes,
  futexContention,
  funcLatency,
};

/**
 * What a SystemTap script needs beyond the module runtime, or undefined. `kernel.function`
 * probes need kprobes and kernel debuginfo; `process().function` needs uprobes.
 */
export const SYSTEMTAP_NEEDS: Partial<Record<CatalogProbeName, (caps: NodeCapabilities, params: Record<string, unknown>) => string | undefined>> = {
  fsLatency: (caps, p) => (p['level'] === 'vfs' && !caps.kprobes ? 'kprobes' : undefined),
  funcLatency: (caps, p) => (p['kernel'] === true ? (caps.kprobes ? undefined : 'kprobes') : caps.uprobes ? undefined : 'uprobes'),
  threadTimes: (caps) => (caps.perfEvents ? undefined : 'perfEvents'),
};

export function hasSystemtapScript(name: string): name is CatalogProbeName {
  return Object.prototype.hasOwnProperty.call(SYSTEMTAP_RENDERERS, name);
}

/** Notes added to a SystemTap result (how the filter differs from bpftrace's). */
export function systemtapNotes(ctx: RenderContext<unknown>): string[] {
  return ctx.filter.mode === 'node'
    ? []
    : ['SystemTap filters by the target\'s host pids and their forks: processes that join the container later without forking from a traced one (kubectl exec) are not traced'];
}
