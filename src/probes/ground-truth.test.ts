// Ground truth on this host's real bpftrace (skipped without root/bpftrace):
// a workload with a known answer runs in a fresh cgroup v2 (or as a known pid)
// while the rendered catalog program is attached; the shaped result must match
// exactly. A noisy neighbour outside the target does the same things and must
// not be counted.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseBpftraceJson } from '../results/bpftrace-json.js';
import { CATALOG } from './catalog.js';
import { parseKfreeSkbReasons } from './kfree-skb-reasons.js';
import { CAPS_017, CAPS_023, canRunBpftrace, ctxFor, findAgentRootfs, nsInode, realErrors, runBpftrace } from './test-support.js';
import type { NodeCapabilities } from './types.js';
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

// The host's bpftrace (0.17), and the agent image's (0.23.2) through chroot when its
// rootfs is on this machine with /proc and /sys already mounted in it.
const rootfs = skip ? undefined : findAgentRootfs();
const VARIANTS: Array<{ label: string; caps: NodeCapabilities; prefix: string[] }> = [
  { label: 'host bpftrace', caps: CAPS_017, prefix: [] },
  ...(rootfs && existsSync(`${rootfs}/proc/self`) && existsSync(`${rootfs}/sys/kernel/tracing/events`)
    ? [{ label: 'agent image bpftrace 0.23', caps: CAPS_023, prefix: ['chroot', rootfs] }]
    : []),
];

