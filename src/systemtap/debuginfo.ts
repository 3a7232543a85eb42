// Kernel debuginfo + build tree (headers) for SystemTap's module runtime.
//
// Pure: from the node's /etc/os-release text, `uname -r`, what already exists on
// the host and the DEBUGINFOD_URLS setting, decide where stap gets
//   - debuginfo (DWARF vmlinux; needed for kernel.function/statement probes and @cast), and
//   - the kernel build tree (headers, .config, Module.symvers; needed to build the module).
// Sources, in order: the host's own files; debuginfod for debuginfo (it replaces the
// debuginfo package, never the headers); distro packages matching `uname -r` exactly.
// Nothing matching → `DebuginfoUnavailable` with a reason naming what is missing.
//
// debuginfoInitContainer() turns a package plan into an init container that downloads
// and unpacks the packages into a hostPath cache (no install into the node's root),
// bounded by a timeout; the second run on a node finds the `.complete` marker and
// skips the download. src/controller/debuginfo-for-run.ts decides per run whether the
// node Job gets it.
import type { V1Container } from '@kubernetes/client-node';
import { KERNEL_RELEASE, OS_VERSION_ID, OS_WORD } from '../api/node-capabilities.js';

export interface OsRelease {
  /** ID, lower-case ("rhel", "debian", "ubuntu", …). */
  id: string;
  /** ID_LIKE words. */
  idLike: string[];
  versionId?: string;
  codename?: string;
  prettyName?: string;
}

