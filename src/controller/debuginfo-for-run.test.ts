import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CapabilityReport } from './capabilities.js';
import { reportFromConfigMap, reportIsFresh, capabilityConfigMap } from './capabilities.js';
import { OperatorConfig } from './config.js';
import { debuginfoForRun, isSystemtapRun, type RunDebuginfo } from './debuginfo-for-run.js';
import { desiredNodeJob } from './node-job.js';
import { observeNodeJob } from './job-status.js';
import type { V1Job, V1Pod } from '@kubernetes/client-node';

const now = new Date('2026-11-30T01:00:00Z');
const config = OperatorConfig.parse({});

/** A node that can run SystemTap's module runtime except for what each case removes. */
function report(over: Partial<CapabilityReport> = {}): CapabilityReport {
  return {
    node: 'n1',
    reportedAt: '2026-11-30T00:59:00Z',
    kernel: '6.1.0-18-amd64',
    arch: 'x86_64',
    osRelease: { id: 'debian', idLike: [], versionId: '12', codename: 'bookworm' },
    btf: true,
    tracefs: true,
    kprobes: true,
    kfunc: true,
    uprobes: true,
    perfEvents: true,
    modules: true,
    lockdown: 'none',
    kernelBuildTree: true,
    stapInstalled: true,
    stapModuleRuntime: true,
    stapbpf: true,
    canRaiseMemlock: true,
    debuginfo: { present: true, vmlinux: '/usr/lib/debug/boot/vmlinux-6.1.0-18-amd64', debuginfod: false },
    cgroupVersion: 'v2',
    backends: ['bpftrace', 'systemtap'],
    ...over,
  };
}
const plan = (r: CapabilityReport | undefined, backend: 'auto' | 'bpftrace' | 'systemtap' = 'systemtap', probeType = 'tcpRetransmits', cfg = config): RunDebuginfo =>
  debuginfoForRun({ backend, probeType, report: r, now, config: cfg });
const extras = (p: RunDebuginfo) => {
  assert.equal(p.kind, 'extras', JSON.stringify(p));
  return (p as Extract<RunDebuginfo, { kind: 'extras' }>).extras;
};

describe('isSystemtapRun', () => {
  it('backend: systemtap and custom SystemTap programs; never auto or bpftrace programs', () => {
    const table: Array<[Parameters<typeof isSystemtapRun>[0], string, boolean]> = [
      ['systemtap', 'tcpRetransmits', true],
      ['auto', 'systemtap', true],
      ['systemtap', 'systemtap', true],
      ['auto', 'tcpRetransmits', false],
      ['bpftrace', 'tcpRetransmits', false],
      ['systemtap', 'bpftrace', false],
    ];
    for (const [backend, type, want] of table) assert.equal(isSystemtapRun(backend, type), want, `${backend}/${type}`);
  });
});

