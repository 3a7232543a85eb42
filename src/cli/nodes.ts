// Which nodes can run which probe: the operator writes a capability report per
// node (ConfigMap tracejob-node-<node> in its namespace, label
// app.kubernetes.io/component=node-capabilities, key report.json) whenever a
// node job runs there; each catalog probe's own `unsupported(caps, params)`
// decides from it. Tracepoint lists are not in the report, so probes that only
// need specific tracepoints show as supported and are checked when they run.
import { CATALOG_PROBES } from '../api/probe-names.js';
import { parseCapabilityReport } from '../api/node-capabilities.js';
import { CATALOG, validateParams } from '../probes/catalog.js';
import type { NodeCapabilities, ProbeDefinition } from '../probes/types.js';
import { ageOf, renderColumns } from './format.js';

export const CAPABILITY_LABEL = 'app.kubernetes.io/component=node-capabilities';

export interface NodeReport {
  node: string;
  reportedAt?: string;
  backends: string[];
  caps: NodeCapabilities;
}

/**
 * A report.json → NodeReport (undefined when it is not one). Read through the schema
 * the operator writes it with (src/api/node-capabilities.ts): a report with a field
 * that does not validate is not shown rather than shown in part.
 */
export function parseNodeReport(text: string): NodeReport | undefined {
  const r = parseCapabilityReport(text);
  if (!r) return undefined;
  const caps: NodeCapabilities = {
    kernel: r.kernel,
    btf: r.btf,
    tracefs: r.tracefs,
    kprobes: r.kprobes,
    kfunc: r.kfunc,
    uprobes: r.uprobes,
    perfEvents: r.perfEvents,
    cgroupVersion: r.cgroupVersion === 'v1' || r.cgroupVersion === 'hybrid' ? r.cgroupVersion : 'v2',
  };
  const m = /^v?(\d+)\.(\d+)/.exec(r.bpftrace ?? '');
  if (m && r.bpftrace) caps.bpftrace = { version: r.bpftrace, major: Number(m[1]), minor: Number(m[2]) };
  if (r.arch) caps.arch = r.arch;
  return { node: r.node, reportedAt: r.reportedAt, backends: [...r.backends], caps };
}

/** undefined when the node can run the probe (with default params), else what it lacks. */
export function missingOn(probe: string, report: NodeReport): string | undefined {
  const def = (CATALOG as Record<string, ProbeDefinition<unknown> | undefined>)[probe];
  if (!def) return 'unknown probe';
  if (!def.backends.some((b) => report.backends.includes(b))) return def.backends.join('|');
  const p = validateParams(probe, {});
  try {
    return def.unsupported(report.caps, p.ok ? p.value : {});
  } catch {
    return undefined;
  }
}

/** probe → node → "yes" or "no: <missing>". */
export function supportMatrix(reports: readonly NodeReport[]): Array<{ probe: string; nodes: Record<string, string> }> {
  return CATALOG_PROBES.map((probe) => ({
    probe,
    nodes: Object.fromEntries(reports.map((r) => {
      const miss = missingOn(probe, r);
      return [r.node, miss === undefined ? 'yes' : `no: ${miss}`];
    })),
  }));
}

export function nodesText(reports: readonly NodeReport[], nowMs: number): string {
  const sorted = [...reports].sort((a, b) => (a.node < b.node ? -1 : 1));
  const head = renderColumns(
    ['NODE', 'KERNEL', 'BPFTRACE', 'BTF', 'KPROBES', 'UPROBES', 'PERF', 'CGROUP', 'REPORTED'],
    sorted.map((r) => [r.node, r.caps.kernel, r.caps.bpftrace?.version ?? '-', yn(r.caps.btf), yn(r.caps.kprobes), yn(r.caps.uprobes), yn(r.caps.perfEvents), r.caps.cgroupVersion, r.reportedAt ? `${ageOf(r.reportedAt, nowMs)} ago` : '-']),
  );
  const matrix = supportMatrix(sorted);
  const table = renderColumns(['PROBE', ...sorted.map((r) => r.node)], matrix.map((m) => [m.probe, ...sorted.map((r) => m.nodes[r.node] ?? '-')]));
  return `${head}\n${table}\n(with default params; tracepoints are checked when a trace runs)\n`;
}

const yn = (b: boolean): string => (b ? 'yes' : 'no');
