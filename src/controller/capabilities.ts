// Per-node capability report: what each node can trace with, from the agent's
// `preflight` message (src/agent/preflight.ts → capsForMessage). The operator
// writes it to ConfigMap `tracejob-node-<node>` in its namespace every time a
// node job reports (so it is refreshed by every run on that node; `reportedAt`
// tells how old it is). Pure.
import type { V1ConfigMap } from '@kubernetes/client-node';
import { CapabilityReport, PreflightCaps, describeIssues, parseCapabilityReport } from '../api/node-capabilities.js';
import { LABELS, MANAGER } from './names.js';

export const CAPABILITY_COMPONENT = 'node-capabilities';

export { CapabilityReport };

export type ReportResult = { ok: true; report: CapabilityReport } | { ok: false; error: string };

/**
 * The report from a preflight message's `caps`. Everything is validated against the
 * shared schema (src/api/node-capabilities.ts): a payload with a field that does not
 * parse (a codename holding a newline, a kernel release holding `$(…)`) gives no
 * report at all, never a partly trusted one. Older agents' missing fields → false/unknown.
 */
export function capabilityReport(caps: unknown, nodeName: string, now: Date): ReportResult {
  const parsed = PreflightCaps.safeParse(caps);
  if (!parsed.success) return { ok: false, error: `the preflight report of node ${nodeName} is invalid: ${describeIssues(parsed.error)}` };
  const c = parsed.data;
  const host = c.host;
  const stapModuleRuntime = host.stap && host.modules && host.kernelBuildTree;
  const stapbpf = host.stap && host.canRaiseMemlock;
  const r: CapabilityReport = {
    node: nodeName,
    reportedAt: now.toISOString(),
    kernel: c.kernel,
    btf: c.btf,
    tracefs: c.tracefs,
    kprobes: c.kprobes,
    kfunc: c.kfunc,
    uprobes: c.uprobes,
    perfEvents: c.perfEvents,
    modules: host.modules,
    lockdown: host.lockdown,
    kernelBuildTree: host.kernelBuildTree,
    stapInstalled: host.stap,
    stapModuleRuntime,
    stapbpf,
    canRaiseMemlock: host.canRaiseMemlock,
    debuginfo: { present: host.debuginfo.present, debuginfod: host.debuginfo.debuginfod, ...(host.debuginfo.vmlinux ? { vmlinux: host.debuginfo.vmlinux } : {}) },
    cgroupVersion: c.cgroupVersion ?? host.cgroup.version ?? 'unknown',
    backends: [...(c.bpftrace ? (['bpftrace'] as const) : []), ...(stapModuleRuntime || stapbpf ? (['systemtap'] as const) : [])],
  };
  if (c.arch) r.arch = c.arch;
  const os = host.os;
  const pretty = os?.prettyName ?? os?.id;
  if (pretty) r.os = pretty;
  if (os) r.osRelease = { id: os.id, idLike: os.idLike, ...(os.versionId ? { versionId: os.versionId } : {}), ...(os.codename ? { codename: os.codename } : {}) };
  if (c.tracepoints !== undefined) r.tracepoints = c.tracepoints;
  if (host.stapVersion) r.stapVersion = host.stapVersion;
  if (c.bpftrace) r.bpftrace = c.bpftrace.version;
  if (host.bpftraceError) r.bpftraceError = host.bpftraceError;
  if (host.kernelConfig) r.kernelConfig = host.kernelConfig;
  // The node name comes from the cluster, not the agent; checked all the same.
  const checked = CapabilityReport.safeParse(r);
  if (!checked.success) return { ok: false, error: `the capability report of node ${nodeName} is invalid: ${describeIssues(checked.error)}` };
  return { ok: true, report: checked.data };
}

/** `tracejob-node-<node>` (node names are DNS subdomains; ConfigMap names allow 253). */
export function capabilityConfigMapName(nodeName: string): string {
  return `tracejob-node-${nodeName}`.slice(0, 253).replace(/[.-]+$/, '');
}

/** The ConfigMap for a preflight payload, or why the payload cannot be stored. */
export function capabilityConfigMap(caps: unknown, nodeName: string, now: Date, namespace: string): { ok: true; configMap: V1ConfigMap; report: CapabilityReport } | { ok: false; error: string } {
  const built = capabilityReport(caps, nodeName, now);
  if (!built.ok) return built;
  const report = built.report;
  const configMap: V1ConfigMap = {
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
  return { ok: true, configMap, report };
}

/**
 * The report stored in a capability ConfigMap, or undefined when absent, unreadable
 * or not valid by the shared schema (then the operator refreshes it from the node).
 */
export function reportFromConfigMap(cm: V1ConfigMap | undefined): CapabilityReport | undefined {
  return parseCapabilityReport(cm?.data?.['report.json']);
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
