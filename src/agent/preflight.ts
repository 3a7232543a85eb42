// Node preflight: what this host can trace with. Pure parsers first (table-tested),
// then the one function that touches the host (`preflight()`).
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { arch as nodeArch, release } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { PreflightCaps, type PreflightCapsInput } from '../api/node-capabilities.js';
import type { NodeCapabilities } from '../probes/types.js';
import { hostVmlinuxCandidates, parseOsRelease } from '../systemtap/debuginfo.js';

// ---------------------------------------------------------------------------
// Pure parsers
// ---------------------------------------------------------------------------

export interface TracerVersion {
  version: string;
  major: number;
  minor: number;
}

/** "bpftrace v0.23.2" / "bpftrace v0.20.0-rc1" / "bpftrace 0.24.1-12-gabc" → {version, major, minor}. */
export function parseBpftraceVersion(text: string): TracerVersion | undefined {
  const m = /bpftrace\s+v?(\d+)\.(\d+)(?:\.(\d+))?([-+.~][0-9A-Za-z.+~-]*)?/.exec(text);
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = m[3] ?? '0';
  return { version: `${major}.${minor}.${patch}${m[4] ?? ''}`, major, minor };
}

export interface MountEntry {
  source: string;
  target: string;
  fstype: string;
  options: string[];
}

/** /proc/mounts decodes octal escapes (\040 = space, \011 = tab, \012 = newline, \134 = backslash). */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses /proc/mounts (or /proc/self/mounts) text. */
export function parseMounts(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    out.push({
      source: unescapeMountField(f[0] ?? ''),
      target: unescapeMountField(f[1] ?? ''),
      fstype: f[2] ?? '',
      options: (f[3] ?? '').split(','),
    });
  }
  return out;
}

export interface CgroupLayout {
  version: NodeCapabilities['cgroupVersion'];
  /** Mount point of the cgroup2 (unified) hierarchy; undefined on v1-only hosts. */
  unifiedRoot?: string;
  /** Mount points of v1 hierarchies by controller (name=systemd → "name=systemd"). */
  v1: Record<string, string>;
}

const V1_NON_CONTROLLER_OPTIONS = new Set(['rw', 'ro', 'nosuid', 'nodev', 'noexec', 'relatime', 'noatime', 'xattr', 'clone_children']);

/**
 * cgroup layout from the mount table. v2: cgroup2 is the only cgroup fs (normally at
 * /sys/fs/cgroup). hybrid: v1 controllers plus a cgroup2 mount (systemd puts it at
 * /sys/fs/cgroup/unified). v1: no cgroup2 anywhere.
 */
export function cgroupLayoutFromMounts(mounts: MountEntry[]): CgroupLayout {
  const v1: Record<string, string> = {};
  let unifiedRoot: string | undefined;
  for (const m of mounts) {
    if (m.fstype === 'cgroup2') {
      // Prefer the conventional locations if several cgroup2 mounts exist (bind mounts in pods).
      if (unifiedRoot === undefined || m.target === '/sys/fs/cgroup' || m.target === '/sys/fs/cgroup/unified') {
        unifiedRoot = m.target;
      }
    } else if (m.fstype === 'cgroup') {
      for (const opt of m.options) {
        if (V1_NON_CONTROLLER_OPTIONS.has(opt) || opt.startsWith('release_agent=')) continue;
        if (!(opt in v1)) v1[opt] = m.target;
      }
    }
  }
  const hasV1 = Object.keys(v1).length > 0;
  if (unifiedRoot === undefined) return { version: 'v1', v1 };
  return { version: hasV1 ? 'hybrid' : 'v2', unifiedRoot, v1 };
}

/**
 * Where tracefs is mounted at a place bpftrace looks (/sys/kernel/tracing, or debugfs'
 * automount at /sys/kernel/debug/tracing). Mounts elsewhere do not count: bpftrace
 * would not find them.
 */
export function tracefsFromMounts(mounts: MountEntry[]): string | undefined {
  const tracefs = mounts.filter((m) => m.fstype === 'tracefs').map((m) => m.target);
  if (tracefs.includes('/sys/kernel/tracing')) return '/sys/kernel/tracing';
  if (tracefs.includes('/sys/kernel/debug/tracing')) return '/sys/kernel/debug/tracing';
  return undefined;
}

/** Parses kernel .config text into option → value ("y", "m", quoted strings kept raw; "n" for "is not set"). */
export function parseKernelConfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set) {
      out.set(set[1] ?? '', set[2] ?? '');
      continue;
    }
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set/.exec(line);
    if (unset) out.set(unset[1] ?? '', 'n');
  }
  return out;
}

