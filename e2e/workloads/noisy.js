import { execFileSync } from 'node:child_process';
console.log('noisy neighbour: exec /bin/ls every 200ms');
setInterval(() => execFileSync('/bin/ls', ['/']), 200);
