// What a SystemTap run needs on its node beyond the agent: the node's own kernel
// build tree and debuginfo mounted read-only, or packages fetched by an init
// container into a node cache, or nothing (bpftrace runs; nodes that cannot run
// SystemTap at all, where the agent reports exactly why). Pure: decided from the
// node capability report (src/controller/capabilities.ts) and operator config.
import type { V1Container, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { AgentConfig } from '../agent/protocol.js';
import { debuginfoCacheVolume, debuginfoInitContainer, resolveDebuginfo, type DebuginfoPlan } from '../systemtap/debuginfo.js';
import type { CapabilityReport } from './capabilities.js';
import { reportIsFresh } from './capabilities.js';
import type { OperatorConfig } from './config.js';

/** Extra pieces of the node Job for one run. */
export interface NodeJobExtras {
  initContainers: V1Container[];
  volumes: V1Volume[];
  agentMounts: V1VolumeMount[];
  /** Added to the Job's activeDeadlineSeconds (time for the init container). */
  extraDeadlineSeconds: number;
  agent: NonNullable<AgentConfig['debuginfo']>;
  notes: string[];
}

export type RunDebuginfo =
  /** Nothing to add: bpftrace, or a node where SystemTap cannot run (the agent says why). */
  | { kind: 'none'; why: string }
  /** The node's capability report is missing or stale: refresh it first. */
  | { kind: 'needReport'; why: string }
  /** SystemTap would run, but no source of debuginfo/headers matches the node's kernel. */
  | { kind: 'unavailable'; message: string }
  | { kind: 'extras'; extras: NodeJobExtras };

export interface RunDebuginfoInput {
  backend: 'auto' | 'bpftrace' | 'systemtap';
  probeType: string;
  /** The node's capability report (undefined when there is none yet). */
  report: CapabilityReport | undefined;
  now: Date;
  config: Pick<OperatorConfig, 'capabilityMaxAgeSeconds' | 'debuginfo'>;
}

export const AGENT_DEBUGINFO_MOUNT = '/debuginfo';
const HOST_ROOT_PREFIX = '/proc/1/root';

/**
 * A SystemTap run: `backend: systemtap` or a custom SystemTap program. These get the
 * SystemTap image and a debuginfo plan; `auto` stays with bpftrace's image and the
 * agent's choice on the node (its SystemTap fallback can only use what the node has).
 */
export function isSystemtapRun(backend: RunDebuginfoInput['backend'], probeType: string): boolean {
  return probeType === 'systemtap' || (backend === 'systemtap' && probeType !== 'bpftrace');
}

export function debuginfoForRun(input: RunDebuginfoInput): RunDebuginfo {
  const { report, config } = input;
  if (!isSystemtapRun(input.backend, input.probeType)) return { kind: 'none', why: 'not a SystemTap run' };
  if (!reportIsFresh(report, input.now, config.capabilityMaxAgeSeconds)) {
    return { kind: 'needReport', why: report ? `the capability report of the node is older than ${config.capabilityMaxAgeSeconds}s` : 'the node has no capability report yet' };
  }
  // The catalog scripts need the module runtime; custom programs may use stapbpf, which
  // needs neither headers nor (for tracepoints) debuginfo.
  // Whether stap is installed is a fact of the image that wrote the report (bpftrace runs
  // use the slim image); SystemTap runs always get the SystemTap image. Modules are the node's.
  if (!report.modules) {
    return { kind: 'none', why: 'the SystemTap module runtime cannot run on this node; the agent names the blockers' };
  }
  const kernel = report.kernel;
  const vmlinux = report.debuginfo.vmlinux?.startsWith(HOST_ROOT_PREFIX) ? report.debuginfo.vmlinux.slice(HOST_ROOT_PREFIX.length) : report.debuginfo.vmlinux;
  const hostBuildTree = report.kernelBuildTree ? `/lib/modules/${kernel}/build` : undefined;
  const plan: DebuginfoPlan = resolveDebuginfo({
    osRelease: undefined,
    ...(report.osRelease ? { os: report.osRelease } : {}),
    kernelRelease: kernel,
    ...(report.arch ? { arch: report.arch } : {}),
    host: { ...(vmlinux ? { vmlinux } : {}), ...(hostBuildTree ? { buildTree: hostBuildTree } : {}) },
    debuginfodUrls: config.debuginfo.debuginfodUrls,
  });
  if (plan.kind === 'unavailable') return { kind: 'unavailable', message: plan.message };

  const extras: NodeJobExtras = { initContainers: [], volumes: [], agentMounts: [], extraDeadlineSeconds: 0, agent: {}, notes: [...plan.notes] };
  const debuginfod = config.debuginfo.debuginfodUrls.trim();
  if (debuginfod && !vmlinux) extras.agent.debuginfodUrls = debuginfod;
  // The node's own files, read-only at the same paths (the build symlink points into /usr/src).
  const hostMount = (name: string, path: string) => {
    extras.volumes.push({ name, hostPath: { path, type: 'Directory' } });
    extras.agentMounts.push({ name, mountPath: path, readOnly: true });
  };
  if (hostBuildTree) {
    hostMount('host-modules', '/lib/modules');
    hostMount('host-usr-src', '/usr/src');
  }
  if (vmlinux?.startsWith('/usr/lib/debug/')) hostMount('host-debug', '/usr/lib/debug');
  if (plan.kind === 'packages') {
    let init: V1Container | undefined;
    try {
      init = debuginfoInitContainer(plan, config.debuginfo.cacheHostPath, { timeoutSeconds: config.debuginfo.timeoutSeconds });
    } catch (e) {
      // A plan value the script builder refuses (it re-checks what the report schema checked).
      return { kind: 'unavailable', message: (e as Error).message };
    }
    if (init) {
      if (config.debuginfo.image) init.image = config.debuginfo.image;
      extras.initContainers.push(init);
      extras.volumes.push(debuginfoCacheVolume(config.debuginfo.cacheHostPath));
      extras.agentMounts.push({ name: 'debuginfo-cache', mountPath: AGENT_DEBUGINFO_MOUNT, readOnly: true });
      extras.extraDeadlineSeconds = config.debuginfo.timeoutSeconds;
      const root = `${AGENT_DEBUGINFO_MOUNT}/${plan.release}`;
      if (plan.buildTreeInCache) extras.agent.buildTree = `${root}/${plan.buildTreeInCache}`;
      if (plan.packages.some((p) => p.purpose === 'debuginfo')) extras.agent.debugRoot = `${root}/root`;
      extras.notes.push(`fetching ${plan.packages.map((p) => p.candidates[0]).join(', ')} into ${config.debuginfo.cacheHostPath}/${plan.release} on the node`);
    }
  }
  return { kind: 'extras', extras };
}