/** Parses os-release(5) text (KEY=value, optional single/double quotes, # comments). */
export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = (m[2] ?? '').trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    kv.set(m[1] ?? '', v.replace(/\\(["'$`\\])/g, '$1'));
  }
  const out: OsRelease = {
    id: (kv.get('ID') ?? 'linux').toLowerCase(),
    idLike: (kv.get('ID_LIKE') ?? '').toLowerCase().split(/\s+/).filter(Boolean),
  };
  const versionId = kv.get('VERSION_ID');
  const codename = kv.get('VERSION_CODENAME') ?? kv.get('UBUNTU_CODENAME');
  const pretty = kv.get('PRETTY_NAME');
  if (versionId) out.versionId = versionId;
  if (codename) out.codename = codename;
  if (pretty) out.prettyName = pretty;
  return out;
}

export type DistroFamily = 'rhel' | 'debian' | 'ubuntu';

const RHEL_IDS = new Set(['rhel', 'centos', 'rocky', 'almalinux', 'alma', 'fedora', 'amzn', 'ol', 'oracle']);

/** The package family of an OS (ID first, then ID_LIKE); undefined when unknown. */
export function distroFamily(os: Pick<OsRelease, 'id' | 'idLike'>): DistroFamily | undefined {
  if (os.id === 'ubuntu') return 'ubuntu';
  if (os.id === 'debian') return 'debian';
  if (RHEL_IDS.has(os.id)) return 'rhel';
  // Derivatives: ID_LIKE="rhel centos fedora", ID_LIKE="ubuntu debian", ID_LIKE=debian.
  if (os.idLike.includes('ubuntu')) return 'ubuntu';
  if (os.idLike.some((x) => RHEL_IDS.has(x))) return 'rhel';
  if (os.idLike.includes('debian')) return 'debian';
  return undefined;
}

/** Where distros put the DWARF vmlinux for a release (RHEL-like first, then Debian/Ubuntu). */
export function hostVmlinuxCandidates(release: string): string[] {
  return [`/usr/lib/debug/lib/modules/${release}/vmlinux`, `/usr/lib/debug/boot/vmlinux-${release}`];
}

export const ARCHES = ['x86_64', 'aarch64', 'ppc64le', 's390x', 'i686', 'armv7hl', 'noarch'] as const;

export interface RhelRelease {
  /** "5.14.0" */
  version: string;
  /** "362.8.1.el9_3" */
  release: string;
  /** "x86_64" (from the suffix, or the node's arch when uname -r has none) */
  arch: string;
  /** "el9_3", "fc39", "amzn2023" */
  dist: string;
  /** "" or "debug"/"rt" for `+debug` kernels (package kernel-debug-…) */
  variant: string;
}

/**
 * `5.14.0-362.8.1.el9_3.x86_64`, `4.18.0-513.el8.x86_64`, `6.5.6-300.fc39.x86_64`,
 * `6.1.56-82.125.amzn2023.x86_64`, `5.14.0-284.11.1.el9_2.x86_64+debug`; the arch
 * suffix is optional (some tools strip it): then `arch` is the node's.
 */
export function parseRhelRelease(uname: string, nodeArch = 'x86_64'): RhelRelease | undefined {
  const m = /^(\d+\.\d+(?:\.\d+)?)-([0-9][0-9A-Za-z._]*?)(?:\.(x86_64|aarch64|ppc64le|s390x|i686|armv7hl))?(?:\+(debug|rt))?$/.exec(uname);
  if (!m) return undefined;
  const release = m[2] ?? '';
  const dist = /(?:^|\.)((?:el\d+[0-9_]*)|(?:fc\d+)|(?:amzn\d+))(?:\.|$)/.exec(release)?.[1];
  if (!dist) return undefined;
  return { version: m[1] ?? '', release, arch: m[3] ?? nodeArch, dist, variant: m[4] ?? '' };
}

/** Debian/Ubuntu `6.1.0-18-amd64`, `6.8.0-45-generic`, `6.12.38+deb13-amd64` → {abi, flavour}. */
export function parseDebianRelease(uname: string): { abi: string; flavour: string } | undefined {
  const m = /^(\d+\.\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?|\+[a-z0-9.~]+))-([a-z][a-z0-9]*(?:-[a-z0-9]+)*)$/.exec(uname);
  if (!m) return undefined;
  const flavour = m[2] ?? '';
  // Debian/Ubuntu flavours are known words; "fc-v769" style custom builds are not.
  if (!/^(amd64|arm64|armmp(-lpae)?|686(-pae)?|cloud-(amd64|arm64)|rt-(amd64|arm64)|ppc64el|s390x|generic(-64k|-lpae)?|lowlatency(-64k)?|aws|azure|gcp|gke|kvm|oracle|ibm|nvidia|raspi|virtual)$/.test(flavour)) {
    return undefined;
  }
  return { abi: m[1] ?? '', flavour };
}

export interface PackageNeed {
  purpose: 'debuginfo' | 'headers';
  /** Try in order; the first that installs wins (Debian renamed -dbg → -dbgsym). */
  candidates: string[];
}

export interface DebuginfoInput {
  /** /etc/os-release text of the node (undefined when unreadable). */
  osRelease: string | undefined;
  /** Already parsed os-release (e.g. from the node capability report); wins over `osRelease`. */
  os?: OsRelease;
  /** `uname -r` */
  kernelRelease: string;
  /** `uname -m`; used when the RHEL release has no arch suffix. */
  arch?: string;
  /** What the host already has. */
  host: { vmlinux?: string; buildTree?: string };
  /** DEBUGINFOD_URLS (space-separated); empty/undefined = not configured. */
  debuginfodUrls?: string;
}

export type DebuginfoPlan =
  | {
      kind: 'host';
      vmlinux?: string;
      debuginfod?: string;
      buildTree: string;
      notes: string[];
    }
  | {
      kind: 'packages';
      /** `uname -r` the packages match. */
      release: string;
      family: DistroFamily;
      manager: 'dnf' | 'yum' | 'apt';
      /** Image of the node's distro to fetch packages with. */
      image: string;
      packages: PackageNeed[];
      /** Extra repositories to enable (RHEL debuginfo repos, Ubuntu ddebs). */
      repos: string[];
      /** Host debuginfo or debuginfod when only headers are missing. */
      vmlinux?: string;
      debuginfod?: string;
      /** The unpacked build tree, relative to the cache root for this release. */
      buildTreeInCache?: string;
      notes: string[];
    }
  | { kind: 'unavailable'; reason: 'DebuginfoUnavailable'; message: string };

const unavailable = (message: string): DebuginfoPlan => ({ kind: 'unavailable', reason: 'DebuginfoUnavailable', message });

function major(v: string | undefined): number | undefined {
  const n = Number((v ?? '').split('.')[0]);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/** What to use for debuginfo and headers on this node. Pure. */
export function resolveDebuginfo(input: DebuginfoInput): DebuginfoPlan {
  const rel = input.kernelRelease.trim();
  const debuginfod = (input.debuginfodUrls ?? '').trim() || undefined;
  const hostVmlinux = input.host.vmlinux;
  const haveDebug = hostVmlinux !== undefined || debuginfod !== undefined;
  const debugSource = hostVmlinux !== undefined ? { vmlinux: hostVmlinux } : debuginfod ? { debuginfod } : {};
  if (input.host.buildTree !== undefined && haveDebug) {
    const notes = hostVmlinux ? [] : [`debuginfo from debuginfod (${debuginfod}); headers from the host`];
    return { kind: 'host', ...debugSource, buildTree: input.host.buildTree, notes };
  }
  if (!isKernelRelease(rel)) return unavailable(`kernel release ${JSON.stringify(rel)} is not a valid release string`);
  const missing = [!haveDebug ? 'debuginfo' : undefined, input.host.buildTree === undefined ? 'headers' : undefined].filter(Boolean).join(' and ');
  const os = input.os ?? (input.osRelease !== undefined ? parseOsRelease(input.osRelease) : undefined);
  if (os === undefined) return unavailable(`no /etc/os-release on the node: cannot pick packages for kernel ${rel} (missing ${missing})`);
  // These words become image tags and package source lines: checked here too, whatever the caller validated.
  const badOs = osReleaseProblem(os);
  if (badOs) return unavailable(`cannot pick packages for kernel ${rel}: ${badOs}`);
  const family = distroFamily(os);
  const osName = os.prettyName ?? `${os.id} ${os.versionId ?? ''}`.trim();
  if (!family) {
    return unavailable(
      `no debuginfo source for kernel ${rel} on ${osName}: the host has no ${missing}, the distribution is not RHEL-like, Debian or Ubuntu` +
        (debuginfod ? '' : ', and DEBUGINFOD_URLS is not configured'),
    );
  }
  const wantDebug = !haveDebug;
  const wantHeaders = input.host.buildTree === undefined;
  const packages: PackageNeed[] = [];
  const repos: string[] = [];
  const notes: string[] = [];
  let manager: 'dnf' | 'yum' | 'apt';
  let image: string;
  let buildTreeInCache: string;

  if (family === 'rhel') {
    const r = parseRhelRelease(rel, input.arch ?? 'x86_64');
    if (!r) {
      return unavailable(
        `kernel ${rel} is not a ${osName} distribution kernel (expected e.g. 5.14.0-362.8.1.el9_3.x86_64): no kernel-debuginfo/kernel-devel package can match it`,
      );
    }
    const nevra = `${r.version}-${r.release}.${r.arch}`;
    const k = r.variant ? `kernel-${r.variant}` : 'kernel';
    if (wantDebug) {
      packages.push({ purpose: 'debuginfo', candidates: [`${k}-debuginfo-${nevra}`] });
      packages.push({ purpose: 'debuginfo', candidates: [`kernel-debuginfo-common-${r.arch}-${nevra}`] });
    }
    if (wantHeaders) packages.push({ purpose: 'headers', candidates: [`${k}-devel-${nevra}`] });
    const ver = major(os.versionId);
    manager = (os.id === 'amzn' && ver === 2) || ((os.id === 'centos' || os.id === 'rhel') && (ver ?? 8) < 8) ? 'yum' : 'dnf';
    if (wantDebug) repos.push('*debuginfo*', '*-debug-*');
    image = rhelImage(os, ver);
    buildTreeInCache = `root/usr/src/kernels/${nevra}${r.variant ? `+${r.variant}` : ''}`;
  } else {
    const d = parseDebianRelease(rel);
    if (!d) {
      return unavailable(
        `kernel ${rel} is not a ${osName} distribution kernel (expected e.g. ${family === 'ubuntu' ? '6.8.0-45-generic' : '6.1.0-18-amd64'}): no ${family === 'ubuntu' ? 'dbgsym' : '-dbg'}/linux-headers package can match it`,
      );
    }
    manager = 'apt';
    if (wantDebug) {
      if (family === 'ubuntu') {
        packages.push({ purpose: 'debuginfo', candidates: [`linux-image-unsigned-${rel}-dbgsym`, `linux-image-${rel}-dbgsym`] });
        const cn = os.codename ?? 'noble';
        repos.push(`deb http://ddebs.ubuntu.com ${cn} main restricted universe multiverse`, `deb http://ddebs.ubuntu.com ${cn}-updates main restricted universe multiverse`);
        notes.push('Ubuntu debug symbols come from ddebs.ubuntu.com (keyring: ubuntu-dbgsym-keyring)');
      } else {
        // Debian ≤ 12 ships linux-image-<rel>-dbg; newer kernels' automatic debug packages are -dbgsym.
        const newer = (major(os.versionId) ?? 12) >= 13;
        const dbg = `linux-image-${rel}-dbg`;
        const dbgsym = `linux-image-${rel}-dbgsym`;
        packages.push({ purpose: 'debuginfo', candidates: newer ? [dbgsym, dbg] : [dbg, dbgsym] });
        if (newer) repos.push(`deb http://deb.debian.org/debian-debug ${os.codename ?? 'trixie'}-debug main`);
      }
    }
    if (wantHeaders) packages.push({ purpose: 'headers', candidates: [`linux-headers-${rel}`] });
    image = family === 'ubuntu' ? `docker.io/library/ubuntu:${os.codename ?? os.versionId ?? 'latest'}` : `docker.io/library/debian:${os.codename ?? 'stable'}`;
    buildTreeInCache = `root/usr/src/linux-headers-${rel}`;
  }
  if (!wantDebug) notes.push(hostVmlinux ? `debuginfo from the host (${hostVmlinux})` : `debuginfo from debuginfod (${debuginfod}); debuginfod does not provide headers`);
  if (!wantHeaders) notes.push(`headers from the host (${input.host.buildTree})`);
  return {
    kind: 'packages',
    release: rel,
    family,
    manager,
    image,
    packages,
    repos,
    ...(!wantDebug ? debugSource : {}),
    ...(wantHeaders ? { buildTreeInCache } : {}),
    notes,
  };
}

function rhelImage(os: OsRelease, ver: number | undefined): string {
  const v = ver ?? 9;
  switch (os.id) {
    case 'fedora':
      return `registry.fedoraproject.org/fedora:${os.versionId ?? 'latest'}`;
    case 'amzn':
      return `public.ecr.aws/amazonlinux/amazonlinux:${os.versionId ?? '2023'}`;
    case 'rocky':
      return `quay.io/rockylinux/rockylinux:${v}`;
    case 'almalinux':
    case 'alma':
      return `quay.io/almalinuxorg/almalinux:${v}`;
    case 'centos':
      return `quay.io/centos/centos:stream${v}`;
    default:
      return `registry.access.redhat.com/ubi${v}/ubi`;
  }
}

export const DEBUGINFO_CACHE_DIR = '/var/cache/tracejob/debuginfo';
/** Exit code of the init container when no package matched (the operator maps it to DebuginfoUnavailable). */
export const DEBUGINFO_UNAVAILABLE_EXIT = 42;

export interface InitContainerOptions {
  /** Bounded time for the whole download (seconds, default 600). */
  timeoutSeconds?: number;
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** A kernel release usable in package names and paths (starts with a digit). */
function isKernelRelease(rel: string): boolean {
  return KERNEL_RELEASE.test(rel) && /^[0-9]/.test(rel);
}

/** Why os-release fields cannot be used to pick images and repositories (undefined when they can). */
function osReleaseProblem(os: Pick<OsRelease, 'id' | 'idLike' | 'versionId' | 'codename'>): string | undefined {
  const bad: string[] = [];
  if (!OS_WORD.test(os.id)) bad.push(`ID ${JSON.stringify(os.id)}`);
  for (const w of os.idLike) if (!OS_WORD.test(w)) bad.push(`ID_LIKE word ${JSON.stringify(w)}`);
  if (os.versionId !== undefined && !OS_VERSION_ID.test(os.versionId)) bad.push(`VERSION_ID ${JSON.stringify(os.versionId)}`);
  if (os.codename !== undefined && !OS_WORD.test(os.codename)) bad.push(`VERSION_CODENAME ${JSON.stringify(os.codename)}`);
  return bad.length ? `os-release ${bad.join(', ')} is not valid` : undefined;
}

/** Package names as the plans build them (distro name + kernel release). */
const PACKAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,200}$/;
/** `deb http://host/path suite component…`: the only apt source lines the plans write. */
const APT_SOURCE = /^deb http:\/\/[a-z0-9.-]+(\/[A-Za-z0-9._-]+)* [a-z0-9][a-z0-9._-]{0,60} [a-z][a-z ]{0,80}$/;
/** dnf/yum `--enablerepo` globs. */
const REPO_GLOB = /^[A-Za-z0-9*._-]{1,64}$/;
/** registry/path:tag image references. */
const IMAGE_REF = /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?$/;

/**
 * Checks every plan value that goes into the init container's shell script or image
 * (defence in depth: the capability report is validated when read, this is the point
 * of use). Throws with what is wrong.
 */
export function assertSafePlan(plan: Extract<DebuginfoPlan, { kind: 'packages' }>): void {
  const bad: string[] = [];
  if (!isKernelRelease(plan.release)) bad.push(`kernel release ${JSON.stringify(plan.release)}`);
  for (const p of plan.packages) for (const c of p.candidates) if (!PACKAGE_NAME.test(c)) bad.push(`package name ${JSON.stringify(c)}`);
  for (const r of plan.repos) if (!(plan.manager === 'apt' ? APT_SOURCE : REPO_GLOB).test(r)) bad.push(`repository ${JSON.stringify(r)}`);
  if (!IMAGE_REF.test(plan.image)) bad.push(`image ${JSON.stringify(plan.image)}`);
  if (plan.buildTreeInCache !== undefined && (!/^[A-Za-z0-9._+~/-]+$/.test(plan.buildTreeInCache) || plan.buildTreeInCache.split('/').includes('..'))) {
    bad.push(`build tree path ${JSON.stringify(plan.buildTreeInCache)}`);
  }
  if (bad.length) throw new Error(`refusing to build the debuginfo script: invalid ${bad.join(', ')}`);
}

/**
 * An init container that fetches and unpacks the plan's packages into
 * `<cacheHostPath>/<release>/root` (mounted at /cache) unless `.complete` is there
 * already. Packages are downloaded and extracted, never installed into the node.
 * Returns undefined for plans that need no packages.
 */
export function debuginfoInitContainer(plan: DebuginfoPlan, cacheHostPath: string = DEBUGINFO_CACHE_DIR, opts: InitContainerOptions = {}): V1Container | undefined {
  if (plan.kind !== 'packages' || plan.packages.length === 0) return undefined;
  const timeout = Math.max(30, Math.min(3600, Math.floor(opts.timeoutSeconds ?? 600)));
  assertSafePlan(plan);
  const rel = plan.release;
  const dir = `/cache/${rel}`;
  const fetchOne = (p: PackageNeed): string => {
    const tries = p.candidates.map((c) => (plan.manager === 'apt' ? `apt-get download ${shq(c)}` : `${plan.manager} download ${plan.repos.map((r) => `--enablerepo=${shq(r)}`).join(' ')} --destdir . ${shq(c)}`));
    const why = shq(`DebuginfoUnavailable: none of ${p.candidates.join(', ')} is available`);
    return `( ${tries.join(' || ')} ) || { echo ${why} >&2; echo ${why} > /dev/termination-log; exit ${DEBUGINFO_UNAVAILABLE_EXIT}; }`;
  };
  const setup =
    plan.manager === 'apt'
      ? [
          ...plan.repos.map((r) => `echo ${shq(r)} >> /etc/apt/sources.list.d/tracejob-debug.list`),
          // Stale lists still name what exists; the download below is what decides.
          'apt-get update -qq || echo "apt-get update failed; using the image\'s package lists" >&2',
        ]
      : [];
  const unpack = plan.manager === 'apt' ? 'for f in *.deb; do dpkg-deb -x "$f" "$D/root"; done' : 'for f in *.rpm; do rpm2cpio "$f" | (cd "$D/root" && cpio -idm --quiet); done';
  const script = [
    'set -eu',
    `D=${shq(dir)}`,
    '[ -f "$D/.complete" ] && { echo "debuginfo cache hit for $D"; exit 0; }',
    // A failed or timed-out fetch leaves nothing half-unpacked on the node.
    'trap \'[ -f "$D/.complete" ] || rm -rf "$D"\' EXIT',
    "trap 'exit 124' TERM",
    'mkdir -p "$D/root" "$D/pkgs" && cd "$D/pkgs"',
    ...setup,
    ...plan.packages.map(fetchOne),
    unpack,
    'rm -rf "$D/pkgs"',
    'touch "$D/.complete"',
  ].join('\n');
  return {
    name: 'debuginfo',
    image: plan.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['timeout', '--kill-after=10', String(timeout), 'sh', '-c', script],
    env: [
      { name: 'DEBIAN_FRONTEND', value: 'noninteractive' },
      // For the log: where /cache lives on the node (volume from debuginfoCacheVolume()).
      { name: 'TRACEJOB_DEBUGINFO_CACHE', value: `${cacheHostPath}/${rel}` },
    ],
    securityContext: { runAsUser: 0 },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'FallbackToLogsOnError',
    volumeMounts: [{ name: 'debuginfo-cache', mountPath: '/cache' }],
    resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
  };
}

/** The hostPath volume the init container and the agent share. */
export function debuginfoCacheVolume(cacheHostPath = DEBUGINFO_CACHE_DIR): { name: string; hostPath: { path: string; type: string } } {
  return { name: 'debuginfo-cache', hostPath: { path: cacheHostPath, type: 'DirectoryOrCreate' } };
}