for (const { label, caps: CAPS, prefix } of VARIANTS)
describe(`ground truth on real bpftrace (${label})`, { skip }, () => {
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
      argvPrefix: prefix,
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
    const ctx = ctxFor(CATALOG.execs.params.parse({}), filter, CAPS);
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
    const ctx = ctxFor(CATALOG.execs.params.parse({}), pidFilter, CAPS);
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
      const ctx = ctxFor(CATALOG.tcpConnectLatency.params.parse({}), filter, CAPS);
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
      const ctx = ctxFor(CATALOG.syscallLatency.params.parse({ syscalls: ['fsync', 'fdatasync'] }), filter, CAPS);
      const { shaped } = await trace('syscallLatency', ctx, inCgroup(fsyncs(7), fsyncs(3)));
      const row = shaped.tables.find((t) => t.name === 'syscalls')?.rows.find((r) => r[0] === 'fsync');
      assert.equal(row?.[1], 7);
      const h = shaped.histograms.find((x) => x.key === 'fsync');
      assert.equal(h?.total, 7);
    } finally {
      spawnSync('rm', ['-f', file]);
    }
  });

  it('packetDrops: 9 UDP datagrams to a closed port in the target netns → 9 × NO_SOCKET', async (t) => {
    const ns = `tracejob-probes-${process.pid}`;
    if (spawnSync('ip', ['netns', 'add', ns]).status !== 0) return t.skip('cannot create a network namespace');
    try {
      spawnSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      const netFilter: TargetFilter = { mode: 'pids', pids: [1], netNs: [statSync(`/run/netns/${ns}`).ino], mntNs: [1] };
      const reasons = parseKfreeSkbReasons(readFileSync('/sys/kernel/tracing/events/skb/kfree_skb/format', 'utf8'));
      const ctx = ctxFor(CATALOG.packetDrops.params.parse({}), netFilter, CAPS, { dropReasons: reasons });
      const udp = (n: number) => `for i in $(seq 1 ${n}); do echo x > /dev/udp/127.0.0.1/9; done`;
      const { shaped } = await trace('packetDrops', ctx, async () => {
        // The same datagrams from the host netns must not be counted.
        await Promise.all([sh(`ip netns exec ${ns} bash -c '${udp(9)}'`), sh(udp(5))]);
      });
      assert.deepEqual(shaped.tables.find((t) => t.name === 'by reason')?.rows, [['NO_SOCKET', 9]]);
      assert.equal(shaped.counters['drops'], 9);
    } finally {
      spawnSync('ip', ['netns', 'del', ns]);
    }
  });

  it('oomKills: python3 over a 32 MiB memory limit in the target → one kill, named', async (t) => {
    const memRoot = '/sys/fs/cgroup/memory';
    if (!existsSync(`${memRoot}/cgroup.procs`)) return t.skip('no cgroup v1 memory controller');
    const memDir = `${memRoot}/tracejob-probes-test-${process.pid}`;
    mkdirSync(memDir);
    try {
      writeFileSync(`${memDir}/memory.limit_in_bytes`, String(32 * 1024 * 1024));
      const ctx = ctxFor(CATALOG.oomKills.params.parse({}), filter, CAPS);
      const hog = `echo $$ > ${memDir}/cgroup.procs; echo $$ > ${cgDir}/cgroup.procs; exec python3 -c 'b = []
while True: b.append(bytearray(1 << 20))'`;
      const { shaped } = await trace('oomKills', ctx, async () => {
        await sh(hog);
      });
      assert.equal(shaped.counters['oomKills'], 1);
      assert.equal(shaped.events[0]?.['comm'], 'python3');
      assert.match(shaped.headline ?? '', /^oomKills=1 victim=python3\(\d+\)$/);
      assert.ok(Number(shaped.events[0]?.['anonRssKb']) > 16 * 1024, JSON.stringify(shaped.events[0]));
    } finally {
      rmdirSync(memDir);
    }
  });

  it('tcpRetransmits: 1 in 10 packets dropped by nft → retransmits on the right 4-tuple with cwnd/srtt', async (t) => {
    const a = `tjA${process.pid}`;
    const b = `tjB${process.pid}`;
    const run = (args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
    if (run(['netns', 'add', a]).status !== 0) return t.skip('cannot create a network namespace');
    run(['netns', 'add', b]);
    try {
      run(['-n', a, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', b]);
      run(['-n', a, 'addr', 'add', '10.231.7.1/24', 'dev', 'a0']);
      run(['-n', b, 'addr', 'add', '10.231.7.2/24', 'dev', 'b0']);
      for (const [ns, dev] of [[a, 'a0'], [b, 'b0'], [a, 'lo'], [b, 'lo']] as const) run(['-n', ns, 'link', 'set', dev, 'up']);
      const nft = spawnSync('ip', ['netns', 'exec', b, 'nft', '-f', '-'], {
        input: 'table inet tj {\n chain in {\n  type filter hook input priority 0;\n  tcp dport 5001 numgen random mod 10 0 drop\n }\n}\n',
      });
      if (nft.status !== 0) return t.skip(`nft failed: ${nft.stderr.toString()}`);
      const netFilter: TargetFilter = { mode: 'pids', pids: [1], netNs: [statSync(`/run/netns/${a}`).ino], mntNs: [1] };
      const ctx = ctxFor(CATALOG.tcpRetransmits.params.parse({}), netFilter, CAPS);
      const recv = `import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("10.231.7.2", 5001)); s.listen()
c, _ = s.accept()
while c.recv(65536): pass`;
      const send = `import socket, time
for _ in range(50):
    try:
        c = socket.create_connection(("10.231.7.2", 5001)); break
    except OSError: time.sleep(0.1)
c.sendall(b"x" * 3_000_000); c.close()`;
      const { shaped } = await trace('tcpRetransmits', ctx, async () => {
        await sh(`timeout 30 ip netns exec ${b} python3 -c '${recv}' & timeout 30 ip netns exec ${a} python3 -c '${send}'; wait`);
      });
      const n = shaped.counters['retransmits'] ?? 0;
      assert.ok(n >= 1, JSON.stringify(shaped));
      t.diagnostic(`retransmits=${n} first event ${JSON.stringify(shaped.events[0])}`);
      const flows = shaped.tables.find((t) => t.name === 'by flow')?.rows ?? [];
      assert.ok(flows.length >= 1);
      for (const f of flows) {
        assert.equal(f[0], '10.231.7.1');
        assert.equal(f[2], '10.231.7.2');
        assert.equal(f[3], '5001');
      }
      assert.equal(flows.reduce((s, f) => s + Number(f[4]), 0), n);
      // The loss may hit the SYN too: a SYN_SENT retransmit has no cwnd/srtt yet.
      const established = shaped.events.find((e) => e['stateName'] !== 'SYN_SENT');
      const ev = established ?? shaped.events[0];
      assert.ok(ev && Number(ev['rtoJiffies']) > 0, JSON.stringify(ev));
      if (established) assert.ok(Number(established['sndCwnd']) > 0 && Number(established['srttUs']) > 0, JSON.stringify(established));
      assert.ok(typeof ev['stateName'] === 'string');
    } finally {
      run(['netns', 'del', a]);
      run(['netns', 'del', b]);
    }
  });

  it('cpuProfile: a busy loop in the target tops the folded stacks', async () => {
    const ctx = ctxFor(CATALOG.cpuProfile.params.parse({ hz: 99 }), filter, CAPS);
    const { shaped } = await trace('cpuProfile', ctx, inCgroup('timeout 2 bash -c "while :; do :; done"; true', 'timeout 1 bash -c "while :; do :; done"; true'));
    const samples = shaped.stacks?.samples ?? 0;
    assert.ok(samples > 50, `only ${samples} samples`);
    const lines = (shaped.stacks?.folded ?? '').trim().split('\n');
    assert.ok(lines.every((l) => /^(bash|timeout);/.test(l) || /^(bash|timeout) \d+$/.test(l)), lines.slice(0, 5).join('\n'));
    assert.equal(shaped.tables.find((t) => t.name === 'samples by command')?.rows[0]?.[0], 'bash');
  });

  it('dnsLatency: 4 getaddrinfo("localhost") calls in the target → 4', async (t) => {
    const libc = ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libc.so.6'].find((p) => existsSync(p));
    if (!libc) return t.skip('no glibc at a known path');
    const resolve = (n: number) => `python3 -c 'import socket
for _ in range(${n}): socket.getaddrinfo("localhost", 80)'`;
    const ctx = ctxFor(CATALOG.dnsLatency.params.parse({ libc, functions: ['getaddrinfo'] }), filter, CAPS, { mainPid: process.pid });
    const { shaped } = await trace('dnsLatency', ctx, inCgroup(resolve(4), resolve(2)));
    assert.equal(shaped.counters['lookups'], 4);
    assert.deepEqual(shaped.tables.find((t) => t.name === 'by host')?.rows.map((r) => r.slice(0, 2)), [['localhost', 4]]);
  });
});
