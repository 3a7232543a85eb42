import { execFileSync } from 'node:child_process';
import { waitForTrigger, idle } from './trigger.js';
const n = Number(process.argv[2] ?? 7);
const path = process.argv[3] ?? '/bin/true';
console.log(`ready: will exec ${path} ${n} times`);
await waitForTrigger();
for (let i = 0; i < n; i++) execFileSync(path);
console.log('done');
// --exit: the container ends right after its work (target-exits-mid-trace tests).
if (process.argv.includes('--exit')) process.exit(0);
idle();
