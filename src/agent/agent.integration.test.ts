// Real end-to-end runs of the agent (subprocess, real bpftrace, real cgroup v2 dir).
// Skipped unless root with bpftrace and a cgroup2 mount.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cgroupLayoutFromMounts, parseMounts } from './preflight.js';
import { AGENT_CONFIG_ENV, decodeLog, type AgentConfig, type AgentMessage } from './protocol.js';
import { LINGER_AFTER_SIGNAL_MS } from './main.js';

const here = dirname(fileURLToPath(import.meta.url));
const MAIN = join(here, 'main.ts');
const layout = cgroupLayoutFromMounts(parseMounts(readFileSync('/proc/self/mounts', 'utf8')));
const skip =
  process.getuid?.() !== 0
    ? 'needs root'
    : spawnSync('bpftrace', ['--version']).status !== 0
      ? 'needs bpftrace'
      : layout.unifiedRoot === undefined
        ? 'needs a cgroup2 mount'
        : false;

interface FakeContainer {
  id: string;
  dir: string;
  child: ChildProcess;
  /** Resolves when the child has written its pid into cgroup.procs. */
  ready: Promise<void>;
  go(): void;
  exited: Promise<void>;
}

/**
 * A "container": a cgroup v2 dir named after a fake 64-hex container id, holding a
 * shell that waits for a line on stdin, execs /bin/true `n` times, then waits for
 * another line (or exits straight away when `exitAfter`). `read`, `echo` and `for`
 * are shell builtins, so /bin/true is its only exec.
 */
