import net from 'node:net';
import { waitForTrigger, idle } from './trigger.js';
const n = Number(process.argv[2] ?? 7);
const server = net.createServer((s) => s.end());
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const { port } = server.address();
console.log(`ready: will open ${n} connections to 127.0.0.1:${port}`);
await waitForTrigger();
for (let i = 0; i < n; i++) {
  await new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => c.end());
    c.on('close', resolve);
    c.on('error', reject);
  });
}
console.log('done');
idle();
