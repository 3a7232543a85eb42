# Loss on an established TCP connection inside the pod's own network namespace:
# a loopback connection is opened before the trigger; after it, an nft rule drops
# packets to the server port on input (so each transmit succeeds and is lost, which
# is what the kernel counts as a retransmit; a drop on output fails the send instead)
# for DROP_S seconds while the client sends one byte, so the kernel retransmits it
# (TLP, then RTO with backoff) until the rule goes and the byte is delivered. The kernel's own count of this socket's
# retransmits (TCP_INFO tcpi_total_retrans) is printed as the ground truth.
# Needs CAP_NET_ADMIN in the pod (its own netns only) and nft in the image.
# Usage: retrans-drop.py DROP_S
import socket
import struct
import subprocess
import sys
import threading
from trigger import wait_for_trigger, idle

drop_s = float(sys.argv[1]) if len(sys.argv) > 1 else 1.5
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
sport = srv.getsockname()[1]
received = threading.Event()


def serve():
    conn, _ = srv.accept()
    while conn.recv(1):
        received.set()


threading.Thread(target=serve, daemon=True).start()
cli = socket.create_connection(("127.0.0.1", sport))
cli.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
cport = cli.getsockname()[1]
print(f"ready: client 127.0.0.1:{cport} -> server 127.0.0.1:{sport}", flush=True)

nft_rules = f"""table inet tjdrop {{
  chain in {{
    type filter hook input priority 0; policy accept;
    tcp dport {sport} drop
  }}
}}
"""

wait_for_trigger()
subprocess.run(["nft", "-f", "-"], input=nft_rules, text=True, check=True)
cli.send(b"x")
threading.Event().wait(drop_s)
subprocess.run(["nft", "delete", "table", "inet", "tjdrop"], check=True)
if not received.wait(30):
    print("unexpected: byte not delivered", flush=True)
# struct tcp_info: 8 bytes of u8 fields, then u32s; tcpi_total_retrans is the 24th u32.
info = cli.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
total_retrans = struct.unpack_from("I", info, 8 + 23 * 4)[0]
print(f"client port {cport} total_retrans {total_retrans}", flush=True)
print("done", flush=True)
idle()
