// Loopback network work inside the pod's own network namespace, done exactly
// as told after the trigger (sockets, listeners and connections that are not
// the measured work are set up before it). Every step is awaited, so the work
// is strictly sequential and completely delivered before `done` is printed.
//   accept N [port]            listener on 127.0.0.1:port (default 7100, accepts, closes each connection);
//                              N sequential client connections to it
//   udp N SIZE [port]          N UDP datagrams of SIZE payload bytes to a bound receiver on 127.0.0.1:port
//                              (default 7101), each awaited until received (no ICMP: the port is open)
//   send S1,S2,… [port]        one TCP connection (TCP_NODELAY) to a reading listener on 127.0.0.1:port
//                              (default 7102), connected before the trigger; one write(2) per size,
//                              each awaited until the peer has read it all
//   traffic TCPBYTES N SIZE    TCPBYTES over one loopback TCP connection (connected before the trigger,
//                              64 KiB writes) to 127.0.0.1:7103, then N UDP datagrams of SIZE bytes to
//                              127.0.0.1:7104; the same process sends and receives everything
import dgram from 'node:dgram';
import net from 'node:net';
import { waitForTrigger, idle } from './trigger.js';

const [op = '', a1 = '', a2 = '', a3 = ''] = process.argv.slice(2);

const listen = (server, port) => new Promise((r, j) => server.once('error', j).listen(port, '127.0.0.1', () => r(server.address().port)));

/** A TCP listener that reads everything; `until(n)` resolves once n bytes in all have arrived. */
async function reader(port) {
  let got = 0;
  let waiters = [];
  const server = net.createServer((s) =>
    s.on('data', (d) => {
      got += d.length;
      waiters = waiters.filter(([n, r]) => (got >= n ? (r(), false) : true));
    }),
  );
  await listen(server, port);
  const until = (n) => new Promise((r) => (got >= n ? r() : waiters.push([n, r])));
  return { until };
}

async function connect(port) {
  const c = net.connect({ port, host: '127.0.0.1', noDelay: true });
  await new Promise((r, j) => c.once('connect', r).once('error', j));
  c.setNoDelay(true);
  return c;
}

/** A bound UDP receiver and a sender; `send(buf)` resolves when the datagram has been received. */
async function udpPair(port) {
  const rx = dgram.createSocket('udp4');
  const tx = dgram.createSocket('udp4');
  let pending;
  rx.on('message', () => pending?.());
  await new Promise((r) => rx.bind(port, '127.0.0.1', r));
  await new Promise((r) => tx.bind(0, '127.0.0.1', r));
  const send = (buf) =>
    new Promise((r, j) => {
      pending = r;
      tx.send(buf, port, '127.0.0.1', (e) => e && j(e));
    });
  return { send };
}

const ops = {
  async accept() {
    const n = Number(a1 || 7);
    const server = net.createServer((s) => s.end());
    const port = await listen(server, Number(a2 || 7100));
    console.log(`ready: ${n} connections to listener 127.0.0.1:${port}`);
    return async () => {
      for (let i = 0; i < n; i++) {
        await new Promise((resolve, reject) => {
          const c = net.connect(port, '127.0.0.1', () => c.end());
          c.on('close', resolve);
          c.on('error', reject);
        });
      }
    };
  },
  async udp() {
    const n = Number(a1 || 7);
    const size = Number(a2 || 1000);
    const port = Number(a3 || 7101);
    const { send } = await udpPair(port);
    console.log(`ready: ${n} datagrams of ${size} bytes to 127.0.0.1:${port}`);
    const buf = Buffer.alloc(size, 'u');
    return async () => {
      for (let i = 0; i < n; i++) await send(buf);
    };
  },
  async send() {
    const sizes = (a1 || '100,1000').split(',').map(Number);
    const port = Number(a2 || 7102);
    const { until } = await reader(port);
    const c = await connect(port);
    console.log(`ready: writes of ${sizes.join(',')} bytes to 127.0.0.1:${port}`);
    return async () => {
      let total = 0;
      for (const size of sizes) {
        total += size;
        c.write(Buffer.alloc(size, 's'));
        await until(total);
      }
    };
  },
  async traffic() {
    const tcpBytes = Number(a1 || 100000);
    const n = Number(a2 || 5);
    const size = Number(a3 || 1200);
    const { until } = await reader(7103);
    const c = await connect(7103);
    const { send } = await udpPair(7104);
    console.log(`ready: ${tcpBytes} TCP bytes, ${n} UDP datagrams of ${size} bytes`);
    return async () => {
      for (let sent = 0; sent < tcpBytes; ) {
        const chunk = Math.min(65536, tcpBytes - sent);
        sent += chunk;
        c.write(Buffer.alloc(chunk, 't'));
        await until(sent);
      }
      const buf = Buffer.alloc(size, 'u');
      for (let i = 0; i < n; i++) await send(buf);
    };
  },
};

const setup = ops[op];
if (!setup) {
  console.error(`unknown op ${op} (one of ${Object.keys(ops).join(', ')})`);
  process.exit(2);
}
const work = await setup();
await waitForTrigger();
await work();
console.log('done');
idle();
