# The noisy neighbour for the host-probe tests (catalog-host.e2e.test.ts): never
# waits, and every 200 ms does the same kinds of work as host-ops.py with the same
# thread names, so a trace of another pod that counts any of it is leaking:
#   main thread "hog":   getppid, mkdir /tmp (EEXIST), select() with a 20 ms timeout,
#                        a blocking pipe read and write, a fresh 64 KiB buffered write
#                        and an evicted 64 KiB read; every second a dd O_DIRECT write+read
#   thread "spinner":    spins 20 ms in user space
#   thread "blockreader" blocks ~20 ms in a pipe read fed by thread "pipewriter"
import os
import select
import subprocess
import threading
import time
from hostlib import fill_pipe, name_thread


def every(period, fn):
    while True:
        t0 = time.monotonic()
        fn()
        time.sleep(max(0.0, period - (time.monotonic() - t0)))


def spinner():
    name_thread("spinner")

    def burn():
        end = time.monotonic() + 0.02
        while time.monotonic() < end:
            pass
    every(0.2, burn)


r, w = os.pipe()


def pipewriter():
    name_thread("pipewriter")

    def feed():
        time.sleep(0.02)
        os.write(w, b"x")
    every(0.2, feed)


def blockreader():
    name_thread("blockreader")
    every(0.2, lambda: os.read(r, 1))


for fn in (spinner, pipewriter, blockreader):
    threading.Thread(target=fn, daemon=True).start()
name_thread("hog")

pr, pw = os.pipe()
fill_pipe(pw, b"f" * 4096)
blk = "/var/tmp/noisy-direct"
subprocess.run(["dd", "if=/dev/zero", f"of={blk}", "bs=64k", "count=1", "conv=fsync", "status=none"], check=True)
print("noisy neighbour: syscalls, select, pipe io, page cache, block io, spinning and blocking threads every 200ms", flush=True)
tick = 0


def main_work():
    global tick
    tick += 1
    os.getppid()
    try:
        os.mkdir("/tmp")
    except FileExistsError:
        pass
    select.select([], [], [], 0.02)
    # A pipe write that blocks until a timer frees one buffer 20 ms later.
    t = threading.Timer(0.02, os.read, (pr, 4096))
    t.start()
    os.write(pw, b"f" * 4096)
    t.join()
    # Page cache: a fresh 64 KiB file (16 new dirty pages), and reading one that was evicted.
    path = f"/var/tmp/noisy-pc-{tick % 2}"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"n" * 65536)
    os.fsync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.pread(fd, 65536, 0)
    os.close(fd)
    if tick % 5 == 0:
        subprocess.run(["dd", "if=/dev/zero", f"of={blk}", "bs=64k", "count=1", "oflag=direct", "conv=notrunc", "status=none"])
        subprocess.run(["dd", f"if={blk}", "of=/dev/null", "bs=16k", "count=1", "iflag=direct", "status=none"])


every(0.2, main_work)
