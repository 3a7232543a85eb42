// Building blocks for SystemTap scripts that print the JSON-lines contract of
// src/results/stap-hist.ts (the same record shapes as bpftrace `-f json`), so one
// parser + the probes' existing shapers serve both engines. Pure functions.
//
// ## Target filter (stap has no cgroup-id builtin; task_cgroup walks need debuginfo)
// Every TargetFilter mode except `node` carries the target's host pids; the script
// seeds a pid set with them in `begin` and follows forks (`scheduler.process_fork`,
// the sched_process_fork tracepoint) so children started after attach are traced
// too, like bpftrace's cgroup filter. Processes that enter the container later
// without forking from a traced pid (e.g. `kubectl exec`) are missed — the result
// carries a note. Network events in softirq context are matched by the socket's
// network namespace inode (`@cast(sk, "sock")->__sk_common->skc_net->net->ns->inum`),
// like the bpftrace probes.
//
// ## Attach marker
// `begin` probes run before the other probes are registered, so the marker the agent
// waits for is printed by the first `timer.ms(100)` firing, which runs only once the
// module is fully initialised.
import { ATTACH_MARKER } from '../agent/run.js';
import { FilterError, validNsInodes, validPids } from '../probes/filter.js';
import type { EventSpec } from '../probes/shape.js';
import type { RenderContext, TargetFilter } from '../probes/types.js';

/** A stap string literal (stap escapes: \\ \" \n \t). */
export function stapString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

/** JSON text to print verbatim with printf: `%` doubled, then as a stap literal. */
function printfLiteral(jsonText: string): string {
  return stapString(jsonText.replace(/%/g, '%%'));
}

/** printf statement printing one fixed JSON line. */
export function printJsonLine(record: unknown, indent = '  '): string {
  return `${indent}printf(${printfLiteral(`${JSON.stringify(record)}\n`)})`;
}

export interface StapKit<P> {
  ctx: RenderContext<P>;
  /** Expression true when the current task is a target ("1" node-wide). */
  target: string;
  /** Expression true when the socket pointer expression belongs to a target netns ("1" node-wide). */
  sockNetns(sockExpr: string): string;
  maxEvents: number;
  /** Lines printing an event line (`EV<TAB>kind<TAB>…`, plain text → a printf record) up to maxEvents. */
  event(spec: EventSpec, exprs: string[], indent?: string): string[];
}

export function stapKit<P>(ctx: RenderContext<P>): StapKit<P> {
  const maxEvents = Math.max(0, Math.min(100000, Math.floor(ctx.maxEvents)));
  const node = ctx.filter.mode === 'node';
  return {
    ctx,
    target: node ? '1' : '__tj_target()',
    sockNetns: (e) => (node ? '1' : `__tj_sock_netns_ok(${e})`),
    maxEvents,
    event: (spec, exprs, indent = '  ') => {
      if (exprs.length !== spec.fields.length) throw new Error(`event ${spec.kind}: ${exprs.length} values for ${spec.fields.length} fields`);
      const fmt = ['EV', spec.kind, ...spec.fields.map((f) => (f.type === 'n' ? '%d' : '%s'))].join('\\t');
      return [
        `${indent}if (__tj_events < ${maxEvents}) {`,
        `${indent}  printf("${fmt}\\n", ${exprs.join(', ')})`,
        `${indent}  __tj_events++`,
        `${indent}}`,
      ];
    },
  };
}

function filterPids(filter: TargetFilter): number[] {
  if (filter.mode === 'node') return [];
  if (filter.pids.length === 0) {
    throw new FilterError(`the SystemTap backend filters by host pid, and this target (filter mode ${filter.mode}) has none`);
  }
  return validPids(filter.pids);
}

/** Globals, helper functions and probes every tracejob stap script starts with. */
export function prelude(ctx: RenderContext<unknown>, opts: { netns?: boolean } = {}): string[] {
  const f = ctx.filter;
  const pids = filterPids(f);
  const netns = opts.netns && f.mode !== 'node' ? validNsInodes('network namespaces', f.netNs) : [];
  if (opts.netns && f.mode !== 'node' && netns.length === 0) {
    throw new FilterError('filter has no network namespace (netNs), needed for network events in softirq context');
  }
  const out = [
    'global __tj_pids',
    'global __tj_netns',
    'global __tj_events',
    'global __tj_attached',
    '',
    'probe begin {',
    ...pids.map((p) => `  __tj_pids[${p}] = 1`),
    ...netns.map((n) => `  __tj_netns[${n}] = 1`),
    '}',
    '',
    '# The attach marker: timers fire only after every probe is registered.',
    'probe timer.ms(100) {',
    '  if (!__tj_attached) {',
    '    __tj_attached = 1',
    printJsonLine({ type: 'printf', data: `${ATTACH_MARKER}\n` }, '    '),
    '  }',
    '}',
    '',
    '# JSON string body (quotes, backslashes and control characters escaped).',
    'function __tj_json:string (s:string) {',
    '  r = ""',
    '  n = strlen(s)',
    '  for (i = 0; i < n; i++) {',
    '    c = stringat(s, i)',
    '    if (c == 34 || c == 92) r .= sprintf("\\\\%c", c)',
    '    else if (c < 32) r .= sprintf("\\\\u%04x", c)',
    '    else r .= sprintf("%c", c)',
    '  }',
    '  return r',
    '}',
  ];
  if (f.mode !== 'node') {
    out.push(
      '',
      '# Target = the seeded host pids and every process forked from them after attach.',
      'probe scheduler.process_fork {',
      '  if (parent_pid in __tj_pids) __tj_pids[child_pid] = 1',
      '}',
      '',
      'function __tj_target:long () {',
      '  return pid() in __tj_pids',
      '}',
    );
    if (opts.netns) {
      out.push(
        '',
        '# Network namespace of a socket (events in softirq context carry no useful pid).',
        'function __tj_sock_netns_ok:long (sk:long) {',
        '  return @cast(sk, "sock", "kernel")->__sk_common->skc_net->net->ns->inum in __tj_netns',
        '}',
      );
    }
  }
  return out;
}

