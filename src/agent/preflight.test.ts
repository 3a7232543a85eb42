import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PreflightCaps } from '../api/node-capabilities.js';
import { CAPS_017 } from '../probes/test-support.js';
import {
  CAP_SYS_ADMIN,
  capsForMessage,
  CAP_SYS_RESOURCE,
  cgroupLayoutFromMounts,
  hasCap,
  normaliseTracepoint,
  parseAvailableEvents,
  parseBpftraceVersion,
  parseCapEff,
  parseKernelConfig,
  parseMemlockLimit,
  parseMounts,
  systemtapBlockers,
  tracefsFromMounts,
  tracepointExists,
  unameMachine,
  type HostFacts,
} from './preflight.js';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');

describe('parseBpftraceVersion', () => {
  const cases: Array<[string, { version: string; major: number; minor: number } | undefined]> = [
    ['bpftrace v0.17.0\n', { version: '0.17.0', major: 0, minor: 17 }],
    ['bpftrace v0.23.2', { version: '0.23.2', major: 0, minor: 23 }],
    ['bpftrace v0.20.0-rc1', { version: '0.20.0-rc1', major: 0, minor: 20 }],
    ['bpftrace 0.24.1', { version: '0.24.1', major: 0, minor: 24 }],
    ['bpftrace v0.21.2-12-gabcdef0', { version: '0.21.2-12-gabcdef0', major: 0, minor: 21 }],
    ['bpftrace v1.0', { version: '1.0.0', major: 1, minor: 0 }],
    ['some warning\nbpftrace v0.19.1\n', { version: '0.19.1', major: 0, minor: 19 }],
    ['bash: bpftrace: command not found', undefined],
    ['', undefined],
  ];
  for (const [input, want] of cases) {
    it(JSON.stringify(input), () => assert.deepEqual(parseBpftraceVersion(input), want));
  }
});

describe('parseMounts / cgroup layout / tracefs', () => {
  it('this host: hybrid with unified at /sys/fs/cgroup/unified', () => {
    const m = parseMounts(fixture('mounts-hybrid-host.txt'));
    const l = cgroupLayoutFromMounts(m);
    assert.equal(l.version, 'hybrid');
    assert.equal(l.unifiedRoot, '/sys/fs/cgroup/unified');
    assert.equal(l.v1['memory'], '/sys/fs/cgroup/memory');
    assert.equal(l.v1['name=systemd'], '/sys/fs/cgroup/systemd');
    assert.equal(tracefsFromMounts(m), '/sys/kernel/tracing');
  });
  it('pure v2', () => {
    const m = parseMounts(fixture('mounts-v2.txt'));
    assert.deepEqual(cgroupLayoutFromMounts(m), { version: 'v2', unifiedRoot: '/sys/fs/cgroup', v1: {} });
    assert.equal(tracefsFromMounts(m), '/sys/kernel/tracing');
    assert.equal(m.find((e) => e.source === '/dev/sda1')?.target, '/var/lib/with space');
  });
  it('v1 only, tracefs under debugfs', () => {
    const m = parseMounts(fixture('mounts-v1.txt'));
    const l = cgroupLayoutFromMounts(m);
    assert.equal(l.version, 'v1');
    assert.equal(l.unifiedRoot, undefined);
    assert.equal(l.v1['cpu'], '/sys/fs/cgroup/cpu,cpuacct');
    assert.equal(l.v1['cpuacct'], '/sys/fs/cgroup/cpu,cpuacct');
    assert.ok(!('xattr' in l.v1));
    assert.equal(tracefsFromMounts(m), '/sys/kernel/debug/tracing');
  });
  it('no tracefs, or only somewhere bpftrace does not look', () => {
    assert.equal(tracefsFromMounts(parseMounts('proc /proc proc rw 0 0\n')), undefined);
    assert.equal(tracefsFromMounts(parseMounts('nodev /tmp/agentroot/sys/kernel/tracing tracefs rw,relatime 0 0\n')), undefined);
  });
});

describe('kernel config, capabilities, limits', () => {
  it('parses set / unset / module options', () => {
    const c = parseKernelConfig('# CONFIG_KPROBES is not set\nCONFIG_UPROBES=y\nCONFIG_FOO=m\nCONFIG_S="x y"\n# comment\n');
    assert.equal(c.get('CONFIG_KPROBES'), 'n');
    assert.equal(c.get('CONFIG_UPROBES'), 'y');
    assert.equal(c.get('CONFIG_FOO'), 'm');
    assert.equal(c.get('CONFIG_S'), '"x y"');
    assert.equal(c.get('CONFIG_BAR'), undefined);
  });
  it('CapEff without CAP_SYS_RESOURCE (this host)', () => {
    const mask = parseCapEff(fixture('status-no-sys-resource.txt'));
    assert.equal(mask, 0x1fffeffffffn);
    assert.equal(hasCap(mask, CAP_SYS_RESOURCE), false);
    assert.equal(hasCap(mask, CAP_SYS_ADMIN), true);
    assert.equal(hasCap(undefined, CAP_SYS_ADMIN), false);
  });
  it('memlock limit', () => {
    assert.deepEqual(parseMemlockLimit('Max locked memory         8388608              8388608              bytes\n'), {
      soft: 8388608,
      hard: 8388608,
    });
    assert.deepEqual(parseMemlockLimit('Max locked memory         unlimited            unlimited            bytes\n'), {
      soft: undefined,
      hard: undefined,
    });
    assert.equal(parseMemlockLimit('nothing'), undefined);
    assert.ok(parseMemlockLimit(fixture('limits.txt')));
  });
});

