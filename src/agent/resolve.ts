// Container id → host pids, cgroup path/id, namespaces; then the TargetFilter.
// Pure parsers first (tested with fixture text), then the /proc scan.
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import type { AgentTarget, ResolvedTarget } from './protocol.js';
import type { TargetFilter } from '../probes/types.js';
import type { CgroupLayout } from './preflight.js';

// ---------------------------------------------------------------------------
// Pure
// ---------------------------------------------------------------------------

export type ContainerRuntime = 'containerd' | 'cri-o' | 'docker' | 'unknown';

export type ContainerIdResult = { ok: true; runtime: ContainerRuntime; id: string } | { ok: false; error: string };

/** "containerd://<64 hex>" / "cri-o://…" / "docker://…" / bare id → {runtime, id}. */
export function parseContainerId(raw: string): ContainerIdResult {
  const s = raw.trim();
  const m = /^([a-z-]+):\/\/(.*)$/.exec(s);
  let runtime: ContainerRuntime = 'unknown';
  let id = s;
  if (m) {
    const scheme = m[1] ?? '';
    if (scheme === 'containerd' || scheme === 'cri-o' || scheme === 'docker') runtime = scheme;
    else return { ok: false, error: `container id "${raw}" has an unsupported runtime prefix "${scheme}://"` };
    id = m[2] ?? '';
  }
  id = id.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(id)) return { ok: false, error: `container id "${raw}" is not 64 hex digits` };
  return { ok: true, runtime, id };
}

export interface ProcCgroup {
  /** The cgroup v2 (unified) path from the "0::" line, if any. */
  unified?: string;
  /** v1 hierarchies: controller list ("cpu,cpuacct", "name=systemd") → path. */
  v1: Record<string, string>;
}

/** Parses /proc/<pid>/cgroup. */
export function parseProcCgroup(text: string): ProcCgroup {
  const out: ProcCgroup = { v1: {} };
  for (const line of text.split('\n')) {
    if (!line) continue;
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const hid = line.slice(0, first);
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1);
    if (hid === '0' && controllers === '') out.unified = path;
    else out.v1[controllers] = path;
  }
  return out;
}

/** Whether this process's cgroups name the container (any hierarchy). */
export function cgroupMentions(cg: ProcCgroup, id: string): boolean {
  if (cg.unified?.includes(id)) return true;
  return Object.values(cg.v1).some((p) => p.includes(id));
}

