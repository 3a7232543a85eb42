// Compile-and-attach check on a real bpftrace: every probe × filter mode is
// rendered for this host's bpftrace (0.17 here), attached for real (which runs
// bpftrace's semantic checks, codegen and the kernel verifier), SIGINTed like
// the agent does, and its JSON output read back. Skipped without root/bpftrace.
// With the agent image's rootfs on this machine (bpftrace 0.23.2), the same
// programs rendered for 0.23 are run there through chroot.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { CatalogProbeName } from '../api/probe-names.js';
import { CATALOG } from './catalog.js';
import { ALL_PROBES, CAPS_017, CAPS_023, SAMPLE_PARAMS, canRunBpftrace, ctxFor, findAgentRootfs, hostTracepoints, nsInode, realErrors, runBpftrace } from './test-support.js';
import { toTraceData } from './trace-data.js';
import type { NodeCapabilities, TargetFilter } from './types.js';

const skip = canRunBpftrace();

// Compile checks need valid ids, not matching ones: the target filters select
// (almost) nothing, so profile probes do not spend their exit symbolising every
// process on the host (bpftrace 0.17 can take > 45 s for that).
function realFilters(): TargetFilter[] {
  const netNs = [nsInode('self', 'net')];
  const mntNs = [4026530000];
  return [
    { mode: 'cgroup', cgroupIds: ['123456', '654321'], netNs, pids: [1], mntNs },
    { mode: 'pids', pids: [1], netNs, mntNs },
    { mode: 'namespace', mntNs, netNs, pids: [1] },
    { mode: 'node' },
  ];
}

async function pool<T>(items: T[], n: number, fn: (t: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: n }, async () => {
      for (let t = queue.shift(); t !== undefined; t = queue.shift()) await fn(t);
    }),
  );
}

async function checkAll(caps: NodeCapabilities, argvPrefix: string[] = []): Promise<string[]> {
  const failures: string[] = [];
  const jobs: Array<{ name: CatalogProbeName; filter: TargetFilter }> = [];
  for (const name of ALL_PROBES) {
    for (const filter of realFilters()) {
      if (CATALOG[name].scope === 'node' && filter.mode !== 'node') continue;
      jobs.push({ name, filter });
    }
  }
  await pool(jobs, 3, async ({ name, filter }) => {
    const def = CATALOG[name];
    const params = def.params.parse(SAMPLE_PARAMS[name] ?? {});
    const program = def.renderBpftrace(ctxFor(params, filter, caps, { mainPid: process.pid }));
    const t0 = Date.now();
    const r = await runBpftrace(program, { argvPrefix, timeoutMs: 120000, whileAttached: () => new Promise((res) => setTimeout(res, 1000)) });
    const ms = Date.now() - t0;
    const errs = realErrors(r.stderr);
    const label = `${name} [${filter.mode}]`;
    if (!r.attached || r.code !== 0 || /ERROR/.test(errs)) {
      failures.push(`${label}: exit ${String(r.code)} signal ${String(r.signal)} after ${ms} ms attached=${r.attached}\n${errs}\n--- program ---\n${program}`);
      return;
    }
    // The output must be readable JSON records.
    const data = toTraceData(r.stdout);
    if (r.stdout.trim() !== '' && data.maps.size === 0 && data.printfs.length === 0 && !/attached_probes/.test(r.stdout)) {
      failures.push(`${label}: unreadable output ${r.stdout.slice(0, 300)}`);
    }
    // Shaping real output must not throw.
    def.shape(r.stdout, ctxFor(params, filter, caps, { mainPid: process.pid }));
  });
  return failures;
}

describe('bpftrace compile check (host bpftrace)', { skip }, () => {
  it('every probe × filter mode attaches and exits cleanly on SIGINT', { timeout: 600000 }, async () => {
    const tracepoints = hostTracepoints();
    const caps: NodeCapabilities = { ...CAPS_017, ...(tracepoints ? { tracepoints } : {}) };
    const v = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).stdout.trim();
    const m = /v?(\d+)\.(\d+)/.exec(v);
    if (m) caps.bpftrace = { version: v, major: Number(m[1]), minor: Number(m[2]) };
    const failures = await checkAll(caps);
    assert.deepEqual(failures, [], failures.join('\n\n'));
  });
});

const rootfs = skip ? undefined : findAgentRootfs();

describe('bpftrace compile check (agent image rootfs, bpftrace 0.23)', { skip: skip ?? (rootfs ? undefined : 'no agent rootfs under /var/cache/tracejob') }, () => {
  it('every probe × filter mode attaches under chroot', { timeout: 900000 }, async () => {
    const root = rootfs ?? '';
    const mounts: string[] = [];
    try {
      for (const m of ['proc', 'sys', 'dev', 'sys/kernel/tracing']) {
        const target = `${root}/${m}`;
        // Already set up (someone else's mounts): use them, leave them alone.
        if (m === 'proc' && existsSync(`${target}/self`)) continue;
        if (m === 'sys' && existsSync(`${target}/kernel`)) continue;
        if (m === 'dev' && existsSync(`${target}/null`)) continue;
        if (m === 'sys/kernel/tracing' && existsSync(`${target}/events`)) continue;
        if (!existsSync(target)) mkdirSync(target, { recursive: true });
        const src = `/${m}`;
        const r = spawnSync('mount', ['--bind', src, target]);
        if (r.status !== 0) throw new Error(`mount --bind ${src} ${target} failed: ${r.stderr.toString()}`);
        mounts.unshift(target);
      }
      const v = spawnSync('chroot', [root, 'bpftrace', '--version'], { encoding: 'utf8' }).stdout.trim();
      const m = /v?(\d+)\.(\d+)/.exec(v);
      const caps: NodeCapabilities = { ...CAPS_023, ...(m ? { bpftrace: { version: v, major: Number(m[1]), minor: Number(m[2]) } } : {}) };
      const tracepoints = hostTracepoints();
      if (tracepoints) caps.tracepoints = tracepoints;
      const failures = await checkAll(caps, ['chroot', root]);
      assert.deepEqual(failures, [], failures.join('\n\n'));
    } finally {
      for (const t of mounts) spawnSync('umount', ['-l', t]);
    }
  });
});
