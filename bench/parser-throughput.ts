/**
 * Throughput of the bpftrace NDJSON parser (src/results/bpftrace-json.ts).
 *
 *   node --import tsx bench/parser-throughput.ts [MB]      (default 50)
 *
 * Generates ~MB of realistic `-f json` output in memory (seeded, so every run
 * parses the same bytes): mostly printf events as a `printf`-heavy probe
 * prints them, with `time` markers and interval dumps of keyed maps, log2
 * histograms, keyed histograms and kstack maps, occasional lost_events and
 * helper_error records, and the v0.17 blank lines. Then it reports MB/s and
 * lines/s (best of 3 runs) for the whole-text API, the streaming API fed 64 KiB
 * chunks, the same with `maxPrintf: Infinity` (every event kept), and a bare
 * `JSON.parse` per line as a reference point.
 */
import { createParser, parseBpftraceJson } from '../src/results/bpftrace-json.js';

const targetMB = Number(process.argv[2] ?? 50);

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const rand = rng(42);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
const COMMS = ['curl', 'nginx', 'python3', 'java', 'node', 'postgres', 'redis-server', 'sh', 'bash', 'envoy', 'kworker/u8:1', 'containerd-shim'];
const FILES = ['/etc/hosts', '/etc/resolv.conf', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/proc/self/stat', '/var/lib/app/data.db', '/tmp/x "quoted"'];
const FRAMES = ['vfs_read+10', 'ksys_read+99', 'do_syscall_64+113', 'entry_SYSCALL_64_after_hwframe+118', 'schedule+35', '__schedule+996', 'finish_task_switch.isra.0+147', 'do_nanosleep+94', 'tcp_sendmsg+52', 'sock_sendmsg+93', 'ext4_file_read_iter+12', 'filemap_read+300'];

function printfLine(): string {
  const text = `${Math.floor(rand() * 4_000_000)} ${pick(COMMS)} ${pick(FILES)} ${Math.floor(rand() * 100000)}\n`;
  return JSON.stringify({ type: 'printf', data: text }).replace('{"type":"printf","data":', '{"type": "printf", "data": ');
}

function keyedMap(name: string, n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`"${Math.floor(rand() * 60000)},${pick(COMMS)}": ${Math.floor(rand() * 1e6)}`);
  return `{"type": "map", "data": {"${name}": {${parts.join(', ')}}}}`;
}

function buckets(): string {
  const out: string[] = [];
  for (let k = 0; k < 20; k++) {
    const min = k === 0 ? 0 : 2 ** (k - 1);
    const max = k === 0 ? 0 : 2 ** k - 1;
    out.push(`{"min": ${min}, "max": ${max}, "count": ${Math.floor(rand() * 5000)}}`);
  }
  return `[${out.join(', ')}]`;
}

function stackMap(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const depth = 3 + Math.floor(rand() * 10);
    let key = '\\n';
    for (let d = 0; d < depth; d++) key += `    ${pick(FRAMES)}\\n`;
    parts.push(`"${key}": ${1 + Math.floor(rand() * 50)}`);
  }
  return `{"type": "map", "data": {"@stacks": {${parts.join(', ')}}}}`;
}

function generate(bytes: number): { text: string; lines: number } {
  const chunks: string[] = [];
  let size = 0;
  let lines = 0;
  let tick = 0;
  const add = (l: string): void => {
    chunks.push(l, '\n');
    size += l.length + 1;
    lines++;
  };
  add('{"type": "attached_probes", "data": {"probes": 4}}');
  while (size < bytes) {
    for (let i = 0; i < 2000; i++) add(printfLine());
    if (rand() < 0.3) add(`{"type": "lost_events", "data": {"events": ${Math.floor(rand() * 500)}}}`);
    if (rand() < 0.1) add('{"type": "helper_error", "helper": "probe_read", "retcode": -14, "line": 1, "col": 31}');
    add(`{"type": "time", "data": "10:00:${String(tick++ % 60).padStart(2, '0')}\\n"}`);
    add(keyedMap('@bytes', 300));
    add(`{"type": "hist", "data": {"@usecs": ${buckets()}}}`);
    add(`{"type": "hist", "data": {"@hk": {${COMMS.map((c) => `"${c}": ${buckets()}`).join(', ')}}}}`);
    add(stackMap(150));
  }
  add('');
  add('');
  add(keyedMap('@final', 1000));
  return { text: chunks.join(''), lines };
}

/** Best of `runs` (the machine may be shared: the best run is the least disturbed). */
function time<T>(fn: () => T, runs = 3): { ms: number; result: T } {
  let best = Infinity;
  let result: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    result = fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { ms: best, result: result as T };
}

const { text, lines } = generate(targetMB * 1024 * 1024);
const mb = Buffer.byteLength(text) / (1024 * 1024);
console.log(`input: ${mb.toFixed(1)} MiB, ${lines} lines (seeded)`);

const report = (label: string, ms: number): void => {
  console.log(`${label.padEnd(34)} ${(mb / (ms / 1000)).toFixed(1).padStart(7)} MiB/s ${Math.round(lines / (ms / 1000)).toLocaleString('en-US').padStart(12)} lines/s  (${ms.toFixed(0)} ms)`);
};

// Warm-up on a slice so the JIT has seen every path.
parseBpftraceJson(text.slice(0, 2 * 1024 * 1024));

const whole = time(() => parseBpftraceJson(text));
report('parseBpftraceJson (whole text)', whole.ms);

const streamed = time(() => {
  const p = createParser();
  for (let i = 0; i < text.length; i += 65536) p.write(text.slice(i, i + 65536));
  return p.finish();
});
report('createParser().write (64 KiB chunks)', streamed.ms);

const keepAll = time(() => parseBpftraceJson(text, { maxPrintf: Infinity }));
report('whole text, every printf kept', keepAll.ms);

const naive = time(() => {
  let n = 0;
  for (const l of text.split('\n')) {
    if (!l) continue;
    JSON.parse(l);
    n++;
  }
  return n;
});
report('reference: JSON.parse per line', naive.ms);

const r = whole.result;
console.log(
  `parsed: ${r.records} records, ${r.printf.length} printf kept (+${r.printfDropped} counted), ${r.snapshots.length} snapshots (+${r.snapshotsDropped} dropped), lost ${r.lostEvents}, warnings ${r.warnings.length}`,
);
if (r.lines !== lines || streamed.result.records !== r.records) {
  console.error('mismatch between runs');
  process.exitCode = 1;
}