function fakeContainer(n: number, exitAfter = false, action = '/bin/true', shell = '/bin/sh'): FakeContainer {
  const id = randomBytes(32).toString('hex');
  const dir = join(layout.unifiedRoot ?? '/sys/fs/cgroup', `tracejob-test-${id}`);
  mkdirSync(dir);
  const script = `echo $$ > ${dir}/cgroup.procs; echo ready; read go; i=0; while [ $i -lt ${n} ]; do ${action}; i=$((i+1)); done; echo done; ${exitAfter ? '' : 'read stop'}`;
  const child = spawn(shell, ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on('data', (b: Buffer) => {
      if (b.toString().includes('ready')) resolve();
    });
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { id, dir, child, ready, go: () => child.stdin?.write('go\n'), exited };
}

async function removeContainer(c: FakeContainer): Promise<void> {
  if (c.child.exitCode === null && c.child.signalCode === null) {
    c.child.stdin?.end();
    c.child.kill('SIGKILL');
    await c.exited;
  }
  for (let i = 0; i < 50 && existsSync(c.dir); i++) {
    try {
      rmdirSync(c.dir);
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

function config(over: Partial<AgentConfig> & Pick<AgentConfig, 'probe' | 'targets'>): AgentConfig {
  return {
    traceJob: { namespace: 'default', name: 'itest', uid: 'uid-1', generation: 1 },
    nodeName: 'itest-node',
    durationSeconds: 3,
    ...over,
  };
}

const target = (id: string) => ({ pod: 'work', namespace: 'default', container: 'main', containerID: `containerd://${id}` });

interface AgentRun {
  code: number | null;
  messages: AgentMessage[];
  stdout: string;
  stderr: string;
  termination?: unknown;
}

/** The run's channel key, as the operator would put it in the config. */
const KEY = randomBytes(32).toString('base64url');

/** Runs the agent as the Job would; `onMessage` may react (e.g. start the workload on attach). */
function runAgent(
  cfg: unknown,
  onMessage?: (m: AgentMessage, agent: ChildProcess) => void,
  extraEnv: Record<string, string> = {},
): Promise<AgentRun> {
  const tdir = mkdtempSync(join(tmpdir(), 'tracejob-itest-'));
  const term = join(tdir, 'termination-log');
  const agent = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, [AGENT_CONFIG_ENV]: JSON.stringify({ ...(cfg as object), channelKey: KEY }), TRACEJOB_TERMINATION_LOG: term, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let pending = '';
  agent.stdout.setEncoding('utf8');
  agent.stdout.on('data', (chunk: string) => {
    stdout += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      for (const m of decodeLog(line, KEY)) onMessage?.(m, agent);
    }
  });
  agent.stderr.setEncoding('utf8');
  agent.stderr.on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => {
    agent.on('close', (code) => {
      const termination = existsSync(term) ? (JSON.parse(readFileSync(term, 'utf8')) as unknown) : undefined;
      rmSync(tdir, { recursive: true, force: true });
      resolve({ code, messages: decodeLog(stdout, KEY), stdout, stderr, termination });
    });
  });
}

type Doc = {
  partial: boolean;
  headline: string;
  counters: Record<string, number>;
  tables: Array<{ name: string; rows: Array<Array<string | number>> }>;
  events: Array<Record<string, string | number>>;
  notes: string[];
};
const resultDoc = (r: AgentRun): Doc => {
  const m = r.messages.find((x) => x.tracejob === 'result');
  assert.ok(m && m.tracejob === 'result', `no result message; stderr:\n${r.stderr}`);
  return m.document as unknown as Doc;
};

describe('agent on this host (real bpftrace)', { skip, timeout: 120_000 }, () => {
  const containers: FakeContainer[] = [];
  let noise: ChildProcess | undefined;
  before(() => {
    // An unrelated process that keeps exec'ing /bin/true and /bin/echo outside the target cgroup.
    noise = spawn('/bin/sh', ['-c', 'while :; do /bin/true; /bin/echo x >/dev/null; sleep 0.05; done'], { stdio: 'ignore' });
  });
  after(async () => {
    noise?.kill('SIGKILL');
    for (const c of containers) await removeContainer(c);
  });

  it('mode preflight: the capability report only, exit 0, no tracer started', async () => {
    const t0 = Date.now();
    const r = await runAgent(config({ probe: { type: 'tcpRetransmits', params: {} }, backend: 'systemtap', targets: [], mode: 'preflight' }));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.messages.map((m) => m.tracejob), ['preflight']);
    const caps = r.messages[0]?.tracejob === 'preflight' ? r.messages[0].caps : {};
    assert.equal(caps['kernel'], readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    assert.deepEqual(r.termination, { reason: 'Completed', message: 'capability report only' });
    assert.doesNotMatch(r.stderr, /backend|program:/);
    assert.ok(Date.now() - t0 < 20_000);
  });

  it('execs: exactly the 6 execs of the target, none of the neighbour; protocol in order', async () => {
    const c = fakeContainer(6);
    containers.push(c);
    await c.ready;
    const r = await runAgent(config({ probe: { type: 'execs', params: {} }, targets: [target(c.id)] }), (m) => {
      if (m.tracejob === 'attached') c.go();
    });
    assert.equal(r.code, 0, r.stderr);
    const kinds = r.messages.map((m) => m.tracejob);
    assert.deepEqual(kinds, ['preflight', 'resolved', 'attached', 'result']);
    const resolved = r.messages[1];
    assert.ok(resolved?.tracejob === 'resolved');
    const t = resolved.targets[0];
    assert.ok(t);
    assert.equal(t.hostPIDs.length, 1);
    assert.equal(t.hostPIDs[0], c.child.pid);
    assert.match(t.cgroupID ?? '', /^\d+$/);
    assert.ok(t.mntNs && t.netNs && t.pidNs);
    const doc = resultDoc(r);
    assert.equal(doc.counters['execs'], 6, JSON.stringify(doc));
    assert.equal(doc.partial, false);
    assert.equal(doc.headline, 'execs=6');
    const byFile = doc.tables.find((x) => x.name === 'execs by binary');
    assert.deepEqual(byFile?.rows, [['/bin/true', 6]]);
    assert.equal(doc.events.length, 6);
    // Every stdout line is a protocol message.
    for (const line of r.stdout.split('\n').filter((l) => l !== '')) assert.match(line, /^\{"tracejob":/);
    assert.deepEqual(r.termination, { reason: 'Completed', headline: 'execs=6' });
  });

  it('tcpConnectLatency: counts the target\'s N connects to a local listener, histogram populated', async () => {
    const server = createServer((sock) => sock.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      // bash's /dev/tcp connects from the shell itself (no exec, no helper process).
      const c = fakeContainer(5, false, `exec 3<>/dev/tcp/127.0.0.1/${port}; exec 3>&-`, '/bin/bash');
      containers.push(c);
      await c.ready;
      const r = await runAgent(config({ probe: { type: 'tcpConnectLatency', params: {} }, targets: [target(c.id)] }), (m) => {
        if (m.tracejob === 'attached') c.go();
      });
      assert.equal(r.code, 0, r.stderr);
      const doc = resultDoc(r) as Doc & { histograms: Array<{ count: number; buckets: unknown[] }> };
      assert.equal(doc.counters['connections'], 5, JSON.stringify(doc));
      assert.equal(doc.histograms[0]?.count, 5);
      assert.ok((doc.histograms[0]?.buckets.length ?? 0) > 0);
    } finally {
      server.close();
    }
  });

  it('target exits mid-trace: stops early, partial results kept and said so', async () => {
    const c = fakeContainer(2, true);
    containers.push(c);
    await c.ready;
    const started = Date.now();
    const r = await runAgent(config({ durationSeconds: 20, probe: { type: 'execs', params: {} }, targets: [target(c.id)] }), (m) => {
      if (m.tracejob === 'attached') c.go();
    });
    assert.ok(Date.now() - started < 10_000, `should stop well before the 20 s duration; agent stderr:\n${r.stderr.slice(-3000)}`);
    assert.equal(r.code, 0, r.stderr);
    const doc = resultDoc(r);
    assert.equal(doc.partial, true);
    assert.equal(doc.counters['execs'], 2);
    assert.match(doc.notes.join('\n'), /target exited/);
    assert.equal((r.termination as { partial?: boolean }).partial, true);
  });

  it('SIGTERM mid-trace: bpftrace is interrupted, the maps so far are emitted', async () => {
    const c = fakeContainer(3);
    containers.push(c);
    await c.ready;
    const started = Date.now();
    let resultAt = 0;
    const r = await runAgent(config({ durationSeconds: 30, probe: { type: 'execs', params: {} }, targets: [target(c.id)] }), (m, agent) => {
      if (m.tracejob === 'attached') {
        c.go();
        setTimeout(() => agent.kill('SIGTERM'), 1000);
      }
      if (m.tracejob === 'result') resultAt = Date.now();
    });
    assert.ok(resultAt > 0 && resultAt - started < 15_000, 'the result comes soon after SIGTERM');
    // A pod being deleted: the agent stays up after its result, so the operator can still read the log.
    assert.ok(Date.now() - resultAt >= LINGER_AFTER_SIGNAL_MS - 1000, `exited ${Date.now() - resultAt} ms after its result`);
    assert.equal(r.code, 0, r.stderr);
    const doc = resultDoc(r);
    assert.equal(doc.partial, true);
    assert.equal(doc.counters['execs'], 3);
    assert.match(doc.notes.join('\n'), /SIGTERM/);
  });

  it('custom program with a compile error → exit 4 with bpftrace\'s message', async () => {
    const r = await runAgent(
      config({ probe: { type: 'bpftrace', params: {}, program: 'tracepoint:sched:sched_process_exec { @x = nosuchfn(); }' }, targets: [] }),
    );
    assert.equal(r.code, 4, r.stderr);
    const err = r.messages.find((m) => m.tracejob === 'error');
    assert.ok(err && err.tracejob === 'error');
    assert.equal(err.reason, 'CompileError');
    assert.match(err.message, /^program\.bt:1:\d+-\d+: ERROR: Unknown function: nosuchfn/);
    assert.doesNotMatch(err.message, /RLIMIT_MEMLOCK/);
    assert.equal((r.termination as { reason: string }).reason, 'CompileError');
  });

  it('custom program with placeholders runs against the target', async () => {
    const c = fakeContainer(4);
    containers.push(c);
    await c.ready;
    const program = 'tracepoint:sched:sched_process_exec /{{filter}}/ { @execs = count(); }\n';
    const r = await runAgent(config({ probe: { type: 'bpftrace', params: {}, program }, targets: [target(c.id)] }), (m) => {
      if (m.tracejob === 'attached') c.go();
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(resultDoc(r).counters['@execs'], 4);
  });

  it('preflight mounts tracefs when it is missing (private mount namespace)', { skip: spawnSync('unshare', ['--version']).status !== 0 }, () => {
    const script = `import { preflight } from ${JSON.stringify(join(here, 'preflight.ts'))}; const c = preflight(); console.log(JSON.stringify({ tracefs: c.tracefs, path: c.host.tracefsPath, mounted: c.host.tracefsMounted, tps: c.tracepoints?.size ?? 0 }));`;
    const r = spawnSync(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', 'umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null; exec "$@"', 'sh', process.execPath, '--import', 'tsx', '--input-type=module', '-e', script],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { tracefs: boolean; path: string; mounted: boolean; tps: number };
    assert.deepEqual({ tracefs: out.tracefs, path: out.path, mounted: out.mounted }, { tracefs: true, path: '/sys/kernel/tracing', mounted: true });
    assert.ok(out.tps > 100);
  });

  it('preflight on this host agrees with the mount table and bpftrace', () => {
    const script = `import { preflight } from ${JSON.stringify(join(here, 'preflight.ts'))}; const c = preflight({ noMount: true }); console.log(JSON.stringify({ ...c, tracepoints: [...(c.tracepoints ?? [])] }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const c = JSON.parse(r.stdout) as { cgroupVersion: string; bpftrace?: { major: number; minor: number }; tracepoints: string[]; btf: boolean };
    assert.equal(c.cgroupVersion, layout.version);
    const v = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).stdout;
    assert.ok(c.bpftrace && v.includes(`v${c.bpftrace.major}.${c.bpftrace.minor}.`));
    assert.ok(c.tracepoints.includes('sched:sched_process_exec'));
    assert.equal(c.btf, existsSync('/sys/kernel/btf/vmlinux'));
  });

  it('bpftrace missing → exit 7 PreflightFailed', async () => {
    const r = await runAgent(config({ probe: { type: 'execs', params: {} }, targets: [] }), undefined, { TRACEJOB_BPFTRACE: '/nonexistent/bpftrace' });
    assert.equal(r.code, 7, r.stderr);
    const err = r.messages.find((m) => m.tracejob === 'error');
    assert.ok(err && err.tracejob === 'error');
    assert.equal(err.reason, 'PreflightFailed');
    assert.match(err.message, /\/nonexistent\/bpftrace/);
  });

  it('bpftrace killed mid-trace → exit 6 TracerFailed, partial result still emitted', async () => {
    const r = await runAgent(config({ durationSeconds: 20, probe: { type: 'execs', params: {} }, targets: [] }), (m, agent) => {
      if (m.tracejob !== 'attached') return;
      // The agent's bpftrace child: a process whose parent is the agent.
      const kids = readFileSync(`/proc/${agent.pid}/task/${agent.pid}/children`, 'utf8').trim().split(/\s+/).map(Number);
      for (const k of kids) {
        if (readFileSync(`/proc/${k}/comm`, 'utf8').trim() === 'bpftrace') process.kill(k, 'SIGKILL');
      }
    });
    assert.equal(r.code, 6, r.stderr);
    const doc = resultDoc(r);
    assert.equal(doc.partial, true);
    assert.match(doc.notes.join('\n'), /bpftrace exited with SIGKILL/);
    assert.equal((r.termination as { reason: string }).reason, 'TracerFailed');
  });

  it('unknown container → exit 3 naming the container id', async () => {
    const id = randomBytes(32).toString('hex');
    const r = await runAgent(config({ probe: { type: 'execs', params: {} }, targets: [target(id)] }));
    assert.equal(r.code, 3);
    const err = r.messages.find((m) => m.tracejob === 'error');
    assert.ok(err && err.tracejob === 'error');
    assert.equal(err.reason, 'ContainerNotFound');
    assert.match(err.message, new RegExp(id));
    assert.deepEqual(
      r.messages.map((m) => m.tracejob),
      ['preflight', 'error'],
    );
  });

  it('systemtap backend → exit 5 naming why', async () => {
    const r = await runAgent(config({ backend: 'systemtap', probe: { type: 'execs', params: {} }, targets: [] }));
    assert.equal(r.code, 5);
    const err = r.messages.find((m) => m.tracejob === 'error');
    assert.ok(err && err.tracejob === 'error');
    assert.equal(err.reason, 'Unsupported');
    assert.match(err.message, /SystemTap cannot run/);
  });

  it('invalid config → exit 2', async () => {
    const r = await runAgent({ nodeName: 'x' });
    assert.equal(r.code, 2);
    assert.match(JSON.stringify(r.termination), /InvalidConfig/);
  });

  it('unknown probe params → exit 2', async () => {
    const r = await runAgent(config({ probe: { type: 'execs', params: { bogus: 1 } }, targets: [] }));
    assert.equal(r.code, 2, r.stderr);
    const err = r.messages.find((m) => m.tracejob === 'error');
    assert.ok(err && err.tracejob === 'error');
    assert.match(err.message, /execs/);
  });
});
