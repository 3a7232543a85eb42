// The contract between the probe catalog, the node agent and the operator.
// A probe is data plus pure functions: a params schema, program renderers and
// a result shaper. Nothing here touches the node or the API server.
import type { z } from 'zod';
import type { CatalogProbeName } from '../api/probe-names.js';

/** How the agent narrows tracing to the target; chosen from what the node offers. */
export type TargetFilter =
  /** cgroup v2 ids (decimal strings; the inode of the container's unified cgroup dir). */
  | { mode: 'cgroup'; cgroupIds: string[]; netNs: number[]; pids: number[]; mntNs: number[] }
  /** Host pids (cgroup v1-only nodes); misses children started after attach. */
  | { mode: 'pids'; pids: number[]; netNs: number[]; mntNs: number[] }
  /** Mount-namespace inodes (cgroup v1-only nodes, follows children). */
  | { mode: 'namespace'; mntNs: number[]; netNs: number[]; pids: number[] }
  /** Node-wide: no filter (policy-gated node targets). */
  | { mode: 'node' };

/** What a node can do, as found by the agent's preflight. */
export interface NodeCapabilities {
  kernel: string;
  btf: boolean;
  tracefs: boolean;
  kprobes: boolean;
  kfunc: boolean;
  uprobes: boolean;
  perfEvents: boolean;
  cgroupVersion: 'v1' | 'v2' | 'hybrid';
  bpftrace?: { version: string; major: number; minor: number };
  /** Tracepoints that exist, as "category:name"; undefined when not enumerated. */
  tracepoints?: ReadonlySet<string>;
}

export interface RenderContext<P> {
  params: P;
  filter: TargetFilter;
  caps: NodeCapabilities;
  durationSeconds: number;
  topN: number;
  maxEvents: number;
  /** For uprobe probes: a host pid of the target, to reach its files via /proc/<pid>/root. */
  mainPid?: number;
}

export type Backend = 'bpftrace' | 'systemtap';

export interface ProbeDefinition<P = unknown> {
  name: CatalogProbeName;
  /** One line for `kubectl tracejob probes` and docs/probes.md. */
  summary: string;
  /** Which case of the reference article (tool/script) it covers. */
  covers: string;
  /** 'pod' probes need a pod/selector target; 'node' probes only run node-wide (policy-gated). */
  scope: 'pod' | 'node' | 'both';
  backends: Backend[];
  params: z.ZodType<P>;
  /** Kernel hooks the bpftrace program attaches to (documentation and preflight). */
  hooks: string[];
  /** Returns the missing capability that makes this probe unable to run, or undefined. */
  unsupported(caps: NodeCapabilities, params: P): string | undefined;
  renderBpftrace(ctx: RenderContext<P>): string;
  renderSystemtap?(ctx: RenderContext<P>): string;
  /** Turns parsed tracer output into the probe's part of the result document. */
  shape(parsed: unknown, ctx: RenderContext<P>): ShapedResult;
}

/** The probe-specific part of the result document (see src/results/document.ts). */
export interface ShapedResult {
  histograms: Array<{ name: string; unit: 'us' | 'ns' | 'ms' | 'bytes' | 'count'; key?: string; buckets: unknown[] }>;
  tables: Array<{ name: string; columns: string[]; rows: Array<Array<string | number>> }>;
  events: Array<Record<string, string | number>>;
  counters: Record<string, number>;
  stacks?: { folded: string; samples: number };
  notes: string[];
}
