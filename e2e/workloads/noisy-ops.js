// The noisy neighbour for the catalog tests: never waits, and every 200 ms does
// the same kinds of work as ops-n.js / tcp / futex workloads (fsync, open of
// /etc/os-release, UDP to a closed port, getaddrinfo("localhost"), bind of port
// 7000, a loopback TCP connection), so a trace of another pod that counts any of
// it is leaking.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';

const fd = openSync('/tmp/fsync-target', 'w');
const udp = dgram.createSocket('udp4');
const echo = net.createServer((s) => s.end());
await new Promise((r) => echo.listen(0, '127.0.0.1', r));
const { port } = echo.address();
console.log('noisy neighbour: fsync, open, udp, dns, bind, connect every 200ms');
setInterval(async () => {
  writeSync(fd, 'x');
  fsyncSync(fd);
  closeSync(openSync('/etc/os-release', 'r'));
  udp.send('x', 9, '127.0.0.1');
  await dns.lookup('localhost').catch(() => {});
  const server = net.createServer();
  await new Promise((r) => server.once('error', r).listen(7000, '0.0.0.0', r));
  server.close();
  const c = net.connect(port, '127.0.0.1', () => c.end());
  c.on('error', () => {});
}, 200);