describe('debuginfoForRun', () => {
  it('bpftrace and auto runs need nothing from the report', () => {
    assert.equal(plan(undefined, 'bpftrace').kind, 'none');
    assert.equal(plan(undefined, 'auto').kind, 'none');
    assert.equal(plan(report(), 'auto').kind, 'none');
    assert.equal(plan(undefined, 'systemtap', 'bpftrace').kind, 'none');
  });
  it('systemtap without a report, or with a stale one → refresh it first', () => {
    assert.deepEqual(plan(undefined), { kind: 'needReport', why: 'the node has no capability report yet' });
    const stale = plan(report({ reportedAt: '2026-11-29T23:00:00Z' }));
    assert.equal(stale.kind, 'needReport');
    assert.match((stale as { why: string }).why, /older than 3600s/);
    assert.equal(plan(undefined, 'auto', 'systemtap').kind, 'needReport');
  });
  it('a node that cannot run the module runtime → nothing to add (the agent names the blockers)', () => {
    assert.equal(plan(report({ modules: false, stapModuleRuntime: false })).kind, 'none');
    // A report written by the slim bpftrace image says stap is not installed: the SystemTap run uses its own image.
    assert.equal(plan(report({ stapInstalled: false, stapModuleRuntime: false, stapbpf: false })).kind, 'extras');
  });
  it('host has debuginfo and build tree → read-only host mounts at the same paths, no init container', () => {
    const x = extras(plan(report()));
    assert.deepEqual(x.initContainers, []);
    assert.deepEqual(x.agentMounts, [
      { name: 'host-modules', mountPath: '/lib/modules', readOnly: true },
      { name: 'host-usr-src', mountPath: '/usr/src', readOnly: true },
      { name: 'host-debug', mountPath: '/usr/lib/debug', readOnly: true },
    ]);
    assert.deepEqual(x.volumes.map((v) => [v.hostPath?.path, v.hostPath?.type]), [
      ['/lib/modules', 'Directory'],
      ['/usr/src', 'Directory'],
      ['/usr/lib/debug', 'Directory'],
    ]);
    assert.deepEqual(x.agent, {});
    assert.equal(x.extraDeadlineSeconds, 0);
  });
  it('the agent saw the host vmlinux through /proc/1/root → the host path is mounted', () => {
    const x = extras(plan(report({ debuginfo: { present: true, vmlinux: '/proc/1/root/usr/lib/debug/boot/vmlinux-6.1.0-18-amd64', debuginfod: false } })));
    assert.ok(x.agentMounts.some((m) => m.mountPath === '/usr/lib/debug'));
  });
  it('Debian without headers and debuginfo → init container fetching both into the node cache, agent pointed at it', () => {
    const x = extras(plan(report({ kernelBuildTree: false, stapModuleRuntime: false, debuginfo: { present: false, debuginfod: false } })));
    assert.equal(x.initContainers.length, 1);
    const init = x.initContainers[0];
    assert.equal(init?.image, 'docker.io/library/debian:bookworm');
    assert.match(init?.command?.[5] ?? '', /apt-get download 'linux-image-6\.1\.0-18-amd64-dbg'/);
    assert.match(init?.command?.[5] ?? '', /apt-get download 'linux-headers-6\.1\.0-18-amd64'/);
    assert.deepEqual(x.volumes, [{ name: 'debuginfo-cache', hostPath: { path: '/var/cache/tracejob/debuginfo', type: 'DirectoryOrCreate' } }]);
    assert.deepEqual(x.agentMounts, [{ name: 'debuginfo-cache', mountPath: '/debuginfo', readOnly: true }]);
    assert.deepEqual(x.agent, {
      buildTree: '/debuginfo/6.1.0-18-amd64/root/usr/src/linux-headers-6.1.0-18-amd64',
      debugRoot: '/debuginfo/6.1.0-18-amd64/root',
    });
    assert.equal(x.extraDeadlineSeconds, 600);
  });
  it('debuginfod configured → only headers are fetched; stap gets DEBUGINFOD_URLS; image override for mirrors', () => {
    const cfg = OperatorConfig.parse({ debuginfo: { debuginfodUrls: 'https://debuginfod.example', image: 'mirror.local/debian:bookworm' } });
    const x = extras(plan(report({ kernelBuildTree: false, debuginfo: { present: false, debuginfod: false } }), 'systemtap', 'tcpRetransmits', cfg));
    assert.equal(x.initContainers[0]?.image, 'mirror.local/debian:bookworm');
    assert.doesNotMatch(x.initContainers[0]?.command?.[5] ?? '', /-dbg/);
    assert.deepEqual(x.agent, { debuginfodUrls: 'https://debuginfod.example', buildTree: '/debuginfo/6.1.0-18-amd64/root/usr/src/linux-headers-6.1.0-18-amd64' });
  });
  it('RHEL: kernel-debuginfo + kernel-devel by exact NEVRA', () => {
    const x = extras(
      plan(report({ kernel: '5.14.0-362.8.1.el9_3.x86_64', osRelease: { id: 'rocky', idLike: ['rhel', 'centos', 'fedora'], versionId: '9.3' }, kernelBuildTree: false, debuginfo: { present: false, debuginfod: false } })),
    );
    const script = x.initContainers[0]?.command?.[5] ?? '';
    assert.match(script, /dnf download .*'kernel-debuginfo-5\.14\.0-362\.8\.1\.el9_3\.x86_64'/);
    assert.match(script, /'kernel-devel-5\.14\.0-362\.8\.1\.el9_3\.x86_64'/);
    assert.equal(x.agent.buildTree, '/debuginfo/5.14.0-362.8.1.el9_3.x86_64/root/usr/src/kernels/5.14.0-362.8.1.el9_3.x86_64');
  });
  it('nothing matches → DebuginfoUnavailable naming the kernel and what is missing', () => {
    const custom = plan(report({ kernel: '6.18.44-fc-v769', kernelBuildTree: false, debuginfo: { present: false, debuginfod: false } }));
    assert.equal(custom.kind, 'unavailable');
    assert.match((custom as { message: string }).message, /kernel 6\.18\.44-fc-v769 is not a .* distribution kernel/);
    const unknownOs = plan(report({ osRelease: { id: 'nixos', idLike: [] }, kernelBuildTree: false, debuginfo: { present: false, debuginfod: false } }));
    assert.equal(unknownOs.kind, 'unavailable');
    assert.match((unknownOs as { message: string }).message, /no debuginfo source for kernel 6\.1\.0-18-amd64 .* DEBUGINFOD_URLS is not configured/);
    const noOs = plan(report({ osRelease: undefined, debuginfo: { present: false, debuginfod: false } }));
    assert.equal(noOs.kind, 'unavailable');
  });
});

