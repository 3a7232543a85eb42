// Inline expected programs for the key probes (reviewed by hand; update deliberately).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CATALOG } from './catalog.js';
import { CAPS_017, CAPS_023, FILTERS, SAMPLE_PARAMS, ctxFor } from './test-support.js';

function render(name: keyof typeof CATALOG, mode: keyof typeof FILTERS, v: '17' | '23'): string {
  const def = CATALOG[name];
  return def.renderBpftrace(ctxFor(def.params.parse(SAMPLE_PARAMS[name] ?? {}), FILTERS[mode], v === '23' ? CAPS_023 : CAPS_017));
}

describe('expected programs', () => {
  it('execs [cgroup, bpftrace 0.17]', () => {
    assert.equal(
      render('execs', 'cgroup', '17'),
      "// tracejob probe execs (filter: cgroup, bpftrace v0.17.0)\n" +
        "\n" +
        "tracepoint:syscalls:sys_enter_execve,\n" +
        "tracepoint:syscalls:sys_enter_execveat\n" +
        "/(cgroup == 1234 || cgroup == 5678)/\n" +
        "{\n" +
        "  @exec_file[tid] = str(args->filename);\n" +
        "}\n" +
        "\n" +
        "tracepoint:sched:sched_process_exec\n" +
        "/(cgroup == 1234 || cgroup == 5678)/\n" +
        "{\n" +
        "  @count = count();\n" +
        "  @by_comm[comm] = count();\n" +
        "  @by_file[@exec_file[args->old_pid]] = count();\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\texec\\t%d\\t%d\\t%s\\t%s\\n\", pid, args->old_pid, comm, @exec_file[args->old_pid]);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  if (@exec_file[args->old_pid] != \"\") { delete(@exec_file[args->old_pid]); }\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@exec_file);\n" +
        "}\n",
    );
  });

  it('execs [pids, bpftrace 0.23]', () => {
    assert.equal(
      render('execs', 'pids', '23'),
      "// tracejob probe execs (filter: pids, bpftrace v0.23.2)\n" +
        "\n" +
        "tracepoint:syscalls:sys_enter_execve,\n" +
        "tracepoint:syscalls:sys_enter_execveat\n" +
        "/(pid == 4242 || pid == 4343)/\n" +
        "{\n" +
        "  @exec_file[tid] = str(args.filename);\n" +
        "}\n" +
        "\n" +
        "tracepoint:sched:sched_process_exec\n" +
        "/(pid == 4242 || pid == 4343)/\n" +
        "{\n" +
        "  @count = count();\n" +
        "  @by_comm[comm] = count();\n" +
        "  @by_file[@exec_file[args.old_pid]] = count();\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\texec\\t%d\\t%d\\t%s\\t%s\\n\", pid, args.old_pid, comm, @exec_file[args.old_pid]);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  if (@exec_file[args.old_pid] != \"\") { delete(@exec_file[args.old_pid]); }\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@exec_file);\n" +
        "}\n",
    );
  });

  it('execs [node, bpftrace 0.17]', () => {
    assert.equal(
      render('execs', 'node', '17'),
      "// tracejob probe execs (filter: node, bpftrace v0.17.0)\n" +
        "\n" +
        "tracepoint:syscalls:sys_enter_execve,\n" +
        "tracepoint:syscalls:sys_enter_execveat\n" +
        "{\n" +
        "  @exec_file[tid] = str(args->filename);\n" +
        "}\n" +
        "\n" +
        "tracepoint:sched:sched_process_exec\n" +
        "{\n" +
        "  @count = count();\n" +
        "  @by_comm[comm] = count();\n" +
        "  @by_file[@exec_file[args->old_pid]] = count();\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\texec\\t%d\\t%d\\t%s\\t%s\\n\", pid, args->old_pid, comm, @exec_file[args->old_pid]);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  if (@exec_file[args->old_pid] != \"\") { delete(@exec_file[args->old_pid]); }\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@exec_file);\n" +
        "}\n",
    );
  });

  it('tcpConnectLatency [cgroup, bpftrace 0.17]', () => {
    assert.equal(
      render('tcpConnectLatency', 'cgroup', '17'),
      "// tracejob probe tcpConnectLatency (filter: cgroup, bpftrace v0.17.0)\n" +
        "\n" +
        "tracepoint:sock:inet_sock_set_state\n" +
        "/(args->protocol == 6 && args->newstate == 2) && (cgroup == 1234 || cgroup == 5678)/\n" +
        "{\n" +
        "  @start[args->skaddr] = nsecs;\n" +
        "  @start_pid[args->skaddr] = pid;\n" +
        "  @start_comm[args->skaddr] = comm;\n" +
        "}\n" +
        "\n" +
        "tracepoint:sock:inet_sock_set_state\n" +
        "/args->oldstate == 2 && @start[args->skaddr]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[args->skaddr]) / 1000;\n" +
        "  if (args->newstate == 1) {\n" +
        "    @count = count();\n" +
        "    @latency_us = hist($us);\n" +
        "    if (args->family == 2) {\n" +
        "      @by_dest[ntop(args->daddr), args->dport] = stats($us);\n" +
        "    } else {\n" +
        "      @by_dest[ntop(args->daddr_v6), args->dport] = stats($us);\n" +
        "    }\n" +
        "    @by_comm[@start_comm[args->skaddr]] = count();\n" +
        "    if (args->family == 2) {\n" +
        "      if (@events < 100) {\n" +
        "        printf(\"EV\\tconnect\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", @start_pid[args->skaddr], $us, args->family, args->dport, ntop(args->daddr), @start_comm[args->skaddr]);\n" +
        "        @events++;\n" +
        "      }\n" +
        "    } else {\n" +
        "      if (@events < 100) {\n" +
        "        printf(\"EV\\tconnect\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", @start_pid[args->skaddr], $us, args->family, args->dport, ntop(args->daddr_v6), @start_comm[args->skaddr]);\n" +
        "        @events++;\n" +
        "      }\n" +
        "    }\n" +
        "  } else {\n" +
        "    @failed = count();\n" +
        "  }\n" +
        "  delete(@start[args->skaddr]);\n" +
        "  delete(@start_pid[args->skaddr]);\n" +
        "  delete(@start_comm[args->skaddr]);\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@start);\n" +
        "  clear(@start_pid);\n" +
        "  clear(@start_comm);\n" +
        "}\n",
    );
  });

  it('tcpConnectLatency [namespace, bpftrace 0.23]', () => {
    assert.equal(
      render('tcpConnectLatency', 'namespace', '23'),
      "// tracejob probe tcpConnectLatency (filter: namespace, bpftrace v0.23.2)\n" +
        "\n" +
        "tracepoint:sock:inet_sock_set_state\n" +
        "/(args.protocol == 6 && args.newstate == 2) && (curtask->nsproxy->mnt_ns->ns.inum == 4026532002)/\n" +
        "{\n" +
        "  @start[args.skaddr] = nsecs;\n" +
        "  @start_pid[args.skaddr] = pid;\n" +
        "  @start_comm[args.skaddr] = comm;\n" +
        "}\n" +
        "\n" +
        "tracepoint:sock:inet_sock_set_state\n" +
        "/args.oldstate == 2 && @start[args.skaddr]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[args.skaddr]) / 1000;\n" +
        "  if (args.newstate == 1) {\n" +
        "    @count = count();\n" +
        "    @latency_us = hist($us);\n" +
        "    if (args.family == 2) {\n" +
        "      @by_dest[ntop(args.daddr), args.dport] = stats($us);\n" +
        "    } else {\n" +
        "      @by_dest[ntop(args.daddr_v6), args.dport] = stats($us);\n" +
        "    }\n" +
        "    @by_comm[@start_comm[args.skaddr]] = count();\n" +
        "    if (args.family == 2) {\n" +
        "      if (@events < 100) {\n" +
        "        printf(\"EV\\tconnect\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", @start_pid[args.skaddr], $us, args.family, args.dport, ntop(args.daddr), @start_comm[args.skaddr]);\n" +
        "        @events++;\n" +
        "      }\n" +
        "    } else {\n" +
        "      if (@events < 100) {\n" +
        "        printf(\"EV\\tconnect\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", @start_pid[args.skaddr], $us, args.family, args.dport, ntop(args.daddr_v6), @start_comm[args.skaddr]);\n" +
        "        @events++;\n" +
        "      }\n" +
        "    }\n" +
        "  } else {\n" +
        "    @failed = count();\n" +
        "  }\n" +
        "  delete(@start[args.skaddr]);\n" +
        "  delete(@start_pid[args.skaddr]);\n" +
        "  delete(@start_comm[args.skaddr]);\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@start);\n" +
        "  clear(@start_pid);\n" +
        "  clear(@start_comm);\n" +
        "}\n",
    );
  });

  it('syscallLatency [namespace, bpftrace 0.23]', () => {
    assert.equal(
      render('syscallLatency', 'namespace', '23'),
      "// tracejob probe syscallLatency (filter: namespace, bpftrace v0.23.2)\n" +
        "\n" +
        "tracepoint:syscalls:sys_enter_read,\n" +
        "tracepoint:syscalls:sys_enter_write,\n" +
        "tracepoint:syscalls:sys_enter_pread64,\n" +
        "tracepoint:syscalls:sys_enter_pwrite64,\n" +
        "tracepoint:syscalls:sys_enter_fsync,\n" +
        "tracepoint:syscalls:sys_enter_fdatasync\n" +
        "/(curtask->nsproxy->mnt_ns->ns.inum == 4026532002)/\n" +
        "{\n" +
        "  @start[tid] = nsecs;\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_read\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[0] = hist($us);\n" +
        "  @stats_us[0] = stats($us);\n" +
        "  if (args.ret < 0) { @errors[0] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_write\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[1] = hist($us);\n" +
        "  @stats_us[1] = stats($us);\n" +
        "  if (args.ret < 0) { @errors[1] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_pread64\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[2] = hist($us);\n" +
        "  @stats_us[2] = stats($us);\n" +
        "  if (args.ret < 0) { @errors[2] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_pwrite64\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[3] = hist($us);\n" +
        "  @stats_us[3] = stats($us);\n" +
        "  if (args.ret < 0) { @errors[3] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_fsync\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[4] = hist($us);\n" +
        "  @stats_us[4] = stats($us);\n" +
        "  if (args.ret < 0) { @errors[4] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_fdatasync\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[5] = hist($us);\n" +
        "  @stats_us[5] = stats($us);\n" +
        "  if (args.ret < 0) { @errors[5] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@start);\n" +
        "}\n",
    );
  });

  it('syscallLatency [pids, bpftrace 0.17]', () => {
    assert.equal(
      render('syscallLatency', 'pids', '17'),
      "// tracejob probe syscallLatency (filter: pids, bpftrace v0.17.0)\n" +
        "\n" +
        "tracepoint:syscalls:sys_enter_read,\n" +
        "tracepoint:syscalls:sys_enter_write,\n" +
        "tracepoint:syscalls:sys_enter_pread64,\n" +
        "tracepoint:syscalls:sys_enter_pwrite64,\n" +
        "tracepoint:syscalls:sys_enter_fsync,\n" +
        "tracepoint:syscalls:sys_enter_fdatasync\n" +
        "/(pid == 4242 || pid == 4343)/\n" +
        "{\n" +
        "  @start[tid] = nsecs;\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_read\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[0] = hist($us);\n" +
        "  @stats_us[0] = stats($us);\n" +
        "  if (args->ret < 0) { @errors[0] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_write\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[1] = hist($us);\n" +
        "  @stats_us[1] = stats($us);\n" +
        "  if (args->ret < 0) { @errors[1] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_pread64\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[2] = hist($us);\n" +
        "  @stats_us[2] = stats($us);\n" +
        "  if (args->ret < 0) { @errors[2] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_pwrite64\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[3] = hist($us);\n" +
        "  @stats_us[3] = stats($us);\n" +
        "  if (args->ret < 0) { @errors[3] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_fsync\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[4] = hist($us);\n" +
        "  @stats_us[4] = stats($us);\n" +
        "  if (args->ret < 0) { @errors[4] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "tracepoint:syscalls:sys_exit_fdatasync\n" +
        "/@start[tid]/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  @latency_us[5] = hist($us);\n" +
        "  @stats_us[5] = stats($us);\n" +
        "  if (args->ret < 0) { @errors[5] = count(); }\n" +
        "  delete(@start[tid]);\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@start);\n" +
        "}\n",
    );
  });

  it('tcpRetransmits [cgroup, bpftrace 0.17]', () => {
    assert.equal(
      render('tcpRetransmits', 'cgroup', '17'),
      "// tracejob probe tcpRetransmits (filter: cgroup, bpftrace v0.17.0)\n" +
        "\n" +
        "tracepoint:tcp:tcp_retransmit_skb\n" +
        "/(((struct sock *)args->skaddr)->__sk_common.skc_net.net->ns.inum == 4026532001)/\n" +
        "{\n" +
        "  @count = count();\n" +
        "  @by_state[args->state] = count();\n" +
        "  $tp = (struct tcp_sock *)args->skaddr;\n" +
        "  if (args->family == 2) {\n" +
        "    @by_flow[ntop(args->saddr), args->sport, ntop(args->daddr), args->dport] = count();\n" +
        "    if (@events < 100) {\n" +
        "      printf(\"EV\\tretrans\\t%d\\t%d\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", args->state, args->sport, args->dport, $tp->snd_cwnd, $tp->srtt_us >> 3, $tp->inet_conn.icsk_rto, ntop(args->saddr), ntop(args->daddr));\n" +
        "      @events++;\n" +
        "    }\n" +
        "  } else {\n" +
        "    @by_flow[ntop(args->saddr_v6), args->sport, ntop(args->daddr_v6), args->dport] = count();\n" +
        "    if (@events < 100) {\n" +
        "      printf(\"EV\\tretrans\\t%d\\t%d\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", args->state, args->sport, args->dport, $tp->snd_cwnd, $tp->srtt_us >> 3, $tp->inet_conn.icsk_rto, ntop(args->saddr_v6), ntop(args->daddr_v6));\n" +
        "      @events++;\n" +
        "    }\n" +
        "  }\n" +
        "}\n" +
        "\n" +
        "tracepoint:tcp:tcp_retransmit_synack\n" +
        "/(((struct sock *)args->skaddr)->__sk_common.skc_net.net->ns.inum == 4026532001)/\n" +
        "{\n" +
        "  @synack = count();\n" +
        "  if (args->family == 2) {\n" +
        "    @synack_by_flow[ntop(args->saddr), args->sport, ntop(args->daddr), args->dport] = count();\n" +
        "  } else {\n" +
        "    @synack_by_flow[ntop(args->saddr_v6), args->sport, ntop(args->daddr_v6), args->dport] = count();\n" +
        "  }\n" +
        "}\n",
    );
  });

  it('tcpRetransmits [node, bpftrace 0.23]', () => {
    assert.equal(
      render('tcpRetransmits', 'node', '23'),
      "// tracejob probe tcpRetransmits (filter: node, bpftrace v0.23.2)\n" +
        "\n" +
        "tracepoint:tcp:tcp_retransmit_skb\n" +
        "{\n" +
        "  @count = count();\n" +
        "  @by_state[args.state] = count();\n" +
        "  $tp = (struct tcp_sock *)args.skaddr;\n" +
        "  if (args.family == 2) {\n" +
        "    @by_flow[ntop(args.saddr), args.sport, ntop(args.daddr), args.dport] = count();\n" +
        "    if (@events < 100) {\n" +
        "      printf(\"EV\\tretrans\\t%d\\t%d\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", args.state, args.sport, args.dport, $tp->snd_cwnd, $tp->srtt_us >> 3, $tp->inet_conn.icsk_rto, ntop(args.saddr), ntop(args.daddr));\n" +
        "      @events++;\n" +
        "    }\n" +
        "  } else {\n" +
        "    @by_flow[ntop(args.saddr_v6), args.sport, ntop(args.daddr_v6), args.dport] = count();\n" +
        "    if (@events < 100) {\n" +
        "      printf(\"EV\\tretrans\\t%d\\t%d\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", args.state, args.sport, args.dport, $tp->snd_cwnd, $tp->srtt_us >> 3, $tp->inet_conn.icsk_rto, ntop(args.saddr_v6), ntop(args.daddr_v6));\n" +
        "      @events++;\n" +
        "    }\n" +
        "  }\n" +
        "}\n" +
        "\n" +
        "tracepoint:tcp:tcp_retransmit_synack\n" +
        "{\n" +
        "  @synack = count();\n" +
        "  if (args.family == 2) {\n" +
        "    @synack_by_flow[ntop(args.saddr), args.sport, ntop(args.daddr), args.dport] = count();\n" +
        "  } else {\n" +
        "    @synack_by_flow[ntop(args.saddr_v6), args.sport, ntop(args.daddr_v6), args.dport] = count();\n" +
        "  }\n" +
        "}\n",
    );
  });

  it('cpuProfile [namespace, bpftrace 0.17]', () => {
    assert.equal(
      render('cpuProfile', 'namespace', '17'),
      "// tracejob probe cpuProfile (filter: namespace, bpftrace v0.17.0)\n" +
        "\n" +
        "profile:hz:49\n" +
        "/(curtask->nsproxy->mnt_ns->ns.inum == 4026532002)/\n" +
        "{\n" +
        "  @samples[kstack, ustack, comm] = count();\n" +
        "}\n",
    );
  });

  it('cpuProfile [cgroup, bpftrace 0.23]', () => {
    assert.equal(
      render('cpuProfile', 'cgroup', '23'),
      "// tracejob probe cpuProfile (filter: cgroup, bpftrace v0.23.2)\n" +
        "\n" +
        "profile:hz:49\n" +
        "/(cgroup == 1234 || cgroup == 5678)/\n" +
        "{\n" +
        "  @samples[kstack, ustack, comm] = count();\n" +
        "}\n",
    );
  });

  it('dnsLatency [pids, bpftrace 0.23]', () => {
    assert.equal(
      render('dnsLatency', 'pids', '23'),
      "// tracejob probe dnsLatency (filter: pids, bpftrace v0.23.2)\n" +
        "\n" +
        "uprobe:\"/proc/4242/root/lib/x86_64-linux-gnu/libc.so.6\":getaddrinfo\n" +
        "/(pid == 4242 || pid == 4343)/\n" +
        "{\n" +
        "  @start[tid] = nsecs;\n" +
        "  @host[tid] = arg0;\n" +
        "  @fn[tid] = 0;\n" +
        "}\n" +
        "\n" +
        "uprobe:\"/proc/4242/root/lib/x86_64-linux-gnu/libc.so.6\":gethostbyname\n" +
        "/(pid == 4242 || pid == 4343)/\n" +
        "{\n" +
        "  @start[tid] = nsecs;\n" +
        "  @host[tid] = arg0;\n" +
        "  @fn[tid] = 1;\n" +
        "}\n" +
        "\n" +
        "uprobe:\"/proc/4242/root/lib/x86_64-linux-gnu/libc.so.6\":gethostbyname2\n" +
        "/(pid == 4242 || pid == 4343)/\n" +
        "{\n" +
        "  @start[tid] = nsecs;\n" +
        "  @host[tid] = arg0;\n" +
        "  @fn[tid] = 2;\n" +
        "}\n" +
        "\n" +
        "uretprobe:\"/proc/4242/root/lib/x86_64-linux-gnu/libc.so.6\":getaddrinfo\n" +
        "/@start[tid] && @fn[tid] == 0/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  $host = str(@host[tid]);\n" +
        "  @count = count();\n" +
        "  @latency_us = hist($us);\n" +
        "  @by_host[$host] = stats($us);\n" +
        "  if ((int32)retval != 0) { @failed = count(); }\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\tdns\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", pid, $us, 0, (int32)retval, comm, $host);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  delete(@start[tid]);\n" +
        "  delete(@host[tid]);\n" +
        "  delete(@fn[tid]);\n" +
        "}\n" +
        "\n" +
        "uretprobe:\"/proc/4242/root/lib/x86_64-linux-gnu/libc.so.6\":gethostbyname\n" +
        "/@start[tid] && @fn[tid] == 1/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  $host = str(@host[tid]);\n" +
        "  @count = count();\n" +
        "  @latency_us = hist($us);\n" +
        "  @by_host[$host] = stats($us);\n" +
        "  if (retval == 0) { @failed = count(); }\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\tdns\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", pid, $us, 1, (int32)retval, comm, $host);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  delete(@start[tid]);\n" +
        "  delete(@host[tid]);\n" +
        "  delete(@fn[tid]);\n" +
        "}\n" +
        "\n" +
        "uretprobe:\"/proc/4242/root/lib/x86_64-linux-gnu/libc.so.6\":gethostbyname2\n" +
        "/@start[tid] && @fn[tid] == 2/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  $host = str(@host[tid]);\n" +
        "  @count = count();\n" +
        "  @latency_us = hist($us);\n" +
        "  @by_host[$host] = stats($us);\n" +
        "  if (retval == 0) { @failed = count(); }\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\tdns\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", pid, $us, 2, (int32)retval, comm, $host);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  delete(@start[tid]);\n" +
        "  delete(@host[tid]);\n" +
        "  delete(@fn[tid]);\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@start);\n" +
        "  clear(@host);\n" +
        "  clear(@fn);\n" +
        "}\n",
    );
  });

  it('dnsLatency [node, bpftrace 0.17]', () => {
    assert.equal(
      render('dnsLatency', 'node', '17'),
      "// tracejob probe dnsLatency (filter: node, bpftrace v0.17.0)\n" +
        "\n" +
        "uprobe:\"/lib/x86_64-linux-gnu/libc.so.6\":getaddrinfo\n" +
        "{\n" +
        "  @start[tid] = nsecs;\n" +
        "  @host[tid] = arg0;\n" +
        "  @fn[tid] = 0;\n" +
        "}\n" +
        "\n" +
        "uprobe:\"/lib/x86_64-linux-gnu/libc.so.6\":gethostbyname\n" +
        "{\n" +
        "  @start[tid] = nsecs;\n" +
        "  @host[tid] = arg0;\n" +
        "  @fn[tid] = 1;\n" +
        "}\n" +
        "\n" +
        "uprobe:\"/lib/x86_64-linux-gnu/libc.so.6\":gethostbyname2\n" +
        "{\n" +
        "  @start[tid] = nsecs;\n" +
        "  @host[tid] = arg0;\n" +
        "  @fn[tid] = 2;\n" +
        "}\n" +
        "\n" +
        "uretprobe:\"/lib/x86_64-linux-gnu/libc.so.6\":getaddrinfo\n" +
        "/@start[tid] && @fn[tid] == 0/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  $host = str(@host[tid]);\n" +
        "  @count = count();\n" +
        "  @latency_us = hist($us);\n" +
        "  @by_host[$host] = stats($us);\n" +
        "  if ((int32)retval != 0) { @failed = count(); }\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\tdns\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", pid, $us, 0, (int32)retval, comm, $host);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  delete(@start[tid]);\n" +
        "  delete(@host[tid]);\n" +
        "  delete(@fn[tid]);\n" +
        "}\n" +
        "\n" +
        "uretprobe:\"/lib/x86_64-linux-gnu/libc.so.6\":gethostbyname\n" +
        "/@start[tid] && @fn[tid] == 1/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  $host = str(@host[tid]);\n" +
        "  @count = count();\n" +
        "  @latency_us = hist($us);\n" +
        "  @by_host[$host] = stats($us);\n" +
        "  if (retval == 0) { @failed = count(); }\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\tdns\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", pid, $us, 1, (int32)retval, comm, $host);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  delete(@start[tid]);\n" +
        "  delete(@host[tid]);\n" +
        "  delete(@fn[tid]);\n" +
        "}\n" +
        "\n" +
        "uretprobe:\"/lib/x86_64-linux-gnu/libc.so.6\":gethostbyname2\n" +
        "/@start[tid] && @fn[tid] == 2/\n" +
        "{\n" +
        "  $us = (nsecs - @start[tid]) / 1000;\n" +
        "  $host = str(@host[tid]);\n" +
        "  @count = count();\n" +
        "  @latency_us = hist($us);\n" +
        "  @by_host[$host] = stats($us);\n" +
        "  if (retval == 0) { @failed = count(); }\n" +
        "  if (@events < 100) {\n" +
        "    printf(\"EV\\tdns\\t%d\\t%d\\t%d\\t%d\\t%s\\t%s\\n\", pid, $us, 2, (int32)retval, comm, $host);\n" +
        "    @events++;\n" +
        "  }\n" +
        "  delete(@start[tid]);\n" +
        "  delete(@host[tid]);\n" +
        "  delete(@fn[tid]);\n" +
        "}\n" +
        "\n" +
        "END\n" +
        "{\n" +
        "  clear(@start);\n" +
        "  clear(@host);\n" +
        "  clear(@fn);\n" +
        "}\n",
    );
  });
});