/** Effective capability mask from /proc/<pid>/status ("CapEff:\t000001fffeffffff"). */
export function parseCapEff(status: string): bigint | undefined {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  return m ? BigInt(`0x${m[1]}`) : undefined;
}

export const CAP_SYS_RESOURCE = 24;
export const CAP_SYS_ADMIN = 21;
export const CAP_BPF = 39;
export const CAP_PERFMON = 38;

/** Node's os.arch() → `uname -m` spelling. */
export function unameMachine(nodeArchName: string): string {
  const map: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i686', arm: 'armv7l', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return map[nodeArchName] ?? nodeArchName;
}

export function hasCap(mask: bigint | undefined, cap: number): boolean {
  return mask !== undefined && ((mask >> BigInt(cap)) & 1n) === 1n;
}

/** "Max locked memory  8388608  8388608  bytes" → {soft, hard} (undefined = unlimited). */
export function parseMemlockLimit(limits: string): { soft?: number; hard?: number } | undefined {
  const m = /^Max locked memory\s+(\S+)\s+(\S+)/m.exec(limits);
  if (!m) return undefined;
  const v = (s: string | undefined) => (s === undefined || s === 'unlimited' ? undefined : Number(s));
  return { soft: v(m[1]), hard: v(m[2]) };
}

/** tracefs available_events ("category:name" per line) → set. */
export function parseAvailableEvents(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t && t.includes(':')) out.add(t);
  }
  return out;
}

/** Accepts "syscalls:sys_enter_execve" and "tracepoint:syscalls:sys_enter_execve". */
export function normaliseTracepoint(name: string): string {
  return name.replace(/^(tracepoint|t):/, '');
}

/**
 * Whether a tracepoint exists: true/false when the node's list was enumerated,
 * undefined when unknown (the tracer will decide).
 */
export function tracepointExists(caps: Pick<NodeCapabilities, 'tracepoints'>, name: string): boolean | undefined {
  if (!caps.tracepoints) return undefined;
  return caps.tracepoints.has(normaliseTracepoint(name));
}

// ---------------------------------------------------------------------------
// Host facts beyond NodeCapabilities (the agent's own needs: where things are,
// and why SystemTap cannot run).
// ---------------------------------------------------------------------------

export interface HostFacts {
  tracefsPath?: string;
  /** Whether the agent had to mount tracefs itself. */
  tracefsMounted?: boolean;
  cgroup: CgroupLayout;
  /** Loadable kernel modules (/proc/modules present / CONFIG_MODULES). */
  modules: boolean;
  /** /lib/modules/$(uname -r)/build present (kernel headers/build tree). */
  kernelBuildTree: boolean;
  /** CAP_SYS_RESOURCE in the effective set: RLIMIT_MEMLOCK can be raised. */
  canRaiseMemlock: boolean;
  memlockBytes?: number;
  /** Path of the bpftrace binary used. */
  bpftracePath: string;
  bpftraceError?: string;
  stap: boolean;
  kernelConfig: 'proc' | 'boot' | 'none';
  warnings: string[];
  // --- capability-report facts (optional so older fixtures/tests still type-check) ---
  /** Kernel lockdown mode from /sys/kernel/security/lockdown ("none" also when the LSM is not built in). */
  lockdown?: LockdownMode;
  /** `stap -V` version, when stap is installed. */
  stapVersion?: string;
  /** Kernel debuginfo (DWARF vmlinux) on this host, and whether debuginfod is configured. */
  debuginfo?: { present: boolean; vmlinux?: string; debuginfod: boolean };
  /** /etc/os-release fields the debuginfo resolver needs (ID, ID_LIKE, VERSION_ID, VERSION_CODENAME). */
  os?: { id: string; idLike: string[]; versionId?: string; codename?: string; prettyName?: string };
}

export type LockdownMode = 'none' | 'integrity' | 'confidentiality' | 'unknown';

/**
 * /sys/kernel/security/lockdown ("[none] integrity confidentiality") → the selected mode.
 * When the file is absent: "none" if the kernel config says the lockdown LSM is not
 * built in, else "unknown" (securityfs not mounted / not readable).
 */
