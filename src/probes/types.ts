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
  /** `uname -m` (x86_64, aarch64); register names for threadTimes. Assumed x86_64 when absent. */
  arch?: string;
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
  /** For dnsLatency: the libc path inside the target's root, found by the agent (params.libc wins). */
  libcPath?: string;
  /** For packetDrops: skb drop reason number → name, from the node's kfree_skb format file
   * (see parseKfreeSkbReasons in ./kfree-skb-reasons.ts). */
  dropReasons?: ReadonlyMap<number, string>;
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
export interface HistogramBucket {
  /** Inclusive lower bound; null for the underflow bucket. */
  min: number | null;
  /** Inclusive upper bound; null for the overflow bucket. */
  max: number | null;
  count: number;
}

export interface ShapedHistogram {
  name: string;
  unit: 'us' | 'ns' | 'ms' | 'bytes' | 'count';
  /** For keyed histograms: the key (e.g. the syscall or disk) this one belongs to. */
  key?: string;
  buckets: HistogramBucket[];
  /** Samples in all buckets. */
  total: number;
  /** Upper bounds of the buckets holding the 50th/90th/99th percentile (bucket resolution). */
  p50?: number;
  p90?: number;
  p99?: number;
}

export interface ShapedResult {
  histograms: ShapedHistogram[];
  tables: Array<{ name: string; columns: string[]; rows: Array<Array<string | number>> }>;
  events: Array<Record<string, string | number>>;
  counters: Record<string, number>;
  stacks?: { folded: string; samples: number };
  notes: string[];
  /** One line for status.summary.headline, e.g. `execs=7` or `n=1203 p99=3.2ms`. */
  headline?: string;
}
