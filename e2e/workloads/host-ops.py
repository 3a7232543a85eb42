# Host-side (CPU, scheduler, file system, block I/O) work with a known answer,
# done only after the trigger. Usage: host-ops.py OP [args]; OPs:
#   syscalls N M       N getppid(2) calls, then M mkdir(2)s of /tmp that fail with EEXIST
#   pipeio R W MS      R pipe read(2)s that each block MS ms, then W pipe write(2)s that
#                      each block MS ms on a full pipe (a helper thread frees room every MS ms)
#   blockio W R        dd: W O_DIRECT 64 KiB writes, then R O_DIRECT 16 KiB reads of a file
#                      allocated (and dd warmed up) before the trigger; prints both dd pids
#   pagecache W R      W buffered 64 KiB writes to a new file (W*16 fresh pages), then reads
#                      a R*64 KiB file written and evicted (fsync + POSIX_FADV_DONTNEED) before
#   select N MS        N select(2)s with no fds and a MS ms timeout (libc select())
#   offcpu N MS        the main thread, named "blockreader", does N pipe reads that each
#                      block ~MS ms (a thread named "pipewriter" sleeps MS ms before each
#                      one-byte write); prints the wall time it spent in those reads
#   spin S             a thread named "spinner" spins in pure Python (user space) for S s;
#                      prints its tid and the CPU time it used
#   runq T             forks two processes named "hog", pinned to one CPU, each spinning T s;
#                      each prints its wait (wall - cpu time) and the parent prints the sum
import os
import select
import subprocess
import sys
import threading
import time
from hostlib import fill_pipe, name_thread
from trigger import wait_for_trigger, idle


def spin_until(deadline):
    x = 0
    while time.monotonic() < deadline:
        for _ in range(1000):
            x += 1
    return x


op = sys.argv[1] if len(sys.argv) > 1 else ""
args = [int(a) for a in sys.argv[2:]]


def arg(i, default):
    return args[i] if len(args) > i else default


def op_syscalls():
    n, m = arg(0, 7), arg(1, 3)

    def work():
        for _ in range(n):
            os.getppid()
        for _ in range(m):
            try:
                os.mkdir("/tmp")
            except FileExistsError:
                pass
    return work


def op_pipeio():
    nr, nw, ms = arg(0, 3), arg(1, 2), arg(2, 250)
    r, w = os.pipe()

    def work():
        # R reads that each block until a timer writes one byte MS ms later.
        for _ in range(nr):
            t = threading.Timer(ms / 1000, os.write, (w, b"x"))
            t.start()
            os.read(r, 1)
            t.join()
        # Fill the pipe (non-blocking, fast), then W writes that each block until
        # a timer reads 4 KiB (one pipe buffer) MS ms later.
        fill_pipe(w)
        for _ in range(nw):
            t = threading.Timer(ms / 1000, os.read, (r, 4096))
            t.start()
            os.write(w, b"y" * 4096)
            t.join()
    return work


def op_blockio():
    nw, nr = arg(0, 8), arg(1, 5)
    path = "/var/tmp/blockio-target"
    size_kib = max(nw * 64, nr * 16)
    # Allocated and on disk before the trigger (overwrites need no allocation),
    # and dd's binary and libraries are in the page cache.
    subprocess.run(["dd", "if=/dev/zero", f"of={path}", "bs=1024", f"count={size_kib}", "conv=fsync", "status=none"], check=True)
    subprocess.run(["dd", f"if={path}", "of=/dev/null", "bs=4096", "count=1", "iflag=direct", "status=none"], check=True)

    def work():
        p = subprocess.Popen(["dd", "if=/dev/zero", f"of={path}", "bs=64k", f"count={nw}", "oflag=direct", "conv=notrunc", "status=none"])
        p.wait()
        q = subprocess.Popen(["dd", f"if={path}", "of=/dev/null", "bs=16k", f"count={nr}", "iflag=direct", "status=none"])
        q.wait()
        print(f"dd writer pid {p.pid} reader pid {q.pid}", flush=True)
    return work


def op_pagecache():
    nw, nr = arg(0, 8), arg(1, 4)
    wpath, rpath = "/var/tmp/pc-written", "/var/tmp/pc-read"
    for p in (wpath, rpath):
        if os.path.exists(p):
            os.unlink(p)
    fd = os.open(rpath, os.O_WRONLY | os.O_CREAT, 0o644)
    for _ in range(nr):
        os.write(fd, b"r" * 65536)
    os.fsync(fd)
    os.close(fd)
    fd = os.open(rpath, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    chunk = b"w" * 65536

    def work():
        wfd = os.open(wpath, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        for _ in range(nw):
            os.write(wfd, chunk)
        os.close(wfd)
        rfd = os.open(rpath, os.O_RDONLY)
        while os.read(rfd, 65536):
            pass
        os.close(rfd)
    return work


def op_select():
    n, ms = arg(0, 7), arg(1, 20)

    def work():
        for _ in range(n):
            select.select([], [], [], ms / 1000)
    return work


def op_offcpu():
    n, ms = arg(0, 5), arg(1, 100)
    r, w = os.pipe()
    go = threading.Event()

    def writer():
        name_thread("pipewriter")
        go.wait()
        for _ in range(n):
            time.sleep(ms / 1000)
            os.write(w, b"x")

    threading.Thread(target=writer, daemon=True).start()
    name_thread("blockreader")

    def work():
        go.set()
        blocked = 0.0
        for _ in range(n):
            t0 = time.monotonic()
            os.read(r, 1)
            blocked += time.monotonic() - t0
        print(f"blockreader blocked ms {round(blocked * 1000)}", flush=True)
    return work


def op_spin():
    s = arg(0, 3)
    out = {}

    def spinner():
        name_thread("spinner")
        c0 = time.thread_time()
        spin_until(time.monotonic() + s)
        out["cpu_ms"] = round((time.thread_time() - c0) * 1000)
        out["tid"] = threading.get_native_id()

    def work():
        t = threading.Thread(target=spinner)
        t.start()
        t.join()
        print(f"spinner tid {out['tid']} cpu_ms {out['cpu_ms']}", flush=True)
    return work


def op_runq():
    t = arg(0, 3)
    cpu = max(os.sched_getaffinity(0))

    def work():
        pipes, pids = [], []
        for _ in range(2):
            r, w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(r)
                os.sched_setaffinity(0, {cpu})
                name_thread("hog")
                w0, c0 = time.monotonic(), time.process_time()
                spin_until(w0 + t)
                wait_ms = round(((time.monotonic() - w0) - (time.process_time() - c0)) * 1000)
                os.write(w, str(wait_ms).encode())
                os._exit(0)
            os.close(w)
            pipes.append(r)
            pids.append(pid)
        waits = []
        for r, pid in zip(pipes, pids):
            waits.append(int(os.read(r, 64).decode()))
            os.waitpid(pid, 0)
        print(f"hogs on cpu {cpu} waited ms {waits[0]} {waits[1]} total {sum(waits)}", flush=True)
    return work


OPS = {"syscalls": op_syscalls, "pipeio": op_pipeio, "blockio": op_blockio, "pagecache": op_pagecache,
       "select": op_select, "offcpu": op_offcpu, "spin": op_spin, "runq": op_runq}
if op not in OPS:
    print(f"usage: host-ops.py {'|'.join(OPS)} [args]", file=sys.stderr)
    sys.exit(2)
work = OPS[op]()
print(f"ready: {op} {' '.join(sys.argv[2:])}", flush=True)
wait_for_trigger()
work()
print("done", flush=True)
idle()
