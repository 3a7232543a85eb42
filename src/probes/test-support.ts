// Test helpers: fixtures for every filter mode, and a real bpftrace runner that
// attaches a program, lets it run, SIGINTs it (as the agent does) and returns
// its output. Used by the compile-check and ground-truth tests only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CATALOG_PROBES, type CatalogProbeName } from '../api/probe-names.js';
import type { NodeCapabilities, RenderContext, TargetFilter } from './types.js';

export const CAPS_017: NodeCapabilities = {
  kernel: '6.18.0',
  btf: true,
  tracefs: true,
  kprobes: false,
  kfunc: false,
  uprobes: true,
  perfEvents: true,
  cgroupVersion: 'hybrid',
  bpftrace: { version: 'v0.17.0', major: 0, minor: 17 },
  arch: 'x86_64',
};

export const CAPS_023: NodeCapabilities = { ...CAPS_017, bpftrace: { version: 'v0.23.2', major: 0, minor: 23 } };

export const FILTERS: Record<TargetFilter['mode'], TargetFilter> = {
  cgroup: { mode: 'cgroup', cgroupIds: ['1234', '5678'], netNs: [4026532001], pids: [4242], mntNs: [4026532002] },
  pids: { mode: 'pids', pids: [4242, 4343], netNs: [4026532001], mntNs: [4026532002] },
  namespace: { mode: 'namespace', mntNs: [4026532002], netNs: [4026532001], pids: [4242] },
  node: { mode: 'node' },
};

/** Params that make every probe renderable (the defaults, plus required fields). */
export const SAMPLE_PARAMS: Partial<Record<CatalogProbeName, unknown>> = {
  funcLatency: { binary: '/usr/bin/bash', function: 'readline' },
  dnsLatency: { libc: '/lib/x86_64-linux-gnu/libc.so.6' },
};

export function ctxFor<P>(params: P, filter: TargetFilter, caps: NodeCapabilities = CAPS_017, extra: Partial<RenderContext<P>> = {}): RenderContext<P> {
  return { params, filter, caps, durationSeconds: 10, topN: 10, maxEvents: 100, mainPid: 4242, ...extra };
}

export const ALL_PROBES: readonly CatalogProbeName[] = CATALOG_PROBES;

export function canRunBpftrace(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const r = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) return 'bpftrace not installed';
  if (!existsSync('/sys/kernel/tracing/events') && !existsSync('/sys/kernel/debug/tracing/events')) return 'tracefs not mounted';
  return undefined;
}

export function hostTracepoints(): Set<string> | undefined {
  for (const p of ['/sys/kernel/tracing/available_events', '/sys/kernel/debug/tracing/available_events']) {
    if (existsSync(p)) return new Set(readFileSync(p, 'utf8').split('\n').filter(Boolean));
  }
  return undefined;
}

export function nsInode(pid: number | 'self', ns: 'mnt' | 'net'): number {
  return statSync(`/proc/${pid}/ns/${ns}`).ino;
}

export const ATTACHED_MARKER = '__BPFTRACE_NOTIFY_PROBES_ATTACHED';

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  attached: boolean;
}

/**
 * Runs `bpftrace -f json` on a program (argv prefix for chroot runs), waits for
 * the attached_probes record, calls `whileAttached`, then SIGINTs and collects.
 */
