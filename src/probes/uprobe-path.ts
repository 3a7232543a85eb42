// Paths for uprobes on files inside the target's root filesystem. The node job
// runs with hostPID, so /proc/<host pid>/root/<path> reaches the container's
// file; on node targets the path is the host's own.
import { FilterError } from './filter.js';
import { PATH_RE } from './params.js';
import type { RenderContext } from './types.js';

export function checkedAbsPath(p: string, what: string): string {
  if (!p.startsWith('/') || !PATH_RE.test(p) || p.split('/').includes('..') || p.includes('//') || p.length > 255) {
    throw new FilterError(`${what} must be an absolute path of [A-Za-z0-9_./+-] without "..", got ${JSON.stringify(p)}`);
  }
  return p;
}

export function targetFilePath(ctx: RenderContext<unknown>, pathInTarget: string, what: string): string {
  const p = checkedAbsPath(pathInTarget, what);
  if (ctx.filter.mode === 'node') return p;
  const pid = ctx.mainPid ?? (ctx.filter.pids.length > 0 ? ctx.filter.pids[0] : undefined);
  if (pid === undefined || !Number.isSafeInteger(pid) || pid <= 0) throw new FilterError(`${what}: a main pid of the target is needed to reach its files`);
  return `/proc/${pid}/root${p}`;
}