describe('tracepoints', () => {
  const caps = { tracepoints: parseAvailableEvents('sched:sched_process_exec\nsyscalls:sys_enter_execve\n\n') };
  it('exists / missing / unknown', () => {
    assert.equal(tracepointExists(caps, 'sched:sched_process_exec'), true);
    assert.equal(tracepointExists(caps, 'tracepoint:syscalls:sys_enter_execve'), true);
    assert.equal(tracepointExists(caps, 'tcp:tcp_retransmit_skb'), false);
    assert.equal(tracepointExists({}, 'sched:sched_process_exec'), undefined);
    assert.equal(normaliseTracepoint('t:a:b'), 'a:b');
  });
});

describe('systemtapBlockers', () => {
  const host = (over: Partial<HostFacts>): HostFacts => ({
    cgroup: { version: 'hybrid', unifiedRoot: '/sys/fs/cgroup/unified', v1: {} },
    modules: true,
    kernelBuildTree: true,
    canRaiseMemlock: true,
    bpftracePath: 'bpftrace',
    stap: true,
    kernelConfig: 'proc',
    warnings: [],
    ...over,
  });
  it('this host: no modules, no build tree, no CAP_SYS_RESOURCE, no stap', () => {
    const b = systemtapBlockers({
      kernel: '6.18.44-fc-v769',
      host: host({ modules: false, kernelBuildTree: false, canRaiseMemlock: false, stap: false }),
    });
    assert.equal(b.length, 4);
    assert.match(b.join('\n'), /CONFIG_MODULES/);
    assert.match(b.join('\n'), /\/lib\/modules\/6\.18\.44-fc-v769\/build/);
    assert.match(b.join('\n'), /RLIMIT_MEMLOCK/);
    assert.match(b.join('\n'), /stap is not installed/);
  });
  it('a capable host has none', () => {
    assert.deepEqual(systemtapBlockers({ kernel: '6.1.0', host: host({}) }), []);
  });
});

describe('unameMachine', () => {
  it('maps node arch names', () => {
    assert.equal(unameMachine('x64'), 'x86_64');
    assert.equal(unameMachine('arm64'), 'aarch64');
    assert.equal(unameMachine('mips'), 'mips');
  });
});

describe('capsForMessage', () => {
  const host = { cgroup: { version: 'v2' as const, unifiedRoot: '/sys/fs/cgroup', v1: {} }, modules: false, kernelBuildTree: false, canRaiseMemlock: false, bpftracePath: 'bpftrace', stap: false, kernelConfig: 'proc' as const, warnings: [] };
  it('fits the shared schema; a host value it would refuse is left out with a warning', () => {
    const caps = {
      ...CAPS_017,
      host: { ...host, os: { id: 'debian', idLike: [], versionId: '12', codename: 'book worm', prettyName: 'Debian\u001b[31m 12' }, bpftraceError: 'x'.repeat(5000) },
    };
    const payload = capsForMessage(caps);
    const parsed = PreflightCaps.parse(payload);
    assert.equal(parsed.host.os?.codename, undefined);
    assert.equal(parsed.host.os?.id, 'debian');
    assert.equal(parsed.host.os?.prettyName, 'Debian?[31m 12');
    assert.ok((parsed.host.bpftraceError ?? '').length <= 2000);
    assert.ok(parsed.host.warnings.some((w) => /host\.os\.codename left out/.test(w)), parsed.host.warnings.join('\n'));
  });
  it('an optional object whose required field is refused goes as a whole', () => {
    const payload = capsForMessage({ ...CAPS_017, bpftrace: { version: 'nonsense version', major: 0, minor: 17 }, host });
    const parsed = PreflightCaps.parse(payload);
    assert.equal(parsed.bpftrace, undefined);
  });
  it('the kernel release stays as it is (the operator refuses the report and says why)', () => {
    const payload = capsForMessage({ ...CAPS_017, kernel: '6.1 $(x)', host });
    assert.equal(PreflightCaps.safeParse(payload).success, false);
    assert.equal(payload.kernel, '6.1 $(x)');
  });
});
