#!/usr/bin/env bash
# Re-records the bpftrace v0.17 fixtures in this folder from a real bpftrace run.
# Needs root, bpftrace 0.17 (`apt-get install -y bpftrace`) and a mounted tracefs
# (`mount -t tracefs nodev /sys/kernel/tracing`). Counts differ on every run: the
# tests that read these files assert on shape and on self-consistency, and pin the
# exact numbers of the committed recording.
set -euo pipefail
cd "$(dirname "$0")"

workload() {
  # A bit of everything for ~3 s: opens, reads of various sizes, execs.
  (
    end=$((SECONDS + 3))
    while [ $SECONDS -lt $end ]; do
      cat /etc/hostname >/dev/null
      head -c 5000 /etc/services >/dev/null 2>&1 || true
      dd if=/dev/zero of=/dev/null bs=64k count=20 status=none
      sh -c 'true'
      cat /nonexistent-tracejob-file 2>/dev/null || true
    done
  ) &
}

rec() { # rec NAME [bpftrace args...] -- stdout as bpftrace prints it (blank lines and all)
  local name=$1; shift
  workload
  timeout 30 bpftrace -f json "$@" >"$name.ndjson" 2>/dev/null || true
  wait
  echo "recorded $name.ndjson ($(wc -l <"$name.ndjson") lines)"
}

rec v017-opens-count -e 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); } interval:s:1 { exit(); }'
rec v017-opens-count-quiet -q -e 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); } interval:s:1 { exit(); }'
rec v017-multikey-sum -q -e 'tracepoint:syscalls:sys_exit_read /args->ret > 0/ { @bytes[pid, comm] = sum(args->ret); } interval:s:1 { exit(); }'
rec v017-read-latency-hist -q -e 'tracepoint:syscalls:sys_enter_read { @start[tid] = nsecs; }
  tracepoint:syscalls:sys_exit_read /@start[tid]/ { @usecs = hist((nsecs - @start[tid]) / 1000); delete(@start[tid]); }
  interval:s:2 { clear(@start); exit(); }'
rec v017-keyed-hist -q -e 'tracepoint:syscalls:sys_exit_read /args->ret >= 0/ { @bytes[comm] = hist(args->ret); } interval:s:1 { exit(); }'
rec v017-lhist -q -e 'tracepoint:syscalls:sys_exit_read /args->ret >= 0/ { @sizes = lhist(args->ret, 0, 8192, 1024); } interval:s:1 { exit(); }'
# Negative values: failed opens return -ENOENT → log2 underflow bucket, lhist underflow bucket.
rec v017-hist-underflow -q -e 'tracepoint:syscalls:sys_exit_openat { @ret = hist(args->ret); @lret = lhist(args->ret, 0, 8, 2); } interval:s:1 { exit(); }'
rec v017-stats -q -e 'tracepoint:syscalls:sys_exit_read /args->ret >= 0/ { @avg = avg(args->ret); @st = stats(args->ret); @kst[comm] = stats(args->ret); @kavg[comm] = avg(args->ret); @mn = min(args->ret); @mx = max(args->ret); @n = count(); } interval:s:1 { exit(); }'
rec v017-printf-events -q -e 'tracepoint:syscalls:sys_enter_execve { printf("%d %s %s \"q\"\n", pid, comm, str(args->filename)); } interval:s:1 { exit(); }'
rec v017-interval-snapshots -q -e 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); @lat = hist(nsecs % 4096); }
  interval:s:1 { time("%H:%M:%S\n"); print(@); print(@lat); clear(@); clear(@lat); @ticks++; if (@ticks == 3) { exit(); } }'
rec v017-kstack-profile -q -e 'profile:hz:99 { @[kstack] = count(); } interval:s:2 { exit(); }'
rec v017-ustack-profile -q -e 'profile:hz:99 /comm == "dd" || comm == "bash"/ { @[ustack, comm] = count(); } interval:s:2 { exit(); }'
rec v017-strftime-invalid -q -e 'tracepoint:syscalls:sys_enter_openat { @ts = strftime("%H:%M:%S", nsecs); @n = count(); } interval:s:1 { exit(); }'
# -kk reports failing read helpers too; the filter keeps it to a few events.
rec v017-helper-error -q -kk -e 'tracepoint:syscalls:sys_enter_openat /@n < 3/ { @n++; @x = *(uint64 *)0; } interval:s:1 { exit(); }'
# Lost events: a one-page perf ring buffer, a fat printf per write(2) of a byte-at-a-time dd, 50 ms.
dd if=/dev/zero of=/dev/null bs=1 count=2000000 status=none &
BPFTRACE_PERF_RB_PAGES=1 timeout 30 bpftrace -f json -q -e 'tracepoint:syscalls:sys_enter_write /comm == "dd"/ {
  printf("%s %s %s %s %s %s %s %s\n", comm, comm, comm, comm, comm, comm, comm, comm); } interval:ms:50 { exit(); }' \
  >v017-lost-events.ndjson 2>/dev/null || true
wait
echo "recorded v017-lost-events.ndjson ($(wc -l <v017-lost-events.ndjson) lines)"
