// Overhead workload: does one kind of operation as fast as it can and prints
// the cumulative count with a timestamp every 250 ms, so a benchmark can
// compare the rate before and during a trace in one run.
//   node rate.js connect | syscall | cpu
import net from 'node:net';
import { openSync, readSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';

const mode = process.argv[2] ?? 'cpu';
let ops = 0;
setInterval(() => console.log(`t=${Date.now()} ops=${ops}`), 250);

if (mode === 'connect') {
  const server = net.createServer((s) => s.end());
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address();
    const once = () => {
      const c = net.connect(port, '127.0.0.1', () => c.end());
      c.on('close', () => {
        ops++;
        setImmediate(once);
      });
      c.on('error', () => setImmediate(once));
    };
    for (let i = 0; i < 4; i++) once();
  });
} else if (mode === 'syscall') {
  const zero = openSync('/dev/zero', 'r');
  const sink = openSync('/dev/null', 'w');
  const buf = Buffer.alloc(512);
  const burst = () => {
    for (let i = 0; i < 2000; i++) {
      readSync(zero, buf, 0, 512, null);
      writeSync(sink, buf, 0, 512);
      ops++;
    }
    setImmediate(burst);
  };
  burst();
} else {
  const burst = () => {
    for (let i = 0; i < 2000; i++) {
      createHash('sha256').update(String(i)).digest();
      ops++;
    }
    setImmediate(burst);
  };
  burst();
}
