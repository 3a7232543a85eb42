// Real runs on THIS machine (root; skipped otherwise): SystemTap cannot run here
// (CONFIG_MODULES off, no kernel build tree, no CAP_SYS_RESOURCE for stapbpf), so
// `backend: systemtap` must exit 5 fast naming exactly those; `backend: auto` picks
// bpftrace. And the capability report from a real preflight, field by field,
// against the kernel config (/proc/config.gz) and the files the facts come from.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { capabilityReport } from '../controller/capabilities.js';
import { capsForMessage, parseKernelConfig, preflight } from './preflight.js';
import { AGENT_CONFIG_ENV, decodeLog, type AgentConfig, type AgentMessage } from './protocol.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.ts');
const skip = process.getuid?.() !== 0 ? 'needs root' : spawnSync('bpftrace', ['--version']).status !== 0 ? 'needs bpftrace' : false;

const KEY = randomBytes(32).toString('base64url');

function runAgent(cfg: AgentConfig): Promise<{ code: number | null; messages: AgentMessage[]; stderr: string; ms: number }> {
  const t0 = Date.now();
  const agent = spawn(process.execPath, ['--import', 'tsx', MAIN], { env: { ...process.env, [AGENT_CONFIG_ENV]: JSON.stringify({ ...cfg, channelKey: KEY }) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  agent.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  agent.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => agent.on('close', (code) => resolve({ code, messages: decodeLog(stdout, KEY), stderr, ms: Date.now() - t0 })));
}

const cfg = (backend: AgentConfig['backend'], durationSeconds = 2): AgentConfig => ({
  traceJob: { namespace: 'default', name: 'stap-itest', uid: 'uid-stap', generation: 1 },
  nodeName: 'this-host',
  probe: { type: 'tcpRetransmits', params: {} },
  backend,
  durationSeconds,
  targets: [],
});

const kconfig = (): Map<string, string> | undefined => (existsSync('/proc/config.gz') ? parseKernelConfig(gunzipSync(readFileSync('/proc/config.gz')).toString('utf8')) : undefined);

describe('SystemTap on this machine (real agent)', { skip }, () => {
  it('backend: systemtap → exit 5 Unsupported in < 5 s naming no modules, no build tree, memlock', async () => {
    const r = await runAgent(cfg('systemtap', 10));
    assert.equal(r.code, 5, r.stderr);
    assert.ok(r.ms < 5000, `took ${r.ms} ms`);
    const err = r.messages.find((m) => m.tracejob === 'error');
    assert.ok(err && err.tracejob === 'error');
    assert.equal(err.reason, 'Unsupported');
    const parts = err.message.replace(/^SystemTap cannot run on node this-host: /, '').split('; ');
    const stapInstalled = spawnSync('stap', ['-V']).error === undefined;
    assert.equal(parts.length, stapInstalled ? 3 : 4, err.message);
    assert.match(err.message, /no loadable module support \(CONFIG_MODULES off, \/proc\/modules absent\)/);
    assert.match(err.message, new RegExp(`no kernel build tree at /lib/modules/${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim().replace(/\./g, '\\.')}/build`));
    assert.match(err.message, /stapbpf \(--runtime=bpf\) must raise RLIMIT_MEMLOCK but the agent lacks CAP_SYS_RESOURCE/);
    assert.deepEqual(r.messages.map((m) => m.tracejob), ['preflight', 'error'], 'nothing ran');
  });

  it('backend: auto on tcpRetransmits picks bpftrace', async () => {
    const r = await runAgent(cfg('auto'));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /backend bpftrace \(auto: the hooks of tcpRetransmits exist on this node\)/);
    const attached = r.messages.find((m) => m.tracejob === 'attached');
    assert.ok(attached && attached.tracejob === 'attached');
    assert.equal(attached.tracer.name, 'bpftrace');
    assert.ok(r.messages.some((m) => m.tracejob === 'result'));
  });

  it('the capability report of this machine matches the kernel config, field by field', () => {
    const caps = preflight({ noMount: true });
    const built = capabilityReport(capsForMessage(caps), 'this-host', new Date());
    assert.ok(built.ok, built.ok ? '' : built.error);
    const r = built.report;
    const c = kconfig();
    const y = (k: string): boolean | undefined => (c ? c.get(k) === 'y' : undefined);
    assert.equal(r.kernel, readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim());
    // kprobes: CONFIG_KPROBES off here; no kprobe_events file.
    assert.equal(r.kprobes, y('CONFIG_KPROBES') ?? existsSync('/sys/kernel/tracing/kprobe_events'));
    assert.equal(r.kprobes, false);
    // modules: CONFIG_MODULES off; no /proc/modules.
    assert.equal(r.modules, y('CONFIG_MODULES') ?? existsSync('/proc/modules'));
    assert.equal(r.modules, false);
    // BTF: CONFIG_DEBUG_INFO_BTF=y and /sys/kernel/btf/vmlinux.
    assert.equal(r.btf, existsSync('/sys/kernel/btf/vmlinux'));
    if (c) assert.equal(r.btf, y('CONFIG_DEBUG_INFO_BTF'));
    assert.equal(r.btf, true);
    assert.equal(r.uprobes, true);
    if (c) assert.equal(y('CONFIG_UPROBE_EVENTS'), true);
    assert.equal(r.tracefs, true);
    assert.ok((r.tracepoints ?? 0) > 100);
    assert.equal(r.perfEvents, y('CONFIG_PERF_EVENTS') ?? true);
    assert.equal(r.kfunc, false, 'no kfunc: available_filter_functions unreadable');
    assert.equal(r.cgroupVersion, 'hybrid');
    assert.equal(r.kernelBuildTree, false);
    assert.equal(r.canRaiseMemlock, false);
    assert.equal(r.stapModuleRuntime, false);
    assert.equal(r.stapbpf, false);
    assert.equal(r.debuginfo.present, false);
    // No lockdown LSM in this kernel (and no securityfs file): "none".
    if (c && c.get('CONFIG_SECURITY_LOCKDOWN_LSM') !== 'y') assert.equal(r.lockdown, 'none');
    assert.match(r.bpftrace ?? '', /^\d+\.\d+\.\d+/);
    assert.deepEqual(r.backends, ['bpftrace']);
    assert.match(r.os ?? '', /Debian/);
  });
});
