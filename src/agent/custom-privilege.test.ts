// The agent's side of custom programs (defence in depth behind the operator):
// a SystemTap program calling system() is refused before stap runs; other custom
// SystemTap programs run as `stap --privilege=stapsys` behind the tapset guards, never
// `-g` without the operator's grant; custom bpftrace never gets `--unsafe` (so
// bpftrace's safe mode refuses system()/signal()/override(), checked on a real bpftrace).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CAPS_017 } from '../probes/test-support.js';
import { GUARD_FUNCTIONS } from '../systemtap/safety.js';
import { runAgent } from './main.js';
import { AGENT_EXIT, decodeLog } from './protocol.js';

const host = {
  cgroup: { version: 'v2' as const, unifiedRoot: '/sys/fs/cgroup', v1: {} },
  modules: true,
  kernelBuildTree: true,
  canRaiseMemlock: false,
  stap: true,
  kernelConfig: 'proc' as const,
  warnings: [],
};

let dir = '';
let savedPath: string | undefined;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tracejob-fake-tracer-'));
  // Records its argv and program, then fails like a compile error: nothing is traced.
  const fake = `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/argv\nfor a; do last="$a"; done\ncp "$last" ${dir}/program\necho 'semantic error: fake tracer' >&2\nexit 1\n`;
  for (const name of ['stap', 'bpftrace']) {
    writeFileSync(join(dir, name), fake);
    chmodSync(join(dir, name), 0o755);
  }
  savedPath = process.env['PATH'];
  process.env['PATH'] = `${dir}:${savedPath ?? ''}`;
});
after(() => {
  process.env['PATH'] = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

/** The per-run channel key the operator would put into the agent config. */
const KEY = 'a'.repeat(43);

async function agent(probe: { type: 'systemtap' | 'bpftrace'; program: string; params?: Record<string, unknown> }, extra: Record<string, unknown> = {}) {
  rmSync(join(dir, 'argv'), { force: true });
  rmSync(join(dir, 'program'), { force: true });
  const out: string[] = [];
  const config = {
    traceJob: { namespace: 'team-a', name: 'tj', uid: 'u', generation: 1 },
    nodeName: 'n1',
    probe: { params: {}, ...probe },
    durationSeconds: 1,
    targets: [],
    channelKey: KEY,
    ...extra,
  };
  const code = await runAgent({
    env: { PATH: process.env['PATH'], TRACEJOB_AGENT_CONFIG: JSON.stringify(config) },
    stdout: (l) => out.push(l),
    stderr: () => undefined,
    preflight: () => ({ ...CAPS_017, host: { ...host, bpftracePath: join(dir, 'bpftrace') } }),
  });
  const argv = existsSync(join(dir, 'argv')) ? readFileSync(join(dir, 'argv'), 'utf8').trim().split('\n') : undefined;
  const program = existsSync(join(dir, 'program')) ? readFileSync(join(dir, 'program'), 'utf8') : undefined;
  return { code, messages: decodeLog(out.join('\n'), KEY), argv, program };
}

describe('agent: custom SystemTap privilege', () => {
  it('system() without the guru grant → InvalidConfig naming it; stap never runs', async () => {
    const r = await agent({ type: 'systemtap', program: 'probe begin { system("touch /proc/1/root/tmp/x") exit() }' });
    assert.equal(r.code, AGENT_EXIT.invalidConfig);
    const err = r.messages.find((m) => m.tracejob === 'error');
    assert.ok(err && err.tracejob === 'error');
    assert.match(err.message, /spec\.probe\.program line 1: system\(\) is refused without SystemTap guru mode/);
    assert.equal(r.argv, undefined, 'stap was not started');
  });
  it('a plain program runs as stap --privilege=stapsys (no -g) with the guards in front', async () => {
    const r = await agent({ type: 'systemtap', program: 'probe timer.s(1) { printf("%d\\n", pid()) }' });
    assert.ok(r.argv, `stap was started: ${JSON.stringify(r.messages)} ${r.code}`);
    assert.ok(r.argv.includes('--privilege=stapsys'), r.argv.join(' '));
    assert.ok(!r.argv.includes('-g'));
    assert.ok(r.program?.includes(GUARD_FUNCTIONS));
  });
  it('a guru run granted by the operator: -g, no --privilege, no guards', async () => {
    const r = await agent({ type: 'systemtap', program: 'probe begin { exit() }', params: { guru: true } }, { guruAllowed: true });
    assert.ok(r.argv);
    assert.ok(r.argv.includes('-g'));
    assert.ok(!r.argv.some((a) => a.startsWith('--privilege')));
    assert.ok(!r.program?.includes(GUARD_FUNCTIONS));
  });
});

describe('agent: custom bpftrace', () => {
  it('never passes --unsafe', async () => {
    const r = await agent({ type: 'bpftrace', program: 'BEGIN { system("id"); exit(); }' });
    assert.ok(r.argv, 'bpftrace was started');
    assert.deepEqual(r.argv.slice(0, 2), ['-f', 'json']);
    assert.ok(!r.argv.includes('--unsafe'));
  });
});

const realBpftrace = process.getuid?.() !== 0 ? 'needs root' : spawnSync('/usr/bin/bpftrace', ['--version']).status !== 0 ? 'needs /usr/bin/bpftrace' : false;
describe('real bpftrace in safe mode (the agent argv)', { skip: realBpftrace }, () => {
  for (const [fn, program] of [
    ['system', 'BEGIN { system("touch /tmp/tj-bt-unsafe"); exit(); }'],
    ['signal', 'kprobe:vfs_read { signal(9); }'],
    ['override', 'kprobe:vfs_read { override(0); }'],
  ] as const) {
    it(`${fn}() is refused without --unsafe`, () => {
      const file = join(dir, `${fn}.bt`);
      writeFileSync(file, program);
      const r = spawnSync('/usr/bin/bpftrace', ['-f', 'json', file], { encoding: 'utf8', timeout: 60_000 });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, new RegExp(`${fn}\\(\\) is an unsafe function being used in safe mode`));
      assert.ok(!existsSync('/tmp/tj-bt-unsafe'));
    });
  }
});
