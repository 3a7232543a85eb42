// Target filters rendered as bpftrace predicates. Pure functions; every id is
// re-validated here (the agent produced them, but they end up inside a program).
import type { NodeCapabilities, TargetFilter } from './types.js';

export class FilterError extends Error {
  override name = 'FilterError';
}

const CGROUP_ID = /^[1-9][0-9]{0,19}$/;
const MAX_U64 = 18446744073709551615n;
const MAX_IDS = 256;

function checkCount(what: string, n: number): void {
  if (n === 0) throw new FilterError(`filter has no ${what}`);
  if (n > MAX_IDS) throw new FilterError(`filter has ${n} ${what}; at most ${MAX_IDS}`);
}

function checkInts(what: string, values: readonly number[], max: number): number[] {
  checkCount(what, values.length);
  for (const v of values) {
    if (!Number.isSafeInteger(v) || v <= 0 || v > max) {
      throw new FilterError(`filter ${what} must be integers in 1..${max}, got ${String(v)}`);
    }
  }
  return [...new Set(values)];
}

export function validCgroupIds(ids: readonly string[]): string[] {
  checkCount('cgroup ids', ids.length);
  for (const id of ids) {
    if (typeof id !== 'string' || !CGROUP_ID.test(id) || BigInt(id) > MAX_U64) {
      throw new FilterError(`filter cgroup id must be a decimal u64, got ${JSON.stringify(id)}`);
    }
  }
  return [...new Set(ids)];
}

export const validPids = (pids: readonly number[]): number[] => checkInts('pids', pids, 4194304);
export const validNsInodes = (what: string, ns: readonly number[]): number[] => checkInts(what, ns, 0xffffffff);

function orList(lhs: string, values: ReadonlyArray<string | number>): string {
  return `(${values.map((v) => `${lhs} == ${String(v)}`).join(' || ')})`;
}

/**
 * The predicate selecting the target in process context (the current task is
 * the target), parenthesised; undefined for node mode (no filter).
 */
export function processPredicate(filter: TargetFilter): string | undefined {
  switch (filter.mode) {
    case 'cgroup':
      return orList('cgroup', validCgroupIds(filter.cgroupIds));
    case 'pids':
      return orList('pid', validPids(filter.pids));
    case 'namespace':
      return orList('curtask->nsproxy->mnt_ns->ns.inum', validNsInodes('mount namespaces', filter.mntNs));
    case 'node':
      return undefined;
  }
}

/** `((struct sock *)<expr>)->__sk_common.skc_net.net->ns.inum` — the netns of a socket (BTF). */
export function sockNetnsExpr(sockPtrExpr: string): string {
  return `((struct sock *)${sockPtrExpr})->__sk_common.skc_net.net->ns.inum`;
}

/** `((struct sk_buff *)<expr>)->dev->nd_net.net->ns.inum` — the netns of an skb's device (BTF). */
export function skbDevNetnsExpr(skbPtrExpr: string): string {
  return `((struct sk_buff *)${skbPtrExpr})->dev->nd_net.net->ns.inum`;
}

/**
 * Predicate for events that run in softirq/irq context (the current task is
 * whoever was on the CPU): match the network namespace of the socket/device
 * instead. `nsExpr` is sockNetnsExpr(...) or skbDevNetnsExpr(...).
 */
export function netnsPredicate(filter: TargetFilter, nsExpr: string): string | undefined {
  if (filter.mode === 'node') return undefined;
  if (filter.netNs.length === 0) {
    throw new FilterError('filter has no network namespace (netNs), needed for network events in softirq context');
  }
  return orList(nsExpr, validNsInodes('network namespaces', filter.netNs));
}

/** `a && b` of the defined, already-parenthesised-or-atomic parts; undefined when none. */
export function and(...parts: Array<string | undefined>): string | undefined {
  const ps = parts.filter((p): p is string => p !== undefined && p !== '');
  if (ps.length === 0) return undefined;
  if (ps.length === 1) return ps[0];
  return ps.map((p) => (isAtomic(p) ? p : `(${p})`)).join(' && ');
}

/** True when `p` needs no parentheses to sit beside `&&` (a single parenthesised group or no && / ||). */
function isAtomic(p: string): boolean {
  if (!/&&|\|\||\?/.test(p)) return true;
  if (!p.startsWith('(') || !p.endsWith(')')) return false;
  let depth = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '(') depth++;
    else if (c === ')') {
      depth--;
      if (depth === 0 && i !== p.length - 1) return false;
    }
  }
  return true;
}

/** `/pred/` or '' */
export function clause(pred: string | undefined): string {
  return pred === undefined ? '' : ` /${pred}/`;
}

/** bpftrace ≥ 0.19 makes tracepoint `args` a struct (`args.f`); older versions need `args->f`. */
export function argsAccessor(caps: NodeCapabilities): (field: string) => string {
  const v = caps.bpftrace;
  const dot = v !== undefined && (v.major > 0 || v.minor >= 19);
  return dot ? (f) => `args.${f}` : (f) => `args->${f}`;
}
