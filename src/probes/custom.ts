// Custom bpftrace programs (policy-gated by the operator). The user's program
// is passed through unchanged except for placeholders, which are substituted
// with the agent's validated target data:
//
//   {{filter}}      the target predicate, e.g. `(cgroup == 1234 || cgroup == 5678)`;
//                   `1` on node targets (so `/{{filter}}/` always compiles)
//   {{cgroup_ids}}  comma-separated cgroup v2 ids (cgroup mode only)
//   {{cgroup_id}}   the first cgroup id (cgroup mode only)
//   {{pids}}        comma-separated host pids of the target
//   {{main_pid}}    the target's main host pid
//   {{mnt_ns}}      the first mount-namespace inode
//   {{net_ns}}      the first network-namespace inode
//   {{net_filter:EXPR}} is not offered: a user expression inside a generated
//                   cast is not worth the parsing risk; write the netns test
//                   with {{net_ns}} instead.
//
// Unknown placeholders, a leftover "{{" or "}}", NUL bytes and oversized
// programs are rejected. Whitespace inside the braces is allowed.
import { FilterError, processPredicate, validCgroupIds, validNsInodes, validPids } from './filter.js';
import { shapeGeneric } from './generic-shape.js';
import type { RenderContext, ShapedResult, TargetFilter } from './types.js';

export const CUSTOM_PLACEHOLDERS = ['filter', 'cgroup_ids', 'cgroup_id', 'pids', 'main_pid', 'mnt_ns', 'net_ns'] as const;
export type CustomPlaceholder = (typeof CUSTOM_PLACEHOLDERS)[number];

export const MAX_CUSTOM_PROGRAM_BYTES = 64 * 1024;

export class CustomProgramError extends Error {
  override name = 'CustomProgramError';
  constructor(
    message: string,
    /** Field path for status messages. */
    readonly path = 'spec.probe.program',
  ) {
    super(message);
  }
}

const PLACEHOLDER_RE = /\{\{\s*([A-Za-z0-9_:.-]*)\s*\}\}/g;

/** The placeholders a program uses (for validation at admission time, before a target exists). */
export function customPlaceholders(program: string): CustomPlaceholder[] {
  checkProgramText(program);
  const found = new Set<CustomPlaceholder>();
  const unknown: string[] = [];
  for (const m of program.matchAll(PLACEHOLDER_RE)) {
    const name = m[1] ?? '';
    if ((CUSTOM_PLACEHOLDERS as readonly string[]).includes(name)) found.add(name as CustomPlaceholder);
    else unknown.push(name);
  }
  if (unknown.length > 0) {
    throw new CustomProgramError(
      `unknown placeholder${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `{{${u}}}`).join(', ')}; known: ${CUSTOM_PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}`,
    );
  }
  const stripped = program.replace(PLACEHOLDER_RE, '');
  if (stripped.includes('{{') || stripped.includes('}}')) {
    throw new CustomProgramError('program contains "{{" or "}}" that is not a placeholder; put a space between the braces');
  }
  return [...found];
}

function checkProgramText(program: string): void {
  if (typeof program !== 'string' || program.trim() === '') throw new CustomProgramError('program must be a non-empty string');
  if (Buffer.byteLength(program, 'utf8') > MAX_CUSTOM_PROGRAM_BYTES) {
    throw new CustomProgramError(`program must be at most ${MAX_CUSTOM_PROGRAM_BYTES} bytes`);
  }
  if (program.includes('\u0000')) throw new CustomProgramError('program must not contain NUL bytes');
}

function value(name: CustomPlaceholder, filter: TargetFilter, mainPid: number | undefined): string {
  const need = (what: string): never => {
    throw new CustomProgramError(`placeholder {{${name}}} needs ${what}, which this target (filter mode ${filter.mode}) does not have`);
  };
  try {
    switch (name) {
      case 'filter':
        return processPredicate(filter) ?? '1';
      case 'cgroup_ids':
        return filter.mode === 'cgroup' ? validCgroupIds(filter.cgroupIds).join(', ') : need('cgroup ids');
      case 'cgroup_id':
        return filter.mode === 'cgroup' ? (validCgroupIds(filter.cgroupIds)[0] ?? need('a cgroup id')) : need('a cgroup id');
      case 'pids':
        return filter.mode !== 'node' && filter.pids.length > 0 ? validPids(filter.pids).join(', ') : need('target pids');
      case 'main_pid':
        return mainPid !== undefined ? String(validPids([mainPid])[0]) : need('a main pid');
      case 'mnt_ns':
        return filter.mode !== 'node' && filter.mntNs.length > 0 ? String(validNsInodes('mount namespaces', filter.mntNs)[0]) : need('a mount namespace');
      case 'net_ns':
        return filter.mode !== 'node' && filter.netNs.length > 0 ? String(validNsInodes('network namespaces', filter.netNs)[0]) : need('a network namespace');
    }
  } catch (e) {
    if (e instanceof FilterError) throw new CustomProgramError(`placeholder {{${name}}}: ${e.message}`);
    throw e;
  }
}

/** Substitutes the placeholders; throws CustomProgramError on anything unknown or unavailable. */
export function renderCustomProgram(program: string, ctx: Pick<RenderContext<unknown>, 'filter' | 'mainPid'>): string {
  customPlaceholders(program);
  return program.replace(PLACEHOLDER_RE, (_m, name: string) => value(name as CustomPlaceholder, ctx.filter, ctx.mainPid));
}

/** Shapes a custom program's output: every map becomes a histogram, table or counter; printf lines become events. */
export function shapeCustom(parsed: unknown, ctx: Pick<RenderContext<unknown>, 'topN' | 'maxEvents'>): ShapedResult {
  return shapeGeneric(parsed, ctx);
}
