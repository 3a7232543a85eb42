#!/usr/bin/env node
// kubectl-tracejob: the kubectl plugin entry point (`kubectl tracejob ...` once
// dist/cli/main.js is on PATH as kubectl-tracejob). See ./app.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli } from './app.js';
import { KubeTraceJobClient } from './client.js';

process.on('SIGINT', () => {
  process.stderr.write('\ninterrupted; a created TraceJob keeps running (`kubectl tracejob delete NAME` stops it)\n');
  process.exit(130);
});

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  readFile: (path) => readFileSync(path, 'utf8'),
  writeFile: (path, data) => writeFileSync(path, data),
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
  connect: (options) => new KubeTraceJobClient(options),
});
