# A listener on 127.0.0.1 with backlog 0 that never accepts: after the trigger
# one connection fills its accept queue, so the kernel drops every SYN of a
# second one, which retransmits its SYN until it gives up after TIMEOUT s
# (deterministic loss inside the pod's own network namespace, no nft needed).
# Usage: syn-drop.py TIMEOUT_S
import socket
import sys
from trigger import wait_for_trigger, idle

timeout = float(sys.argv[1]) if len(sys.argv) > 1 else 2.5
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(0)
port = srv.getsockname()[1]
print(f"ready: listener 127.0.0.1:{port} (backlog 0, never accepts)", flush=True)
wait_for_trigger()
first = socket.create_connection(("127.0.0.1", port))
second = socket.socket()
second.settimeout(timeout)
try:
    second.connect(("127.0.0.1", port))
    print("unexpected: second connection established", flush=True)
except OSError as e:
    print(f"second connection from port {second.getsockname()[1]} gave up: {e!r}", flush=True)
second.close()
print("done", flush=True)
idle()
