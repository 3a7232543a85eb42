# After the trigger, grows memory 1 MiB at a time until the cgroup's memory
# limit OOM-kills it (run it as the container's main process, restartPolicy Never).
import sys
from trigger import wait_for_trigger

print("ready: will grow memory until OOM-killed", flush=True)
wait_for_trigger()
hog = []
while True:
    hog.append(bytearray(1 << 20))
    if len(hog) > 4096:
        sys.exit("not killed after 4 GiB")
