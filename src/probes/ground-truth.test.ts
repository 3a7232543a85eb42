// Ground truth on this host's real bpftrace (skipped without root/bpftrace):
// a workload with a known answer runs in a fresh cgroup v2 (or as a known pid)
// while the rendered catalog program is attached; the shaped result must match
// exactly. A noisy neighbour outside the target does the same things and must
// not be counted.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseBpftraceJson } from '../results/bpftrace-json.js';
import { CATALOG } from './catalog.js';
import { CAPS_017, canRunBpftrace, ctxFor, nsInode, realErrors, runBpftrace } from './test-support.js';
import type { RenderContext, TargetFilter } from './types.js';

const UNIFIED = '/sys/fs/cgroup/unified';
const CG_ROOT = existsSync(`${UNIFIED}/cgroup.procs`) ? UNIFIED : '/sys/fs/cgroup';
const skip = canRunBpftrace() ?? (existsSync(`${CG_ROOT}/cgroup.procs`) ? undefined : 'no cgroup v2 hierarchy');

function sh(script: string): Promise<number | null> {
  return new Promise((resolve) => {
    const c = spawn('bash', ['-c', script], { stdio: 'ignore' });
    c.on('close', (code) => resolve(code));
  });
}

describe('ground truth on real bpftrace', { skip }, () => {
  let cgDir = '';
  let cgId = '';
  let filter: TargetFilter;
  before(() => {
    cgDir = `${CG_ROOT}/tracejob-probes-test-${process.pid}`;
    mkdirSync(cgDir);
    cgId = String(statSync(cgDir).ino);
    filter = { mode: 'cgroup', cgroupIds: [cgId], netNs: [nsInode('self', 'net')], pids: [process.pid], mntNs: [nsInode('self', 'mnt')] };
  });
  after(() => {
    if (cgDir && existsSync(cgDir)) rmdirSync(cgDir);
  });

  /** Runs `script` inside the test cgroup (the shell moves itself in first) and a neighbour outside. */
  const inCgroup = (script: string, neighbour = script) => async () => {
    await Promise.all([sh(`echo $$ > ${cgDir}/cgroup.procs; ${script}`), sh(neighbour)]);
  };

  async function trace<P>(name: keyof typeof CATALOG, ctx: RenderContext<P>, workload: () => Promise<void>) {
    const def = CATALOG[name];
    const program = def.renderBpftrace(ctx);
    const r = await runBpftrace(program, {
      whileAttached: async () => {
        await new Promise((res) => setTimeout(res, 300));
        await workload();
        await new Promise((res) => setTimeout(res, 300));
      },
    });
    assert.equal(r.code, 0, `${realErrors(r.stderr)}\n${program}`);
    return { shaped: def.shape(r.stdout, ctx), stdout: r.stdout };
  }

  it('execs: /bin/true exec’d exactly 5 times in the target cgroup → 5', async () => {
    const ctx = ctxFor(CATALOG.execs.params.parse({}), filter, CAPS_017);
    const { shaped, stdout } = await trace('execs', ctx, inCgroup('for i in 1 2 3 4 5; do /bin/true; done', 'for i in 1 2 3; do /bin/true; /bin/echo >/dev/null; done'));
    assert.equal(shaped.counters['execs'], 5);
    assert.deepEqual(shaped.tables.find((t) => t.name === 'execs by binary')?.rows, [['/bin/true', 5]]);
    assert.equal(shaped.events.length, 5);
    assert.ok(shaped.events.every((e) => e['comm'] === 'true' && e['filename'] === '/bin/true'));
    assert.equal(shaped.headline, 'execs=5');
    // The results package's parser reads the same count.
    const parsed = parseBpftraceJson(stdout);
    assert.deepEqual(parsed.maps['@count'], { kind: 'scalar', value: 5 });
    // And the shaper gives the same answer from the parsed form.
    assert.equal(CATALOG.execs.shape(parsed, ctx).counters['execs'], 5);
  });

  it('execs in pid mode: only the target pid’s exec counts', async () => {
    const waiter = spawn('bash', ['-c', 'read x; exec /bin/true'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const pid = waiter.pid ?? 0;
    const pidFilter: TargetFilter = { mode: 'pids', pids: [pid], netNs: [nsInode('self', 'net')], mntNs: [nsInode('self', 'mnt')] };
    const ctx = ctxFor(CATALOG.execs.params.parse({}), pidFilter, CAPS_017);
    const { shaped } = await trace('execs', ctx, async () => {
      const done = new Promise((res) => waiter.on('close', res));
      waiter.stdin?.end('go\n');
      await Promise.all([done, sh('/bin/true; /bin/true')]);
    });
    assert.equal(shaped.counters['execs'], 1);
    assert.equal(shaped.events[0]?.['pid'], pid);
  });

  it('tcpConnectLatency: 6 connects from the target → 6, histogram populated, per-destination row', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as AddressInfo).port;
    try {
      const connect = (n: number) => `for i in $(seq 1 ${n}); do exec 3<>/dev/tcp/127.0.0.1/${port}; exec 3>&-; done`;
      const ctx = ctxFor(CATALOG.tcpConnectLatency.params.parse({}), filter, CAPS_017);
      const { shaped } = await trace('tcpConnectLatency', ctx, inCgroup(connect(6), connect(4)));
      assert.equal(shaped.counters['connections'], 6);
      const h = shaped.histograms.find((x) => x.name === 'connect latency');
      assert.equal(h?.total, 6);
      assert.deepEqual(shaped.tables.find((t) => t.name === 'by destination')?.rows.map((r) => r.slice(0, 3)), [['127.0.0.1', String(port), 6]]);
      assert.equal(shaped.events.length, 6);
      assert.match(shaped.headline ?? '', /^connections=6 p99=/);
    } finally {
      server.close();
    }
  });

  it('syscallLatency: 7 fsyncs in the target → fsync count 7', async () => {
    const file = `/tmp/tracejob-probes-fsync-${process.pid}`;
    writeFileSync(file, 'x');
    const fsyncs = (n: number) => `python3 -c 'import os
f = os.open("${file}", os.O_WRONLY)
for _ in range(${n}): os.fsync(f)'`;
    try {
      const ctx = ctxFor(CATALOG.syscallLatency.params.parse({ syscalls: ['fsync', 'fdatasync'] }), filter, CAPS_017);
      const { shaped } = await trace('syscallLatency', ctx, inCgroup(fsyncs(7), fsyncs(3)));
      const row = shaped.tables.find((t) => t.name === 'syscalls')?.rows.find((r) => r[0] === 'fsync');
      assert.equal(row?.[1], 7);
      const h = shaped.histograms.find((x) => x.key === 'fsync');
      assert.equal(h?.total, 7);
    } finally {
      spawnSync('rm', ['-f', file]);
    }
  });

  it('dnsLatency: 4 getaddrinfo("localhost") calls in the target → 4', async () => {
    const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libc.so.6'].find((p) => existsSync(p));
    if (!libc) return;
    const resolve = (n: number) => `python3 -c 'import socket
for _ in range(${n}): socket.getaddrinfo("localhost", 80)'`;
    const ctx = ctxFor(CATALOG.dnsLatency.params.parse({ libc, functions: ['getaddrinfo'] }), filter, CAPS_017, { mainPid: process.pid });
    const { shaped } = await trace('dnsLatency', ctx, inCgroup(resolve(4), resolve(2)));
    assert.equal(shaped.counters['lookups'], 4);
    assert.deepEqual(shaped.tables.find((t) => t.name === 'by host')?.rows.map((r) => r.slice(0, 2)), [['localhost', 4]]);
  });
});
