// Demo workload: a pretend checkout service that opens a TCP connection to a
// local "payments" listener every 50 ms and shells out once a second.
import net from 'node:net';
import { execFile } from 'node:child_process';
const server = net.createServer((s) => setTimeout(() => s.end('ok'), Math.random() * 5));
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`checkout: calling payments on 127.0.0.1:${port}`);
  setInterval(() => {
    const c = net.connect(port, '127.0.0.1');
    c.on('data', () => c.end());
    c.on('error', () => c.destroy());
  }, 50);
  setInterval(() => execFile('/bin/true', () => {}), 1000);
});
