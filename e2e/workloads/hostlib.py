# Shared by host-ops.py and host-noisy.py: thread names and a full pipe.
import os
import threading


def name_thread(name):
    # prctl(PR_SET_NAME) without ctypes (not in python3-minimal): a thread may write its own comm.
    with open(f"/proc/self/task/{threading.get_native_id()}/comm", "w") as f:
        f.write(name)


def fill_pipe(w, chunk=b"x" * 4096):
    """Writes to pipe fd w until it is full (non-blocking), then makes it blocking again."""
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, chunk)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