/** "mnt:[4026531840]" → 4026531840. */
export function parseNsLink(link: string): number | undefined {
  const m = /^[a-z_]+:\[(\d+)\]$/.exec(link.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * Joins the unified mount point and a /proc/<pid>/cgroup path. Paths are relative to
 * the reader's cgroup namespace; the agent runs with the host's (hostPID, host /proc).
 */
export function cgroupDir(unifiedRoot: string, path: string): string {
  const root = unifiedRoot.replace(/\/+$/, '');
  const rel = path.replace(/^\/+/, '');
  return rel ? `${root}/${rel}` : root;
}

/** ppid from /proc/<pid>/stat ("pid (comm) state ppid …"; comm may contain spaces and parens). */
export function parseStatPpid(stat: string): number | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = stat.slice(close + 2).split(' ');
  const ppid = Number(f[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/**
 * The container's main process: the one whose parent is outside the container
 * (the runtime's shim), lowest pid on ties; else the lowest pid.
 */
export function chooseMainPid(pids: number[], ppidOf: (pid: number) => number | undefined): number | undefined {
  const set = new Set(pids);
  const sorted = [...pids].sort((a, b) => a - b);
  return sorted.find((p) => {
    const pp = ppidOf(p);
    return pp !== undefined && !set.has(pp);
  }) ?? sorted[0];
}

const uniq = <T>(xs: T[]): T[] => [...new Set(xs)];

/** The TargetFilter for what was resolved. Pure. */
export function chooseFilter(
  targets: ResolvedTarget[],
  opts: { nodeWide: boolean; hostMntNs?: number },
): TargetFilter {
  if (opts.nodeWide) return { mode: 'node' };
  const pids = uniq(targets.flatMap((t) => t.hostPIDs)).sort((a, b) => a - b);
  const netNs = uniq(targets.flatMap((t) => (t.netNs !== undefined ? [t.netNs] : [])));
  const mntNs = uniq(targets.flatMap((t) => (t.mntNs !== undefined ? [t.mntNs] : [])));
  const cgroupIds = uniq(targets.flatMap((t) => t.cgroupIDs ?? (t.cgroupID !== undefined ? [t.cgroupID] : [])));
  if (targets.length > 0 && targets.every((t) => t.cgroupID !== undefined)) {
    return { mode: 'cgroup', cgroupIds, netNs, pids, mntNs };
  }
  // A container sharing the host's mount namespace would make a namespace filter node-wide.
  const namespaceUsable =
    targets.length > 0 &&
    targets.every((t) => t.mntNs !== undefined) &&
    (opts.hostMntNs === undefined || !mntNs.includes(opts.hostMntNs));
  if (namespaceUsable) return { mode: 'namespace', mntNs, netNs, pids };
  return { mode: 'pids', pids, netNs, mntNs };
}

// ---------------------------------------------------------------------------
// I/O
// ---------------------------------------------------------------------------

export interface ProcScanEntry {
  pid: number;
  cgroup: ProcCgroup;
}

/** Process state letter from /proc/<pid>/stat ("Z" = zombie: exited, not yet reaped). */
export function parseStatState(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  return close < 0 ? undefined : stat.slice(close + 2, close + 3) || undefined;
}

/** Reads /proc/<pid>/cgroup for every process (vanishing processes are skipped). */
export function scanProc(procRoot = '/proc'): ProcScanEntry[] {
  const out: ProcScanEntry[] = [];
  let names: string[];
  try {
    names = readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      out.push({ pid: Number(name), cgroup: parseProcCgroup(readFileSync(`${procRoot}/${name}/cgroup`, 'utf8')) });
    } catch {
      // exited between readdir and read
    }
  }
  return out;
}

/** Host pids whose cgroups mention the container id. */
export function pidsOfContainer(id: string, scan: ProcScanEntry[] = scanProc()): ProcScanEntry[] {
  return scan.filter((e) => cgroupMentions(e.cgroup, id));
}

function nsInode(pid: number, ns: 'mnt' | 'net' | 'pid', procRoot = '/proc'): number | undefined {
  try {
    return parseNsLink(readlinkSync(`${procRoot}/${pid}/ns/${ns}`));
  } catch {
    return undefined;
  }
}

export function ppidOf(pid: number, procRoot = '/proc'): number | undefined {
  try {
    return parseStatPpid(readFileSync(`${procRoot}/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** libc locations tried inside a target's root, most common first. */
export function libcCandidates(arch: string): string[] {
  const triplet = arch === 'aarch64' ? 'aarch64-linux-gnu' : `${arch}-linux-gnu`;
  return [
    `/lib/${triplet}/libc.so.6`,
    `/usr/lib/${triplet}/libc.so.6`,
    '/lib64/libc.so.6',
    '/usr/lib64/libc.so.6',
    '/lib/libc.so.6',
    '/usr/lib/libc.so.6',
    `/lib/ld-musl-${arch}.so.1`,
    `/usr/lib/libc.musl-${arch}.so.1`,
  ];
}

/** First libc present under `root` (`/proc/<pid>/root`, or '' for the host), as a path inside the target. */
export function findLibc(root: string, arch: string): string | undefined {
  return libcCandidates(arch).find((p) => existsSync(`${root}${p}`));
}

export function hostMntNs(procRoot = '/proc'): number | undefined {
  return nsInode(1, 'mnt', procRoot);
}

export function hostNetNs(procRoot = '/proc'): number | undefined {
  return nsInode(1, 'net', procRoot);
}

/**
 * Searches the unified hierarchy for directories whose name contains the container
 * id (breadth-first, bounded). Used when /proc/<pid>/cgroup paths are not usable:
 * an agent in a private cgroup namespace sees them relative to its own root ("/../..").
 */
export function findCgroupDirsById(root: string, id: string, maxDepth = 12, maxDirs = 50_000): string[] {
  const found: string[] = [];
  let level = [root];
  let visited = 0;
  for (let depth = 0; depth < maxDepth && level.length > 0 && visited < maxDirs; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      let ents;
      try {
        ents = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const e of ents) {
        if (!e.isDirectory()) continue;
        const p = `${dir}/${e.name}`;
        visited++;
        if (e.name.includes(id)) found.push(p);
        else next.push(p);
      }
    }
    level = next;
  }
  return found;
}

/** cgroup id = inode of the cgroup v2 directory, as a decimal string. */
export function cgroupIdOf(dir: string): string | undefined {
  try {
    return statSync(dir, { bigint: true }).ino.toString();
  } catch {
    return undefined;
  }
}

export type ResolveOutcome =
  | { ok: true; target: ResolvedTarget; cgroupDirs: string[] }
  | { ok: false; error: string; reason: 'invalid' | 'notFound' };

/**
 * Resolves one container. cgroupIDs lists every id when the container's processes
 * sit in several cgroups (nested cgroups); usually one.
 */
export function resolveTarget(
  target: AgentTarget,
  cgroup: CgroupLayout,
  opts: { procRoot?: string; scan?: ProcScanEntry[] } = {},
): ResolveOutcome {
  const parsed = parseContainerId(target.containerID);
  if (!parsed.ok) return { ok: false, error: parsed.error, reason: 'invalid' };
  const procRoot = opts.procRoot ?? '/proc';
  const entries = pidsOfContainer(parsed.id, opts.scan ?? scanProc(procRoot));
  const who = `container ${target.container} (${target.containerID}) of pod ${target.namespace}/${target.pod}`;
  if (entries.length === 0) {
    return { ok: false, reason: 'notFound', error: `${who}: no process on this node is in a cgroup naming ${parsed.id}` };
  }
  const hostPIDs = entries.map((e) => e.pid).sort((a, b) => a - b);
  const res: ResolvedTarget = {
    pod: target.pod,
    namespace: target.namespace,
    container: target.container,
    containerID: target.containerID,
    hostPIDs,
  };
  const cgroupDirs: string[] = [];
  if (cgroup.unifiedRoot !== undefined) {
    const root = cgroup.unifiedRoot;
    const covered = entries.every((e) => e.cgroup.unified?.includes(parsed.id));
    let paths = uniq(entries.map((e) => e.cgroup.unified).filter((p): p is string => p !== undefined && p.includes(parsed.id)));
    let dirs = paths.map((p) => cgroupDir(root, p));
    if (covered && (paths.some((p) => p.split('/').includes('..')) || dirs.some((d) => !existsSync(d)))) {
      // Paths relative to another cgroup namespace: find the directories by name instead.
      dirs = findCgroupDirsById(root, parsed.id);
      paths = dirs.map((d) => d.slice(root.replace(/\/+$/, '').length) || '/');
    }
    const found = dirs
      .map((dir, i) => ({ dir, path: paths[i] ?? dir, id: cgroupIdOf(dir) }))
      .filter((x): x is { dir: string; path: string; id: string } => x.id !== undefined)
      .sort((a, b) => a.path.length - b.path.length); // the container's own cgroup first, nested ones after
    // Every process must be covered by a cgroup id, otherwise fall back to other filters.
    if (covered && found.length > 0) {
      res.cgroupPath = found[0]?.path;
      const all = uniq(found.map((f) => f.id));
      res.cgroupID = all[0];
      res.cgroupIDs = all;
      cgroupDirs.push(...found.map((f) => f.dir));
    }
  }
  const first = hostPIDs[0];
  if (first !== undefined) {
    res.mntNs = nsInode(first, 'mnt', procRoot);
    res.netNs = nsInode(first, 'net', procRoot);
    res.pidNs = nsInode(first, 'pid', procRoot);
  }
  return { ok: true, target: res, cgroupDirs };
}

/** Whether the target still has live processes: cgroup.procs when known, else a /proc rescan. */
export function targetAlive(containerIds: string[], cgroupDirs: string[], procRoot = '/proc'): boolean {
  if (cgroupDirs.length > 0) {
    for (const dir of cgroupDirs) {
      try {
        if (readFileSync(`${dir}/cgroup.procs`, 'utf8').trim() !== '') return true;
      } catch {
        // cgroup removed: container gone
      }
    }
    // Processes may have moved to a cgroup we did not know about: confirm with a scan.
  }
  const scan = scanProc(procRoot);
  return containerIds.some((id) =>
    pidsOfContainer(id, scan).some((e) => {
      // A zombie still shows its cgroup in /proc/<pid>/cgroup but is gone from cgroup.procs.
      try {
        return parseStatState(readFileSync(`${procRoot}/${e.pid}/stat`, 'utf8')) !== 'Z';
      } catch {
        return false;
      }
    }),
  );
}
