/**
 * The agent's result record under a tenant's worst case, and what collecting it
 * costs the operator.
 *
 *   node --expose-gc --import tsx bench/result-record.ts [events] [pathLength]   (default 100000 200)
 *
 * Builds the result document a fileOpens run gives for `events` failed opens of
 * distinct paths (`maxEvents` = events, the 1000 largest of 4096 paths in each table),
 * then reports: the record's bytes unbounded (what an agent without a byte bound
 * writes) and bounded (RESULT_RECORD_LIMIT_BYTES, `boundDocument`), the time the
 * bound takes, and for the operator side — a signed record decoded line by line
 * from the log, then fitted into the result ConfigMap — the time and the growth of
 * the process RSS and heap, for the bounded and the unbounded record.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AgentLogDecoder, RESULT_RECORD_LIMIT_BYTES, encodeMessage } from '../src/agent/protocol.js';
import { buildResultConfigMap } from '../src/controller/collect.js';
import type { TraceJob } from '../src/api/tracejob.js';
import { boundDocument, parseResultDocument, type ResultDocument } from '../src/results/document.js';

const events = Number(process.argv[2] ?? 100_000);
const pathLength = Number(process.argv[3] ?? 200);
const KEY = 'b'.repeat(43);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

const path = (i: number) => {
  const head = `/tmp/nx/${String(i).padStart(6, '0')}-`;
  return head + 'p'.repeat(Math.max(0, pathLength - head.length));
};

function hostileDocument(): ResultDocument {
  const rows = (col: string) => ({ name: `opens by ${col}`, columns: [col, 'opens'], rows: Array.from({ length: 1000 }, (_, i) => [path(i), 1]), totalRows: 4096, truncated: true });
  return parseResultDocument({
    probe: 'fileOpens',
    tracer: { name: 'bpftrace', version: '0.23.2' },
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:15.000Z',
    durationSeconds: 15,
    counters: { opens: events, failed: events },
    tables: [rows('path'), { ...rows('path'), name: 'failed opens by path', columns: ['path', 'failures'] }],
    events: Array.from({ length: events }, (_, i) => ({ kind: 'open', pid: 4242, ret: -2, comm: 'node', path: path(i) })),
  });
}

const tj = { apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { namespace: 'bench', name: 'opens', uid: 'u', generation: 1 }, spec: {} } as unknown as TraceJob;

/** The operator's collect path for one record line: decode, then build the ConfigMap. */
function collect(line: string): { ms: number; rss: number; heap: number; cmBytes: number } {
  gc();
  const rss0 = process.memoryUsage().rss;
  const heap0 = process.memoryUsage().heapUsed;
  let peakRss = rss0;
  let peakHeap = heap0;
  const t0 = performance.now();
  const decoder = new AgentLogDecoder(KEY);
  decoder.push(line);
  const msg = decoder.messages[0];
  if (msg?.tracejob !== 'result') throw new Error('no result decoded');
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const built = buildResultConfigMap(tj, [{ node: 'n1', job: 'j', verdict: { state: 'succeeded' }, document: msg.document }]);
  const ms = performance.now() - t0;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const cmBytes = Object.entries(built.configMap.data ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  return { ms, rss: peakRss - rss0, heap: peakHeap - heap0, cmBytes };
}

const mode = process.argv[4];
if (mode === 'bounded' || mode === 'unbounded') {
  // Child: only the record line stays alive, as in the operator, which never sees the document unbounded.
  let doc: ResultDocument | undefined = hostileDocument();
  const line = mode === 'bounded' ? record(boundDocument(doc, RESULT_RECORD_LIMIT_BYTES - 512).document) : record(doc);
  doc = undefined;
  const r = collect(line);
  console.log(`operator, ${mode} record (${mib(Buffer.byteLength(line))}): ${r.ms.toFixed(0)} ms, RSS +${mib(r.rss)}, heap +${mib(r.heap)}, ConfigMap ${r.cmBytes} bytes`);
} else {
  const doc = hostileDocument();
  const unboundedLine = record(doc);
  const t0 = performance.now();
  const bounded = boundDocument(doc, RESULT_RECORD_LIMIT_BYTES - 512);
  const boundMs = performance.now() - t0;
  const boundedLine = record(bounded.document);
  console.log(`${events} events, paths of ${pathLength} characters`);
  console.log(`record unbounded: ${Buffer.byteLength(unboundedLine)} bytes (${mib(Buffer.byteLength(unboundedLine))})`);
  console.log(`record bounded:   ${Buffer.byteLength(boundedLine)} bytes (${mib(Buffer.byteLength(boundedLine))}); the agent's cut took ${boundMs.toFixed(0)} ms: ${bounded.cuts.join('; ')}`);
  for (const m of ['bounded', 'unbounded']) {
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), String(events), String(pathLength), m], { encoding: 'utf8' });
    process.stdout.write(r.stdout || r.stderr);
  }
}

function record(d: ResultDocument): string {
  return encodeMessage({ tracejob: 'result', at: new Date().toISOString(), document: d as unknown as Record<string, unknown> }, KEY);
}
