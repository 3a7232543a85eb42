# The noisy neighbour for the catalog-net tests: never waits, and in its own
# network namespace does the same network work as net-ops.js / syn-drop.py on
# the same loopback ports, all the time, so a trace of another pod that counts
# any of it is leaking:
#   every 200 ms one TCP connection accepted by a listener on 127.0.0.1:7100,
#   which then gets a 1000-byte and a 9000-byte send (TCP_NODELAY);
#   every 200 ms two 1000-byte UDP datagrams to a receiver on 127.0.0.1:7101;
#   a listener on 127.0.0.1:7105 with backlog 0 that never accepts, kept full,
#   and a connection attempt to it always pending (its SYNs overflow the queue;
#   a fresh attempt every second).
import socket
import threading
import time


def drain(conn):
    with conn:
        while conn.recv(65536):
            pass


def tcp_server():
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 7100))
    srv.listen(64)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


def udp_server():
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 7101))
    while True:
        rx.recv(65536)


def syn_flood():
    full = socket.socket()
    full.bind(("127.0.0.1", 7105))
    full.listen(0)
    filler = socket.create_connection(("127.0.0.1", 7105))
    while True:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", 7105))
        time.sleep(1)
        s.close()
    filler.close()


for target in (tcp_server, udp_server, syn_flood):
    threading.Thread(target=target, daemon=True).start()
time.sleep(0.5)
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print("noisy neighbour: tcp accept+sends on :7100, udp on :7101, syn overflow on :7105 all the time", flush=True)
while True:
    try:
        c = socket.create_connection(("127.0.0.1", 7100))
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sendall(b"n" * 1000)
        c.sendall(b"n" * 9000)
        c.close()
    except OSError as e:
        print(f"tcp: {e!r}", flush=True)
    tx.sendto(b"n" * 1000, ("127.0.0.1", 7101))
    tx.sendto(b"n" * 1000, ("127.0.0.1", 7101))
    time.sleep(0.2)
