// Shared by the workloads: resolve once /tmp/go exists (polled, no exec).
import { existsSync } from 'node:fs';
export function waitForTrigger(path = '/tmp/go') {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (existsSync(path)) {
        clearInterval(timer);
        resolve();
      }
    }, 100);
  });
}
export function idle() {
  setInterval(() => {}, 1 << 30);
}