export function parseLockdown(text: string | undefined, config?: ReadonlyMap<string, string>): LockdownMode {
  if (text !== undefined) {
    const m = /\[(none|integrity|confidentiality)\]/.exec(text);
    if (m) return m[1] as LockdownMode;
    const t = text.trim();
    if (t === 'none' || t === 'integrity' || t === 'confidentiality') return t;
    return 'unknown';
  }
  if (config && config.size > 0) {
    const lsm = config.get('CONFIG_SECURITY_LOCKDOWN_LSM');
    if (lsm === undefined || lsm === 'n') return 'none';
  }
  return 'unknown';
}

/** "Systemtap translator/driver (version 4.8/0.188, Debian version 4.8-2)" → "4.8". */
export function parseStapVersion(text: string): string | undefined {
  return /Systemtap translator\/driver \(version ([0-9][0-9A-Za-z.+~-]*)/.exec(text)?.[1]?.replace(/\/.*$/, '');
}

/**
 * Which SystemTap runtimes could work here. Pure.
 * - module (default runtime): stap + loadable modules + the kernel build tree
 *   (kernel.function probes also need debuginfo: see `debuginfo` in the report).
 * - bpf (stapbpf, `--runtime=bpf`): stap + CAP_SYS_RESOURCE to raise RLIMIT_MEMLOCK.
 */
export function stapRuntimes(caps: Pick<AgentCapabilities, 'kernel' | 'host'>): { module: boolean; bpf: boolean } {
  const h = caps.host;
  return { module: h.stap && h.modules && h.kernelBuildTree, bpf: h.stap && h.canRaiseMemlock };
}

export interface AgentCapabilities extends NodeCapabilities {
  host: HostFacts;
}

/**
 * Why SystemTap cannot run here (empty when nothing is known to block it). Pure.
 * `need: 'any'` (default): empty when either runtime works. `need: 'module'`: the
 * catalog scripts print @hist_log tables and loop in `end`, which stapbpf cannot do,
 * so they need the module runtime; the stapbpf blocker is still listed for context.
 */
export function systemtapBlockers(caps: Pick<AgentCapabilities, 'kernel' | 'host'>, need: 'any' | 'module' = 'any'): string[] {
  const h = caps.host;
  const rt = stapRuntimes(caps);
  if (need === 'any' ? rt.module || rt.bpf : rt.module) return [];
  const out: string[] = [];
  if (!h.stap) out.push('stap is not installed in the agent image');
  if (!h.modules) {
    out.push(
      'the kernel has no loadable module support (CONFIG_MODULES off, /proc/modules absent), so the default SystemTap runtime cannot load its module',
    );
  }
  if (!h.kernelBuildTree) {
    out.push(`no kernel build tree at /lib/modules/${caps.kernel}/build (headers, .config, Module.symvers) to compile a module`);
  }
  if (!h.canRaiseMemlock) {
    out.push('stapbpf (--runtime=bpf) must raise RLIMIT_MEMLOCK but the agent lacks CAP_SYS_RESOURCE');
  }
  return out;
}

/** Control characters other than tab/newline, which the report schema refuses in texts. */
const CONTROL = /(?![\t\n])\p{Cc}/gu;
const clip = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s).replace(CONTROL, '?');

/**
 * The preflight message payload (tracepoint set summarised: it is ~2000 names), in the
 * shape of the shared schema (src/api/node-capabilities.ts). A host value the schema
 * would refuse (an odd os-release codename, say) is left out with a warning, so one
 * strange field does not cost the node its whole report.
 */
export function capsForMessage(caps: AgentCapabilities): PreflightCapsInput {
  const { tracepoints, host, ...rest } = caps;
  let payload = {
    ...rest,
    tracepoints: tracepoints ? tracepoints.size : undefined,
    host: {
      ...host,
      cgroup: { version: host.cgroup.version, unifiedRoot: host.cgroup.unifiedRoot },
      ...(host.bpftraceError !== undefined ? { bpftraceError: clip(host.bpftraceError, 2000) } : {}),
      warnings: host.warnings.slice(0, 50).map((w) => clip(w, 1000)),
      ...(host.os?.prettyName !== undefined ? { os: { ...host.os, prettyName: clip(host.os.prettyName, 200).replace(/[\t\n]/g, ' ') } } : {}),
    },
  };
  for (let round = 0; round < 20; round++) {
    const r = PreflightCaps.safeParse(payload);
    if (r.success) break;
    const path = (r.error.issues[0]?.path ?? []).map(String);
    // The nearest enclosing value whose removal clears the issue (an optional leaf, or the
    // optional object around a required one). The kernel release and `host` stay: the
    // operator then refuses the report and says why.
    let fixed: typeof payload | undefined;
    for (let depth = path.length; depth >= 1 && fixed === undefined; depth--) {
      const at = path.slice(0, depth);
      if (at.length === 1 && (at[0] === 'kernel' || at[0] === 'host')) break;
      const trial = structuredClone(payload);
      const parent = at.slice(0, -1).reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), trial);
      if (!parent || typeof parent !== 'object') continue;
      const leaf = at[at.length - 1] as string;
      if (Array.isArray(parent)) parent.splice(Number(leaf), 1);
      else delete (parent as Record<string, unknown>)[leaf];
      const again = PreflightCaps.safeParse(trial);
      const prefix = at.join('.');
      if (again.success || !again.error.issues.some((i) => i.path.map(String).join('.').startsWith(prefix))) fixed = trial;
    }
    if (fixed === undefined) break;
    fixed.host.warnings.push(`preflight value ${path.join('.')} left out of the report: ${r.error.issues[0]?.message ?? 'invalid'}`);
    payload = fixed;
  }
  return payload;
}