describe('capability report freshness', () => {
  it('round-trips through its ConfigMap and ages out', () => {
    const built = capabilityConfigMap({ kernel: '6.1.0-18-amd64', host: { os: { id: 'debian', idLike: [], versionId: '12' } } }, 'n1', now, 'tracejob-system');
    assert.ok(built.ok);
    const r = reportFromConfigMap(built.configMap);
    assert.equal(r?.kernel, '6.1.0-18-amd64');
    assert.deepEqual(r?.osRelease, { id: 'debian', idLike: [], versionId: '12' });
    assert.equal(reportIsFresh(r, new Date(now.getTime() + 3_599_000), 3600), true);
    assert.equal(reportIsFresh(r, new Date(now.getTime() + 3_601_000), 3600), false);
    assert.equal(reportIsFresh(r, new Date(now.getTime() - 60_000), 3600), false, 'a report from the future is not trusted');
    assert.equal(reportFromConfigMap({ data: { 'report.json': 'not json' } }), undefined);
    assert.equal(reportFromConfigMap(undefined), undefined);
  });
});

describe('node job for a SystemTap run', () => {
  const tjRef = { namespace: 'shop', name: 'stap', uid: '0f3c2a9e-1111-2222-3333-444455556666', generation: 1 };
  const agentConfig = { traceJob: tjRef, nodeName: 'n1', probe: { type: 'tcpRetransmits', params: {} }, backend: 'systemtap' as const, durationSeconds: 30, targets: [] };
  it('init container, cache mount read-only in the agent, deadline extended by the fetch bound', () => {
    const x = extras(plan(report({ kernelBuildTree: false, debuginfo: { present: false, debuginfod: false } })));
    const job = desiredNodeJob({ traceJob: tjRef, node: 'n1', durationSeconds: 30, config, agentConfig: { ...agentConfig, debuginfo: x.agent }, extras: x });
    const pod = job.spec?.template.spec;
    assert.deepEqual(pod?.initContainers?.map((c) => c.name), ['debuginfo']);
    assert.equal(job.spec?.activeDeadlineSeconds, 30 + config.jobGraceSeconds + 600);
    assert.deepEqual(pod?.containers[0]?.volumeMounts?.map((m) => `${m.mountPath}:${m.readOnly ? 'ro' : 'rw'}`), ['/sys:ro', '/tmp:rw', '/debuginfo:ro']);
    assert.equal(pod?.automountServiceAccountToken, false);
    // SystemTap runs get the image that ships stap and a compiler; bpftrace runs the slim one.
    assert.equal(pod?.containers[0]?.image, 'localhost/tracejob-agent-systemtap:dev');
    const bpf = desiredNodeJob({ traceJob: tjRef, node: 'n1', durationSeconds: 30, config, agentConfig: { ...agentConfig, backend: 'auto' } });
    assert.equal(bpf.spec?.template.spec?.containers[0]?.image, 'localhost/tracejob-agent:dev');
  });
  it('a preflight-only job: own name and component, no extras', () => {
    const job = desiredNodeJob({ traceJob: tjRef, node: 'n1', durationSeconds: 0, config, agentConfig: { ...agentConfig, mode: 'preflight' } });
    assert.match(job.metadata?.name ?? '', /^tj-0f3c2a9e[0-9a-f]{24}-g1-[0-9a-f]{8}-pf$/);
    assert.equal(job.metadata?.labels?.['app.kubernetes.io/component'], 'node-preflight');
    assert.equal(job.spec?.template.spec?.initContainers, undefined);
    assert.equal(job.spec?.activeDeadlineSeconds, config.jobGraceSeconds);
  });
});

