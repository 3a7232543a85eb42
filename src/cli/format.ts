// Pure formatting for the kubectl plugin: the live progress line, kubectl-style
// column tables, ages and short durations, target descriptions. No I/O, no
// clocks (callers pass `now`), so everything here is unit-tested.
// Values from the cluster may hold workload-chosen text (status messages quote
// tracer output): every cell and value is escaped with `printable()`.
import { Document, visit } from 'yaml';
import type { TraceJob, TraceJobSpecInput, TraceJobStatus } from '../api/tracejob.js';
import { needsEscape, printable, printableJson, printableText, printableYamlText } from '../results/safe-text.js';

/** Conditions a run passes through before its terminal one, in order. */
export const PROGRESS_STEPS = ['Accepted', 'TargetResolved', 'NodeJobCreated', 'Attached'] as const;

const TERMINAL = new Set(['Succeeded', 'Failed']);

/** "850ms", "12s", "1m05s", "1h02m". Negative values count as 0. */
export function formatShortDuration(ms: number): string {
  const v = Math.max(0, ms);
  if (v < 1000) return `${Math.round(v)}ms`;
  const s = Math.floor(v / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h${String(m % 60).padStart(2, '0')}m`;
}

/** kubectl-style age: "45s", "2m10s" (under 10m), "37m", "5h", "3d". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return `${m}m${s % 60 === 0 ? '' : `${s % 60}s`}`;
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** Age of a timestamp (ISO string or Date) at `nowMs`; "<unknown>" if absent. */
export function ageOf(ts: string | Date | undefined, nowMs: number): string {
  if (ts === undefined) return '<unknown>';
  const t = ts instanceof Date ? ts.getTime() : Date.parse(ts);
  return Number.isFinite(t) ? formatAge(nowMs - t) : '<unknown>';
}

/** `[#########...............]` for a fraction in [0, 1] (clamped). */
export function progressBar(fraction: number, width = 24): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export interface ProgressState {
  phase: string;
  /** Progress conditions with status True, in PROGRESS_STEPS order. */
  reached: string[];
  /** Fraction of the trace duration elapsed since attach (undefined before attach). */
  fraction?: number;
  remainingMs?: number;
  terminal: boolean;
}

/** True when the status describes the object's current generation. */
export function statusIsCurrent(tj: Pick<TraceJob, 'metadata' | 'status'>): boolean {
  const gen = tj.metadata.generation;
  return tj.status?.observedGeneration !== undefined && (gen === undefined || tj.status.observedGeneration === gen);
}

export function progressState(tj: Pick<TraceJob, 'metadata' | 'status'>, durationMs: number, nowMs: number): ProgressState {
  const current = statusIsCurrent(tj);
  const status: TraceJobStatus = current ? (tj.status ?? {}) : {};
  const phase = status.phase ?? 'Pending';
  const isTrue = (type: string): boolean => status.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;
  const reached = PROGRESS_STEPS.filter(isTrue);
  const state: ProgressState = { phase, reached, terminal: TERMINAL.has(phase) };
  const attached = status.timing?.attached ? Date.parse(status.timing.attached) : NaN;
  if (phase === 'Succeeded') {
    state.fraction = 1;
    state.remainingMs = 0;
  } else if (Number.isFinite(attached) && durationMs > 0) {
    const elapsed = nowMs - attached;
    state.fraction = Math.min(1, Math.max(0, elapsed / durationMs));
    state.remainingMs = Math.max(0, durationMs - elapsed);
  }
  return state;
}

export interface ProgressLineOptions {
  barWidth?: number;
  /** When the CLI started waiting (for "elapsed" before the tracer attaches). */
  waitStartedMs?: number;
}

/**
 * One line of live progress, e.g.
 *   `Running    4/4 Attached        [#########...............]  38%  19s left`
 * Before attach the bar is empty and the line says what the run waits for;
 * past the duration it says the result is being collected.
 */
export function progressLine(tj: Pick<TraceJob, 'metadata' | 'status'>, durationMs: number, nowMs: number, options: ProgressLineOptions = {}): string {
  const st = progressState(tj, durationMs, nowMs);
  const width = options.barWidth ?? 24;
  const steps = `${st.reached.length}/${PROGRESS_STEPS.length} ${st.reached.at(-1) ?? 'waiting'}`;
  const head = `${st.phase.padEnd(9)}  ${steps.padEnd(18)}`;
  const current = statusIsCurrent(tj);
  if (st.phase === 'Failed') {
    const failed = tj.status?.conditions?.find((c) => c.type === 'Failed');
    return printable(`${head}  ${failed?.reason ?? 'Failed'}: ${tj.status?.message ?? failed?.message ?? ''}`.trimEnd());
  }
  if (st.phase === 'Succeeded') {
    const t = tj.status?.timing;
    const took = t?.accepted && t.finished ? ` in ${formatShortDuration(Date.parse(t.finished) - Date.parse(t.accepted))}` : '';
    return `${head}  ${progressBar(1, width)} 100%  done${took}`;
  }
  if (st.fraction === undefined) {
    const waited = options.waitStartedMs !== undefined ? `  (${formatShortDuration(nowMs - options.waitStartedMs)})` : '';
    const what = !current ? 'waiting for the operator' : st.reached.includes('NodeJobCreated') ? 'waiting for the tracer to attach' : st.reached.includes('Accepted') ? 'resolving the target' : 'waiting for the operator';
    return `${head}  ${progressBar(0, width)}   0%  ${what}${waited}`;
  }
  const pct = `${String(Math.floor(st.fraction * 100)).padStart(3)}%`;
  const tail = (st.remainingMs ?? 0) > 0 ? `${formatShortDuration(st.remainingMs ?? 0)} left` : 'collecting results';
  return `${head}  ${progressBar(st.fraction, width)} ${pct}  ${tail}`;
}

/** A key that changes when the progress changes in a way worth a new line on a non-TTY. */
export function progressKey(tj: Pick<TraceJob, 'metadata' | 'status'>, durationMs: number, nowMs: number): string {
  const st = progressState(tj, durationMs, nowMs);
  const collecting = st.fraction !== undefined && (st.remainingMs ?? 0) === 0;
  return `${st.phase}|${st.reached.join(',')}|${collecting}`;
}

/** kubectl-style columns: left-aligned, three spaces apart, no trailing spaces; cells on one line, escaped. */
export function renderColumns(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const n = Math.max(headers.length, ...rows.map((r) => r.length));
  const all = [headers, ...rows].map((r) => Array.from({ length: n }, (_, i) => printable((r[i] ?? '').replace(/\s*\n\s*/g, ' '))));
  const widths = Array.from({ length: n }, (_, i) => Math.max(...all.map((r) => (r[i] as string).length)));
  return `${all.map((r) => r.map((c, i) => (i === n - 1 ? c : c.padEnd((widths[i] as number) + 3))).join('').trimEnd()).join('\n')}\n`;
}

/** Cuts a string to `max` characters with "...". */
export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, Math.max(0, max - 3))}...`;
}

/** `pod/checkout:app`, `pod/shop/checkout`, `selector/app=web`, `node/worker-1`. */
export function targetOf(spec: Pick<TraceJobSpecInput, 'target'> | undefined): string {
  const t = spec?.target;
  if (!t) return '<none>';
  if (t.pod) return `pod/${t.pod.namespace ? `${t.pod.namespace}/` : ''}${t.pod.name}${t.pod.container ? `:${t.pod.container}` : ''}`;
  if (t.selector) {
    const labels = Object.entries(t.selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
    const exprs = (t.selector.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(',')})` : ''}`);
    return `selector/${[...labels, ...exprs].join(',')}${t.selector.container ? `:${t.selector.container}` : ''}`;
  }
  if (t.node) return `node/${t.node.name}`;
  return '<none>';
}

export interface GetOptions {
  allNamespaces?: boolean;
  wide?: boolean;
  nowMs: number;
}

/** SUMMARY column: the headline, or `Reason: message` of a failed run. */
export function summaryOf(s: TraceJobStatus | undefined): string {
  if (!s) return '';
  if (s.phase === 'Failed') {
    const reason = s.conditions?.find((c) => c.type === 'Failed')?.reason;
    return clip(`${reason ? `${reason}: ` : ''}${s.message ?? ''}`, 60);
  }
  return clip(String(s.summary?.headline ?? ''), 60);
}

/** The `get` table. */
export function traceJobTable(items: readonly TraceJob[], o: GetOptions): string {
  const headers = [...(o.allNamespaces ? ['NAMESPACE'] : []), 'NAME', 'PROBE', 'TARGET', 'PHASE', 'SUMMARY', 'AGE'];
  if (o.wide) headers.push('NODE', 'DURATION', 'REASON', 'MESSAGE');
  const rows = items.map((tj) => {
    const s = statusIsCurrent(tj) ? tj.status : undefined;
    const row = [
      ...(o.allNamespaces ? [tj.metadata.namespace] : []),
      tj.metadata.name,
      String(tj.spec.probe?.type ?? ''),
      tj.status?.target ?? targetOf(tj.spec),
      s?.phase ?? 'Pending',
      summaryOf(s),
      ageOf(tj.metadata.creationTimestamp, o.nowMs),
    ];
    if (o.wide) {
      const terminal = s?.conditions?.find((c) => c.type === 'Succeeded' || c.type === 'Failed');
      row.push(s?.node ?? '', String(tj.spec.duration ?? '30s'), terminal?.reason ?? '', clip(s?.message ?? '', 80));
    }
    return row;
  });
  return renderColumns(headers, rows);
}

/** "+2.1s" relative offsets for the timing block. */
function offset(from: string | undefined, to: string | undefined): string {
  if (!from || !to) return '';
  const d = Date.parse(to) - Date.parse(from);
  return Number.isFinite(d) ? `  (+${(d / 1000).toFixed(1)}s)` : '';
}

export interface EventRow {
  type: string;
  reason: string;
  message: string;
  /** ISO or Date of the last occurrence. */
  last?: string | Date;
  count?: number;
  source?: string;
}

export function eventsTable(events: readonly EventRow[], nowMs: number): string {
  if (events.length === 0) return '<none>\n';
  return renderColumns(
    ['LAST SEEN', 'TYPE', 'REASON', 'MESSAGE'],
    events.map((e) => [ageOf(e.last, nowMs), e.type, e.reason, `${e.message}${e.count && e.count > 1 ? ` (x${e.count})` : ''}`]),
  );
}

/** The `describe` text: identity, spec, status, timing, conditions table, targets, result, events. */
export function describeTraceJob(tj: TraceJob, events: readonly EventRow[] | undefined, nowMs: number): string {
  const s = tj.status ?? {};
  const out: string[] = [];
  const kv = (k: string, v: string | number | undefined): void => {
    if (v !== undefined && v !== '') out.push(`${`${k}:`.padEnd(20)}${printable(String(v))}`);
  };
  kv('Name', tj.metadata.name);
  kv('Namespace', tj.metadata.namespace);
  kv('Created', tj.metadata.creationTimestamp ? `${String(tj.metadata.creationTimestamp)} (${ageOf(tj.metadata.creationTimestamp, nowMs)} ago)` : undefined);
  kv('Generation', `${tj.metadata.generation ?? '?'} (observed ${s.observedGeneration ?? '-'})`);
  kv('Probe', String(tj.spec.probe?.type ?? ''));
  const params = tj.spec.probe?.params;
  if (params && Object.keys(params).length > 0) kv('Params', Object.entries(params).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' '));
  kv('Target', targetOf(tj.spec));
  kv('Duration', String(tj.spec.duration ?? '30s'));
  kv('Backend', String(tj.spec.backend ?? 'auto'));
  kv('Phase', s.phase ?? 'Pending');
  kv('Message', s.message);
  kv('Summary', s.summary?.headline ? String(s.summary.headline) : undefined);
  kv('Node', s.node);
  if (s.tracer?.name) kv('Tracer', `${s.tracer.name} ${s.tracer.version ?? ''}${s.tracer.kernel ? ` (kernel ${s.tracer.kernel})` : ''}`.trim());
  const t = s.timing ?? {};
  if (Object.keys(t).length > 0) {
    out.push('Timing:');
    const row = (k: string, v: string | undefined): void => {
      if (v) out.push(`  ${`${k}:`.padEnd(18)}${v}${k === 'Accepted' ? '' : offset(t.accepted, v)}`);
    };
    row('Accepted', t.accepted);
    row('NodeJobCreated', t.nodeJobCreated);
    row('Attached', t.attached);
    row('Finished', t.finished);
  }
  out.push('Conditions:');
  const conds = s.conditions ?? [];
  if (conds.length === 0) out.push('  <none>');
  else {
    const table = renderColumns(
      ['TYPE', 'STATUS', 'REASON', 'AGE', 'MESSAGE'],
      conds.map((c) => [c.type, c.status, c.reason, ageOf(c.lastTransitionTime, nowMs), clip(c.message ?? '', 100)]),
    );
    out.push(...table.trimEnd().split('\n').map((l) => `  ${l}`));
  }
  if (s.targets && s.targets.length > 0) {
    out.push('Targets:');
    const table = renderColumns(
      ['POD', 'CONTAINER', 'NODE', 'HOST PIDS', 'CGROUP ID'],
      s.targets.map((x) => [x.namespace && x.pod ? `${x.namespace}/${x.pod}` : (x.pod ?? ''), x.container ?? '', x.node ?? '', clip((x.hostPIDs ?? []).join(','), 30), x.cgroupID ?? '']),
    );
    out.push(...table.trimEnd().split('\n').map((l) => `  ${l}`));
  }
  if (s.nodeJobs && s.nodeJobs.length > 0) kv('Node jobs', s.nodeJobs.map((j) => `${j.name} on ${j.node}`).join(', '));
  if (s.resultRef?.configMap) kv('Result', `configmap/${s.resultRef.configMap}${s.resultRef.keys ? ` (${s.resultRef.keys.join(', ')})` : ''}`);
  if (events !== undefined) {
    out.push('Events:');
    out.push(...eventsTable(events, nowMs).trimEnd().split('\n').map((l) => `  ${l}`));
  }
  return printableText(`${out.join('\n')}\n`);
}

/** `-o json` output: the same JSON, with characters a terminal would act on as `\uXXXX` escapes. */
export function jsonOutput(value: unknown): string {
  return `${printableJson(JSON.stringify(value, null, 2))}\n`;
}

/** `-o yaml` output: scalars holding such characters double-quoted, the characters escaped in them. */
export function yamlOutput(value: unknown): string {
  const doc = new Document(value);
  visit(doc, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && needsEscape(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return printableYamlText(doc.toString());
}
