// One kind of syscall-level work, done exactly N times after the trigger:
//   fsync N [file]        write 1 byte + fsync(2) on one file (opened before the trigger)
//   open N [path]         open(2)+close(2) of path (default /etc/os-release)
//   udp N [port]          one UDP datagram to 127.0.0.1:port (default 9, closed) per send
//   dns N [host]          dns.lookup(host) (libc getaddrinfo in the libuv threadpool), default localhost
//   bind N [port]         listen on 0.0.0.0:port (default 7000), then close; one bind(2) each
//   direct N [file]       dd overwrites N 4 KiB blocks of an allocated file with O_DIRECT (one write I/O each)
//   openfail N [len]      open(2) of N distinct paths of len characters (default 200) that do not exist (ENOENT each);
//                         the number leads each path, so they differ within a tracer's 64-byte string limit too
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import { waitForTrigger, idle } from './trigger.js';

const [op = '', nArg = '7', arg] = process.argv.slice(2);
const n = Number(nArg);
const ops = {
  async fsync() {
    const fd = openSync(arg ?? '/tmp/fsync-target', 'w');
    return () => {
      for (let i = 0; i < n; i++) {
        writeSync(fd, 'x');
        fsyncSync(fd);
      }
    };
  },
  async open() {
    const path = arg ?? '/etc/os-release';
    return () => {
      for (let i = 0; i < n; i++) closeSync(openSync(path, 'r'));
    };
  },
  async udp() {
    const port = Number(arg ?? 9);
    const sock = dgram.createSocket('udp4');
    // Bound before the trigger, so the work is only the sends.
    await new Promise((r) => sock.bind(0, '127.0.0.1', r));
    return async () => {
      for (let i = 0; i < n; i++) await new Promise((r, j) => sock.send('x', port, '127.0.0.1', (e) => (e ? j(e) : r())));
    };
  },
  async dns() {
    const host = arg ?? 'localhost';
    return async () => {
      for (let i = 0; i < n; i++) await dns.lookup(host);
    };
  },
  async bind() {
    const port = Number(arg ?? 7000);
    return async () => {
      for (let i = 0; i < n; i++) {
        const server = net.createServer();
        await new Promise((r) => server.listen(port, '0.0.0.0', r));
        await new Promise((r) => server.close(r));
      }
    };
  },
  async openfail() {
    const len = Number(arg ?? 200);
    const pathOf = (i) => {
      const head = `/tmp/nx/${String(i).padStart(6, '0')}-`;
      return head + 'p'.repeat(Math.max(0, len - head.length));
    };
    return () => {
      for (let i = 0; i < n; i++) {
        try {
          closeSync(openSync(pathOf(i), 'r'));
        } catch {
          // ENOENT is the point.
        }
      }
    };
  },
  async direct() {
    const file = arg ?? '/var/tmp/direct-target';
    // Allocated and on disk before the trigger, so the overwrites need no block allocation.
    execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=4096', `count=${n}`, 'conv=fsync', 'status=none']);
    return () => {
      execFileSync('dd', ['if=/dev/zero', `of=${file}`, 'bs=4096', `count=${n}`, 'oflag=direct', 'conv=notrunc', 'status=none']);
    };
  },
};
if (!(op in ops)) {
  console.error(`usage: ops-n.js ${Object.keys(ops).join('|')} N [arg]`);
  process.exit(2);
}
const work = await ops[op]();
console.log(`ready: will do ${op} ${n} times`);
await waitForTrigger();
await work();
console.log('done');
idle();