/** The header + prelude + body, as one script. */
export function stapProgram(name: string, ctx: RenderContext<unknown>, body: string[], opts: { netns?: boolean } = {}): string {
  const head = `# tracejob probe ${name} (SystemTap; filter: ${ctx.filter.mode === 'node' ? 'node' : 'pids + forks'})`;
  return `${[head, ...prelude(ctx, opts), '', ...body].join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// `probe end` printers: one JSON line per result map, bpftrace's shapes.

export interface KeySpec {
  /** foreach key variable names, e.g. ['k1', 'k2'] */
  vars: string[];
  /** printf formats of the key parts ('%d' / '%s'), joined with "," like bpftrace multi-keys. */
  fmts: string[];
}

const keyExpr = (k: KeySpec): string => `__tj_json(sprintf("${k.fmts.join(',')}", ${k.vars.join(', ')}))`;
const idx = (arr: string, k: KeySpec): string => `${arr}[${k.vars.join(', ')}]`;

/** `{"type": "map", "data": {"@name": {"k": n, …}}}` from a stap array of counts/sums. */
export function printKeyedMap(mapName: string, arr: string, k: KeySpec): string[] {
  return [
    `  printf("{\\"type\\": \\"map\\", \\"data\\": {\\"${mapName}\\": {")`,
    '  sep = ""',
    `  foreach ([${k.vars.join(', ')}] in ${arr}) {`,
    `    printf("%s\\"%s\\": %d", sep, ${keyExpr(k)}, ${idx(arr, k)})`,
    '    sep = ", "',
    '  }',
    '  printf("}}}\\n")',
  ];
}

/** `{"type": "map", "data": {"@name": n}}` from a scalar. */
export function printScalar(mapName: string, expr: string): string[] {
  return [`  printf("{\\"type\\": \\"map\\", \\"data\\": {\\"${mapName}\\": %d}}\\n", ${expr})`];
}

/** `{"type": "stats", "data": {"@name": {"k": {"count", "average", "total"}}}}` from a keyed aggregate. */
export function printKeyedStats(mapName: string, agg: string, k: KeySpec): string[] {
  const a = idx(agg, k);
  return [
    `  printf("{\\"type\\": \\"stats\\", \\"data\\": {\\"${mapName}\\": {")`,
    '  sep = ""',
    `  foreach ([${k.vars.join(', ')}] in ${agg}) {`,
    `    printf("%s\\"%s\\": {\\"count\\": %d, \\"average\\": %d, \\"total\\": %d}", sep, ${keyExpr(k)}, @count(${a}), @avg(${a}), @sum(${a}))`,
    '    sep = ", "',
    '  }',
    '  printf("}}}\\n")',
  ];
}

/** Tag line + `@hist_log` table per key (the stap parser gathers them into one keyed hist). */
export function printKeyedHist(mapName: string, agg: string, k: KeySpec): string[] {
  return [
    `  foreach ([${k.vars.join(', ')}] in ${agg}) {`,
    `    printf("{\\"type\\": \\"hist_text\\", \\"name\\": \\"${mapName}\\", \\"key\\": \\"%s\\", \\"kind\\": \\"log\\"}\\n", ${keyExpr(k)})`,
    `    print(@hist_log(${idx(agg, k)}))`,
    '  }',
  ];
}

/** Tag line + `@hist_log` table of a scalar aggregate (nothing when empty, like bpftrace). */
export function printHist(mapName: string, agg: string): string[] {
  return [
    `  if (@count(${agg}) > 0) {`,
    `    printf("{\\"type\\": \\"hist_text\\", \\"name\\": \\"${mapName}\\", \\"kind\\": \\"log\\"}\\n")`,
    `    print(@hist_log(${agg}))`,
    '  }',
  ];
}

/** `@events` (the printed event count) so the shaper can note the maxEvents cut. */
export function printEventCount(): string[] {
  return printScalar('@events', '__tj_events');
}
