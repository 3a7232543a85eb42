// Custom SystemTap programs (probe.type: systemtap; policy-gated by the operator
// through policy.customProgramNamespaces) and the stap command line.
//
// Placeholders, substituted with the agent's validated target data:
//   {{filter}}   an expression true for the target's processes (`__tj_target()`:
//                the host pids and their forks; `1` on node targets)
//   {{pids}}     comma-separated host pids;  {{main_pid}} the target's main pid
//   {{net_ns}}   the first network-namespace inode; {{mnt_ns}} the first mount-namespace inode
// The tracejob prelude (the pid set, the attach marker, `__tj_json()`) is prepended.
//
// Guru mode (`stap -g`: embedded C `%{ … %}`, writes to kernel memory, the
// article's I/O-delay and setsockopt injections) runs only when the TraceJob asks
// for it (params.guru: true) AND the operator allowed it for this run
// (AgentConfig.guruAllowed, from policy.systemtapGuruNamespaces). The agent
// refuses otherwise, even if an older operator let the spec through.
// Every other custom program runs with `--privilege=stapsys`, behind the tapset
// overrides of GUARD_FUNCTIONS, and is refused when findUnsafeStap flags it
// (side effects stap allows without -g: system(), argument write-backs; see safety.ts).
import { CustomProgramError, MAX_CUSTOM_PROGRAM_BYTES } from '../probes/custom.js';
import { FilterError, validNsInodes, validPids } from '../probes/filter.js';
import type { RenderContext } from '../probes/types.js';
import { stapProgram } from './render.js';
import { GUARD_FUNCTIONS, findUnsafeStap, unsafeStapMessage } from './safety.js';

export const STAP_PLACEHOLDERS = ['filter', 'pids', 'main_pid', 'net_ns', 'mnt_ns'] as const;
const PLACEHOLDER_RE = /\{\{\s*([A-Za-z0-9_:.-]*)\s*\}\}/g;

export class GuruDenied extends Error {
  override name = 'GuruDenied';
}

export interface CustomStapOptions {
  /** spec.probe.params.guru === true */
  guruRequested: boolean;
  /** AgentConfig.guruAllowed (operator policy). */
  guruAllowed: boolean;
}

export interface CustomStapScript {
  script: string;
  guru: boolean;
  /** stap --privilege for the run: the lowest level that runs kernel probes, unless guru. */
  privilege?: 'stapsys';
}

export function renderCustomStap(program: string, ctx: RenderContext<unknown>, opts: CustomStapOptions): CustomStapScript {
  if (typeof program !== 'string' || program.trim() === '') throw new CustomProgramError('program must be a non-empty string');
  if (Buffer.byteLength(program, 'utf8') > MAX_CUSTOM_PROGRAM_BYTES) throw new CustomProgramError(`program must be at most ${MAX_CUSTOM_PROGRAM_BYTES} bytes`);
  if (program.includes('\u0000')) throw new CustomProgramError('program must not contain NUL bytes');
  if (opts.guruRequested && !opts.guruAllowed) {
    throw new GuruDenied('SystemTap guru mode (-g) was requested but this run is not allowed it: a cluster admin must add the namespace to policy.systemtapGuruNamespaces');
  }
  const guru = opts.guruRequested;
  const unsafe = guru ? undefined : findUnsafeStap(program);
  if (unsafe) throw new CustomProgramError(unsafeStapMessage(unsafe));
  const f = ctx.filter;
  const value = (name: string): string => {
    try {
      switch (name) {
        case 'filter':
          return f.mode === 'node' ? '1' : '__tj_target()';
        case 'pids':
          if (f.mode === 'node') break;
          return validPids(f.pids).join(', ');
        case 'main_pid':
          if (ctx.mainPid === undefined) break;
          return String(validPids([ctx.mainPid])[0]);
        case 'net_ns':
          if (f.mode === 'node') break;
          return String(validNsInodes('network namespaces', f.netNs)[0]);
        case 'mnt_ns':
          if (f.mode === 'node') break;
          return String(validNsInodes('mount namespaces', f.mntNs)[0]);
        default:
          throw new CustomProgramError(`unknown placeholder {{${name}}}; known: ${STAP_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`);
      }
    } catch (e) {
      if (e instanceof FilterError) throw new CustomProgramError(`placeholder {{${name}}}: ${e.message}`);
      throw e;
    }
    throw new CustomProgramError(`placeholder {{${name}}} has no value for this target (filter mode ${f.mode})`);
  };
  const body = program.replace(PLACEHOLDER_RE, (_, name: string) => value(name));
  const stripped = body.replace(/%\{[\s\S]*?%\}/g, '');
  if (/\{\{|\}\}/.test(stripped.replace(/"(?:[^"\\]|\\.)*"/g, '""'))) {
    throw new CustomProgramError('program contains "{{" or "}}" that is not a placeholder; put a space between the braces');
  }
  let script: string;
  try {
    script = stapProgram('systemtap (custom)', ctx, guru ? [body] : [GUARD_FUNCTIONS, '', body]);
  } catch (e) {
    if (e instanceof FilterError) throw new CustomProgramError(e.message);
    throw e;
  }
  return guru ? { script, guru } : { script, guru, privilege: 'stapsys' };
}

