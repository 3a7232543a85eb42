# A receiver that peeks: one loopback TCP connection inside this python3
# process (listener, client and accepted socket set up before the trigger);
# after the trigger the client sends N messages of SIZE bytes, one at a time,
# and the server looks at each with recv(MSG_PEEK) until all SIZE bytes are
# there, then reads it with one recv(MSG_WAITALL). Bytes received: N × SIZE
# (a peek leaves the data in the socket; only the read consumes it).
# Usage: net-peek.py N SIZE
import socket
import sys
from trigger import wait_for_trigger, idle

n = int(sys.argv[1]) if len(sys.argv) > 1 else 5
size = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
port = srv.getsockname()[1]
client = socket.create_connection(("127.0.0.1", port))
client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
conn, _ = srv.accept()
print(f"ready: {n} messages of {size} bytes over 127.0.0.1:{port}, each peeked then read", flush=True)
wait_for_trigger()
for _ in range(n):
    client.sendall(b"p" * size)
    while len(conn.recv(size, socket.MSG_PEEK)) < size:
        pass
    data = conn.recv(size, socket.MSG_WAITALL)
    assert len(data) == size, len(data)
print("done", flush=True)
idle()
