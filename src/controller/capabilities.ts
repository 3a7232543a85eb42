// Per-node capability report: what each node can trace with, from the agent's
// `preflight` message (src/agent/preflight.ts → capsForMessage). The operator
// writes it to ConfigMap `tracejob-node-<node>` in its namespace every time a
// node job reports (so it is refreshed by every run on that node; `reportedAt`
// tells how old it is). Pure.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { LABELS, MANAGER } from './names.js';

export const CAPABILITY_COMPONENT = 'node-capabilities';

export interface CapabilityReport {
  node: string;
  reportedAt: string;
  kernel: string;
  arch?: string;
  os?: string;
  /** os-release fields the debuginfo resolver picks packages by. */
  osRelease?: { id: string; idLike: string[]; versionId?: string; codename?: string };
  btf: boolean;
  tracefs: boolean;
  /** Number of tracepoints the node lists (undefined when not enumerated). */
  tracepoints?: number;
  kprobes: boolean;
  kfunc: boolean;
  uprobes: boolean;
  perfEvents: boolean;
  /** Loadable kernel modules (CONFIG_MODULES). */
  modules: boolean;
  lockdown: string;
  kernelBuildTree: boolean;
  /** stap in the agent image that wrote this report (the SystemTap image has it, the bpftrace image not). */
  stapInstalled: boolean;
  stapVersion?: string;
  /** SystemTap's default (kernel module) runtime: stap + modules + build tree. */
  stapModuleRuntime: boolean;
  /** stapbpf (--runtime=bpf): stap + CAP_SYS_RESOURCE for RLIMIT_MEMLOCK. */
  stapbpf: boolean;
  canRaiseMemlock: boolean;
  debuginfo: { present: boolean; vmlinux?: string; debuginfod: boolean };
  bpftrace?: string;
  bpftraceError?: string;
  cgroupVersion: string;
  kernelConfig?: string;
  /** The backends this node can run. */
  backends: string[];
}

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Rec) : {});
const bool = (v: unknown): boolean => v === true;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The report from a preflight message's `caps` (tolerant of older agents: missing → false/unknown). */
export function capabilityReport(caps: Rec, nodeName: string, now: Date): CapabilityReport {
  const host = rec(caps['host']);
  const cgroup = rec(host['cgroup']);
  const bt = rec(caps['bpftrace']);
  const di = rec(host['debuginfo']);
  const os = rec(host['os']);
  const stap = bool(host['stap']);
  const modules = bool(host['modules']);
  const buildTree = bool(host['kernelBuildTree']);
  const memlock = bool(host['canRaiseMemlock']);
  const stapModuleRuntime = stap && modules && buildTree;
  const stapbpf = stap && memlock;
  const r: CapabilityReport = {
    node: nodeName,
    reportedAt: now.toISOString(),
    kernel: str(caps['kernel']) ?? 'unknown',
    btf: bool(caps['btf']),
    tracefs: bool(caps['tracefs']),
    kprobes: bool(caps['kprobes']),
    kfunc: bool(caps['kfunc']),
    uprobes: bool(caps['uprobes']),
    perfEvents: bool(caps['perfEvents']),
    modules,
    lockdown: str(host['lockdown']) ?? 'unknown',
    kernelBuildTree: buildTree,
    stapInstalled: stap,
    stapModuleRuntime,
    stapbpf,
    canRaiseMemlock: memlock,
    debuginfo: { present: bool(di['present']), debuginfod: bool(di['debuginfod']), ...(str(di['vmlinux']) ? { vmlinux: str(di['vmlinux']) as string } : {}) },
    cgroupVersion: str(caps['cgroupVersion']) ?? str(cgroup['version']) ?? 'unknown',
    backends: [...(str(bt['version']) ? ['bpftrace'] : []), ...(stapModuleRuntime || stapbpf ? ['systemtap'] : [])],
  };
  const arch = str(caps['arch']);
  if (arch) r.arch = arch;
  const pretty = str(os['prettyName']) ?? str(os['id']);
  if (pretty) r.os = pretty;
  const osId = str(os['id']);
  if (osId) {
    const idLike = Array.isArray(os['idLike']) ? os['idLike'].filter((x): x is string => typeof x === 'string') : [];
    const versionId = str(os['versionId']);
    const codename = str(os['codename']);
    r.osRelease = { id: osId, idLike, ...(versionId ? { versionId } : {}), ...(codename ? { codename } : {}) };
  }
  if (typeof caps['tracepoints'] === 'number') r.tracepoints = caps['tracepoints'];
  const sv = str(host['stapVersion']);
  if (sv) r.stapVersion = sv;
  const bv = str(bt['version']);
  if (bv) r.bpftrace = bv;
  const be = str(host['bpftraceError']);
  if (be) r.bpftraceError = be;
  const kc = str(host['kernelConfig']);
  if (kc) r.kernelConfig = kc;
  return r;
}

/** `tracejob-node-<node>` (node names are DNS subdomains; ConfigMap names allow 253). */
export function capabilityConfigMapName(nodeName: string): string {
  return `tracejob-node-${nodeName}`.slice(0, 253).replace(/[.-]+$/, '');
}

export function capabilityConfigMap(caps: Rec, nodeName: string, now: Date, namespace: string): V1ConfigMap {
  const report = capabilityReport(caps, nodeName, now);
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: capabilityConfigMapName(nodeName),
      namespace,
      labels: {
        [LABELS.managedBy]: MANAGER,
        [LABELS.component]: CAPABILITY_COMPONENT,
      },
      annotations: { 'tracing.tracejob.dev/node': nodeName, 'tracing.tracejob.dev/reported-at': report.reportedAt },
    },
    data: { 'report.json': `${JSON.stringify(report, null, 2)}\n` },
  };
}

/** The report stored in a capability ConfigMap, or undefined when absent or unreadable. */
export function reportFromConfigMap(cm: V1ConfigMap | undefined): CapabilityReport | undefined {
  const text = cm?.data?.['report.json'];
  if (!text) return undefined;
  try {
    const r = JSON.parse(text) as CapabilityReport;
    return typeof r.kernel === 'string' && typeof r.reportedAt === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a report is recent enough to plan a run on (and written by an agent that knew the OS). */
export function reportIsFresh(report: CapabilityReport | undefined, now: Date, maxAgeSeconds: number): report is CapabilityReport {
  if (!report) return false;
  const age = now.getTime() - Date.parse(report.reportedAt);
  return Number.isFinite(age) && age >= 0 && age <= maxAgeSeconds * 1000;
}

/** Node jobs whose preflight was already written (bounded; a restart just writes again). */
const written = new Set<string>();
export function shouldWriteReport(jobName: string): boolean {
  if (written.has(jobName)) return false;
  if (written.size > 2000) written.clear();
  written.add(jobName);
  return true;
}