describe('observeNodeJob: the debuginfo init container', () => {
  const job: V1Job = { metadata: { name: 'tj-x', creationTimestamp: now }, status: {} };
  const pod = (init: NonNullable<V1Pod['status']>['initContainerStatuses']): V1Pod => ({
    metadata: { name: 'tj-x-abc', creationTimestamp: now },
    status: { phase: 'Pending', initContainerStatuses: init, containerStatuses: [{ name: 'agent', image: 'a', imageID: '', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] },
  });
  const init = (state: object) => [{ name: 'debuginfo', image: 'docker.io/library/debian:bookworm', imageID: '', ready: false, restartCount: 0, state }];
  it('no package matched (exit 42) → DebuginfoUnavailable with the init container message', () => {
    const v = observeNodeJob(job, pod(init({ terminated: { exitCode: 42, message: 'DebuginfoUnavailable: none of linux-headers-6.1.0-18-amd64 is available\n' } })), now.getTime(), 90_000);
    assert.deepEqual(v, { state: 'failed', reason: 'DebuginfoUnavailable', message: 'DebuginfoUnavailable: none of linux-headers-6.1.0-18-amd64 is available', exitCode: 42 });
  });
  it('killed by its time bound → DebuginfoUnavailable saying it did not finish in time', () => {
    const v = observeNodeJob(job, pod(init({ terminated: { exitCode: 137 } })), now.getTime(), 90_000);
    assert.equal(v.state, 'failed');
    assert.match((v as { message: string }).message, /did not finish in time/);
  });
  it('still fetching → pending, not stuck', () => {
    assert.equal(observeNodeJob(job, pod(init({ running: {} })), now.getTime() + 300_000, 90_000).state, 'pending');
  });
  it('its image cannot be pulled → ImageUnavailable naming the debuginfo image', () => {
    const v = observeNodeJob(job, pod(init({ waiting: { reason: 'ErrImageNeverPull', message: 'never pull' } })), now.getTime(), 90_000);
    assert.equal(v.state, 'stuck');
    assert.match((v as { message: string }).message, /debuginfo image docker\.io\/library\/debian:bookworm unavailable/);
  });
});

describe('configFromEnv: SystemTap settings from the chart', () => {
  it('reads the images, report age and debuginfo settings; defaults otherwise', async () => {
    const { configFromEnv } = await import('./config.js');
    const c = configFromEnv({
      TRACEJOB_AGENT_SYSTEMTAP_IMAGE: 'r.example/agent-stap:1',
      TRACEJOB_CAPABILITY_MAX_AGE_SECONDS: '600',
      TRACEJOB_DEBUGINFOD_URLS: 'https://d.example',
      TRACEJOB_DEBUGINFO_CACHE: '/var/lib/di',
      TRACEJOB_DEBUGINFO_TIMEOUT_SECONDS: '120',
      TRACEJOB_DEBUGINFO_IMAGE: '',
    });
    assert.equal(c.agentSystemtapImage, 'r.example/agent-stap:1');
    assert.equal(c.capabilityMaxAgeSeconds, 600);
    assert.deepEqual(c.debuginfo, { debuginfodUrls: 'https://d.example', cacheHostPath: '/var/lib/di', timeoutSeconds: 120, image: '' });
    assert.deepEqual(configFromEnv({}).debuginfo, config.debuginfo);
    assert.throws(() => configFromEnv({ TRACEJOB_DEBUGINFO_CACHE: 'relative/path' }));
  });
});

describe('a poisoned report that got past the schema', () => {
  it('the plan refuses it at the point of use: no init container, DebuginfoUnavailable naming the field', () => {
    const p = plan(report({ kernelBuildTree: false, debuginfo: { present: false, debuginfod: false }, osRelease: { id: 'debian', idLike: [], versionId: '13', codename: 'trixie main\ndeb [trusted=yes] http://evil/ x' } }));
    assert.equal(p.kind, 'unavailable', JSON.stringify(p));
    assert.match(p.kind === 'unavailable' ? p.message : '', /VERSION_CODENAME/);
  });
});
