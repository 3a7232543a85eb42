# After the trigger: N read(2)s on a pipe that each block ~MS ms (a timer
# thread writes one byte after MS ms). Usage: slow-read.py N MS
import os
import sys
import threading
from trigger import wait_for_trigger, idle

n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
ms = int(sys.argv[2]) if len(sys.argv) > 2 else 300
r, w = os.pipe()
print(f"ready: will do {n} reads blocking {ms} ms", flush=True)
wait_for_trigger()
for _ in range(n):
    t = threading.Timer(ms / 1000, os.write, (w, b"x"))
    t.start()
    os.read(r, 1)
    t.join()
print("done", flush=True)
idle()