// ---------------------------------------------------------------------------
// I/O
// ---------------------------------------------------------------------------

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    // accessSync passes for root even where open() is refused (e.g. lockdown); try a real read.
    readFileSync(path, { flag: 'r' }).subarray(0, 1);
    return true;
  } catch {
    return false;
  }
}

function loadKernelConfig(kernel: string): { config: Map<string, string>; source: HostFacts['kernelConfig'] } {
  try {
    const gz = readFileSync('/proc/config.gz');
    return { config: parseKernelConfig(gunzipSync(gz).toString('utf8')), source: 'proc' };
  } catch {
    // fall through
  }
  const boot = readText(`/boot/config-${kernel}`);
  if (boot !== undefined) return { config: parseKernelConfig(boot), source: 'boot' };
  return { config: new Map(), source: 'none' };
}

function tryMount(args: string[]): string | undefined {
  const r = spawnSync('mount', args, { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return r.error.message;
  if (r.status !== 0) return (r.stderr || `mount exited ${r.status}`).trim();
  return undefined;
}

/** Finds or mounts tracefs. */
function ensureTracefs(warnings: string[]): { path?: string; mounted: boolean } {
  const mounts = parseMounts(readText('/proc/self/mounts') ?? readText('/proc/mounts') ?? '');
  const found = tracefsFromMounts(mounts);
  if (found) return { path: found, mounted: false };
  const err = existsSync('/sys/kernel/tracing') ? tryMount(['-t', 'tracefs', 'nodev', '/sys/kernel/tracing']) : 'no /sys/kernel/tracing';
  if (err === undefined) return { path: '/sys/kernel/tracing', mounted: true };
  warnings.push(`mounting tracefs at /sys/kernel/tracing failed: ${err}`);
  // Older layout: debugfs automounts tracefs at /sys/kernel/debug/tracing.
  if (existsSync('/sys/kernel/debug/tracing/events')) return { path: '/sys/kernel/debug/tracing', mounted: false };
  const derr = tryMount(['-t', 'debugfs', 'nodev', '/sys/kernel/debug']);
  if (derr === undefined && existsSync('/sys/kernel/debug/tracing/events')) return { path: '/sys/kernel/debug/tracing', mounted: true };
  if (derr !== undefined) warnings.push(`mounting debugfs at /sys/kernel/debug failed: ${derr}`);
  return { mounted: false };
}

export interface PreflightOptions {
  bpftracePath?: string;
  /** Skip mounting tracefs (tests). */
  noMount?: boolean;
}

export function bpftraceVersion(bpftracePath: string): { version?: TracerVersion; error?: string } {
  const r = spawnSync(bpftracePath, ['--version'], { encoding: 'utf8', timeout: 15_000 });
  if (r.error) return { error: `cannot run ${bpftracePath}: ${r.error.message}` };
  const v = parseBpftraceVersion(`${r.stdout}\n${r.stderr}`);
  if (!v) return { error: `unrecognised \`${bpftracePath} --version\` output: ${(r.stdout + r.stderr).trim().slice(0, 200)}` };
  return { version: v };
}

/** The host's root filesystem as seen from a hostPID pod (the same root when run on the host). */
const HOST_ROOT = '/proc/1/root';

function stapVersion(): string | undefined {
  const r = spawnSync('stap', ['-V'], { encoding: 'utf8', timeout: 15_000 });
  if (r.error) return undefined;
  return parseStapVersion(`${r.stdout}\n${r.stderr}`);
}

/** Kernel debuginfo on this host: the DWARF vmlinux where distros put it; debuginfod from the env. */
function hostDebuginfo(kernel: string, env: NodeJS.ProcessEnv): NonNullable<HostFacts['debuginfo']> {
  const vmlinux = hostVmlinuxCandidates(kernel)
    .flatMap((p) => [p, `${HOST_ROOT}${p}`])
    .find((p) => existsSync(p));
  return { present: vmlinux !== undefined, ...(vmlinux ? { vmlinux } : {}), debuginfod: (env['DEBUGINFOD_URLS'] ?? '').trim() !== '' };
}

function which(cmd: string): boolean {
  const path = process.env['PATH'] ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return path.split(':').some((dir) => dir && existsSync(`${dir}/${cmd}`));
}

/** Probes the host. Never throws; a missing tracer is reported in host.bpftraceError. */
export function preflight(opts: PreflightOptions = {}): AgentCapabilities {
  const warnings: string[] = [];
  const kernel = release();
  const { config, source } = loadKernelConfig(kernel);
  const cfg = (k: string) => config.get(k);

  const tfs = opts.noMount
    ? { path: tracefsFromMounts(parseMounts(readText('/proc/self/mounts') ?? '')), mounted: false }
    : ensureTracefs(warnings);
  const t = tfs.path;

  const btf = existsSync('/sys/kernel/btf/vmlinux');
  const kprobes = t !== undefined ? existsSync(`${t}/kprobe_events`) && cfg('CONFIG_KPROBES') !== 'n' : cfg('CONFIG_KPROBES') === 'y';
  const kfunc = btf && t !== undefined && readable(`${t}/available_filter_functions`);
  const uprobes = t !== undefined ? existsSync(`${t}/uprobe_events`) : cfg('CONFIG_UPROBE_EVENTS') === 'y';
  const perfEvents = existsSync('/proc/sys/kernel/perf_event_paranoid');

  let tracepoints: Set<string> | undefined;
  if (t !== undefined) {
    const ev = readText(`${t}/available_events`);
    if (ev !== undefined) tracepoints = parseAvailableEvents(ev);
  }

  const cgroup = cgroupLayoutFromMounts(parseMounts(readText('/proc/self/mounts') ?? readText('/proc/mounts') ?? ''));

  const bpftracePath = opts.bpftracePath ?? 'bpftrace';
  const bv = bpftraceVersion(bpftracePath);

  const capEff = parseCapEff(readText('/proc/self/status') ?? '');
  const memlock = parseMemlockLimit(readText('/proc/self/limits') ?? '');
  const modules = existsSync('/proc/modules') || cfg('CONFIG_MODULES') === 'y';

  const host: HostFacts = {
    tracefsPath: t,
    tracefsMounted: tfs.mounted,
    cgroup,
    modules,
    // The agent's own root, or the host's seen through /proc/1/root (hostPID: the node's init).
    kernelBuildTree: ['', HOST_ROOT].some((r) => existsSync(`${r}/lib/modules/${kernel}/build/Makefile`) || existsSync(`${r}/lib/modules/${kernel}/build/include`)),
    canRaiseMemlock: hasCap(capEff, CAP_SYS_RESOURCE),
    memlockBytes: memlock?.soft,
    bpftracePath,
    bpftraceError: bv.error,
    stap: which('stap'),
    kernelConfig: source,
    warnings,
    lockdown: parseLockdown(readText('/sys/kernel/security/lockdown'), config),
    debuginfo: hostDebuginfo(kernel, process.env),
  };
  if (host.stap) {
    const v = stapVersion();
    if (v !== undefined) host.stapVersion = v;
  }
  // The node's OS, not the agent image's: /proc/1/root is the host root under hostPID.
  const osText = readText(`${HOST_ROOT}/etc/os-release`) ?? readText('/etc/os-release') ?? readText('/usr/lib/os-release');
  if (osText !== undefined) host.os = parseOsRelease(osText);
  if (t === undefined) warnings.push('tracefs is not available: tracepoint, kprobe and uprobe probes cannot attach');
  if (!btf) warnings.push('no BTF at /sys/kernel/btf/vmlinux: struct casts and kfunc probes are unavailable');

  const caps: AgentCapabilities = {
    kernel,
    btf,
    tracefs: t !== undefined,
    kprobes,
    kfunc,
    uprobes,
    perfEvents,
    cgroupVersion: cgroup.version,
    arch: unameMachine(nodeArch()),
    tracepoints,
    host,
  };
  if (bv.version) caps.bpftrace = bv.version;
  return caps;
}