export interface StapArgsOptions {
  guru: boolean;
  /** `--privilege=LEVEL` (stap refuses it together with -g). */
  privilege?: 'stapsys';
  runtime: 'module' | 'bpf';
  /** Kernel build tree (`-r DIR`), e.g. from the debuginfo cache; default: stap's own lookup. */
  buildTree?: string;
}

/**
 * The stap command line. -DMAXMAPENTRIES raises the per-array limit (an overflow
 * ends the session); -DSTP_NO_OVERLOAD keeps a long trace from being killed for
 * probe overhead on a busy node (the duration bounds it instead); -o - keeps stdout.
 */
export function stapArgs(file: string, opts: StapArgsOptions): string[] {
  const args = ['-DMAXMAPENTRIES=16384', '-DSTP_NO_OVERLOAD'];
  if (opts.guru && opts.privilege) throw new Error('stap: -g and --privilege are exclusive');
  if (opts.guru) args.push('-g');
  if (opts.privilege) args.push(`--privilege=${opts.privilege}`);
  if (opts.runtime === 'bpf') args.push('--runtime=bpf');
  if (opts.buildTree) args.push('-r', opts.buildTree);
  args.push(file);
  return args;
}

/** stap's stderr → what kind of failure it was (for the exit reason) and the useful lines. */
export function classifyStapError(stderr: string): { kind: 'compile' | 'environment' | 'runtime' | 'unknown'; summary: string } {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '' && !/^Tip: |symbol table missing|^WARNING: /.test(l));
  const summary = lines.slice(0, 12).join('\n').trim();
  if (/^(parse|semantic) error:|Pass [12]: (parse|analysis) failed/m.test(stderr)) {
    // Environment problems also surface as semantic errors: missing debuginfo / build tree.
    if (/missing .*debuginfo|kernel release isn't found|Checking ".*" failed|Kernel function symbol table missing.*\n.*Pass 2/m.test(stderr) && !/parse error:/.test(stderr)) {
      return { kind: 'environment', summary };
    }
    return { kind: 'compile', summary };
  }
  if (/Checking ".*(\.config|Module\.symvers)" failed|kernel release isn't found|Ensure kernel development headers/.test(stderr)) return { kind: 'environment', summary };
  if (/Pass 4: compilation failed/.test(stderr)) {
    // Embedded C (guru mode) errors are the program's; header/toolchain problems are the node's.
    return /error: .*(%\{|STAP_ARG_|STAP_RETURN)|\.c:\d+:\d+: error:/.test(stderr) ? { kind: 'compile', summary } : { kind: 'environment', summary };
  }
  if (/Pass 5: run failed|ERROR: (Couldn't insert module|module .* load|Failed to set RLIMIT_MEMLOCK|Array overflow|MAXACTION|division by zero)/i.test(stderr)) {
    return { kind: 'runtime', summary };
  }
  return { kind: 'unknown', summary };
}
