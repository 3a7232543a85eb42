# After the trigger: K threads take one threading.Lock M times each and hold it
# ~HOLD ms (sleeping, GIL released), so the others block in futex waits.
# The main thread polls with sleep instead of join (join would be a futex wait
# of its own). Usage: futex-contend.py K M HOLD_MS
import sys
import threading
import time
from trigger import wait_for_trigger, idle

k = int(sys.argv[1]) if len(sys.argv) > 1 else 4
m = int(sys.argv[2]) if len(sys.argv) > 2 else 10
hold = (int(sys.argv[3]) if len(sys.argv) > 3 else 10) / 1000
lock = threading.Lock()


def worker():
    for _ in range(m):
        with lock:
            time.sleep(hold)


print(f"ready: {k} threads x {m} acquisitions, hold {hold}s", flush=True)
wait_for_trigger()
threads = [threading.Thread(target=worker) for _ in range(k)]
for t in threads:
    t.start()
while any(t.is_alive() for t in threads):
    time.sleep(0.05)
print("done", flush=True)
idle()