export function runBpftrace(
  program: string,
  opts: { whileAttached?: () => Promise<void>; timeoutMs?: number; argvPrefix?: string[] } = {},
): Promise<RunResult> {
  const argv = [...(opts.argvPrefix ?? []), 'bpftrace', '-f', 'json', '-e', program];
  const [cmd, ...args] = argv;
  return new Promise((resolve) => {
    // bpftrace prints attached_probes *before* attaching; a SIGINT during attach can be
    // lost (seen with 0.17: the process then runs forever). This env var makes it
    // print a marker on stderr once every probe is attached (bpftrace's own runtime
    // tests use it), which is the moment to start the clock.
    const child = spawn(cmd ?? 'bpftrace', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, __BPFTRACE_NOTIFY_PROBES_ATTACHED: '1' },
    });
    let stdout = '';
    let stderr = '';
    let attached = false;
    let settled = false;
    const kill = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60000);
    const onAttach = async () => {
      attached = true;
      try {
        await opts.whileAttached?.();
      } finally {
        // bpftrace 0.17 waits in epoll_wait without a timeout: a SIGINT that lands
        // between attaching and entering epoll_wait only sets a flag, and a quiet
        // program then never wakes up. Repeat the SIGINT if it has not exited after
        // a while (not sooner: a second SIGINT while it prints its maps kills it).
        child.kill('SIGINT');
        const again = setInterval(() => child.kill('SIGINT'), 45000);
        child.once('close', () => clearInterval(again));
      }
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    // 0.17 prints the marker on stderr, 0.23 on stdout.
    child.stdout.on('data', (d: string) => {
      stdout += d;
      if (!attached && stdout.includes(ATTACHED_MARKER)) void onAttach();
    });
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (!attached && stderr.includes(ATTACHED_MARKER)) void onAttach();
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(kill);
      resolve({ code, signal, stdout, stderr, attached });
    });
  });
}

/**
 * bpftrace stderr without the harmless lines: the RLIMIT_MEMLOCK complaint, the
 * attach marker, and stack-id lookup misses (a sample whose stack collided in the
 * stack map; bpftrace prints "ERROR: failed to look up stack id" and goes on).
 */
export function realErrors(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.includes('RLIMIT_MEMLOCK') && !l.includes(ATTACHED_MARKER) && !l.includes('failed to look up stack id'))
    .join('\n');
}

/**
 * A debootstrap'd agent rootfs with bpftrace (the 0.23.2 image), if one exists on
 * this machine: $TRACEJOB_AGENT_ROOTFS, else /var/cache/tracejob/*rootfs*.
 */
export function findAgentRootfs(): string | undefined {
  const env = process.env['TRACEJOB_AGENT_ROOTFS'];
  if (env && existsSync(`${env}/usr/bin/bpftrace`)) return env;
  const base = '/var/cache/tracejob';
  if (!existsSync(base)) return undefined;
  const cands: string[] = [];
  for (const e of readdirSync(base)) {
    if (!e.includes('rootfs')) continue;
    cands.push(`${base}/${e}`);
    try {
      for (const sub of readdirSync(`${base}/${e}`)) cands.push(`${base}/${e}/${sub}`);
    } catch {
      // not a directory
    }
  }
  return cands.find((c) => existsSync(`${c}/usr/bin/bpftrace`)) ?? extractAgentRootfs(`${base}/rootfs`, `${base}/rootfs-extracted`);
}

/**
 * images/build.sh keeps base root filesystems only as tarballs: unpack the smallest
 * one that has bpftrace (the agent's) once, so the agent's bpftrace is checked on a
 * fresh machine too.
 */
function extractAgentRootfs(tarDir: string, outDir: string): string | undefined {
  if (!existsSync(tarDir)) return undefined;
  const tars = readdirSync(tarDir)
    .filter((f) => f.endsWith('.tar'))
    .map((f) => `${tarDir}/${f}`)
    .sort((a, b) => statSync(a).size - statSync(b).size);
  for (const tar of tars) {
    if (spawnSync('tar', ['-tf', tar, './usr/bin/bpftrace'], { stdio: 'ignore' }).status !== 0) continue;
    const dir = `${outDir}/${basename(tar, '.tar')}`;
    if (!existsSync(`${dir}/.complete`)) {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      if (spawnSync('tar', ['-xf', tar, '-C', dir], { stdio: 'ignore' }).status !== 0) return undefined;
      writeFileSync(`${dir}/.complete`, '');
    }
    return dir;
  }
  return undefined;
}
