// The wire contract between the operator and the node agent.
// Operator → agent: one JSON document in the TRACEJOB_AGENT_CONFIG env var.
// Agent → operator: JSON lines on stdout (read through the pod log API) and a
// short JSON summary in the termination message. Both sides import this file.
import { z } from 'zod';

export const AGENT_CONFIG_ENV = 'TRACEJOB_AGENT_CONFIG';
export const TERMINATION_LOG = '/dev/termination-log';
/** Kubelet truncates termination messages beyond this. */
export const TERMINATION_MESSAGE_LIMIT = 4096;

export const AgentTarget = z.object({
  pod: z.string(),
  namespace: z.string(),
  container: z.string(),
  /** Runtime-prefixed id as in pod status: containerd://…, cri-o://…, docker://… */
  containerID: z.string(),
});
export type AgentTarget = z.infer<typeof AgentTarget>;

export const AgentConfig = z.object({
  traceJob: z.object({ namespace: z.string(), name: z.string(), uid: z.string(), generation: z.number().int() }),
  nodeName: z.string(),
  probe: z.object({
    type: z.string(),
    params: z.record(z.string(), z.unknown()).default({}),
    program: z.string().optional(),
  }),
  backend: z.enum(['auto', 'bpftrace', 'systemtap']).default('auto'),
  durationSeconds: z.number().positive(),
  topN: z.number().int().positive().default(20),
  maxEvents: z.number().int().min(0).default(1000),
  /** Empty for node-wide targets. */
  targets: z.array(AgentTarget),
  /**
   * SystemTap guru mode (`stap -g`: embedded C, mutating probes) is allowed for this run.
   * Set by the operator only when spec.probe.params.guru is true AND the TraceJob's
   * namespace is in policy.systemtapGuruNamespaces. Absent (older operators) = not allowed.
   */
  guruAllowed: z.boolean().optional(),
  /**
   * `preflight`: report the node's capabilities and exit (the operator refreshes a
   * missing or stale node capability report this way before a SystemTap run).
   */
  mode: z.enum(['trace', 'preflight']).default('trace'),
  /**
   * Where SystemTap finds kernel debuginfo and the build tree when the node's own
   * files are not enough (packages unpacked by the debuginfo init container into a
   * cache mounted read-only, or debuginfod). Paths are inside the agent container.
   */
  debuginfo: z
    .object({
      buildTree: z.string().optional(),
      /** A directory holding usr/lib/debug (SYSTEMTAP_DEBUGINFO_PATH). */
      debugRoot: z.string().optional(),
      debuginfodUrls: z.string().optional(),
    })
    .optional(),
});
export type AgentConfig = z.input<typeof AgentConfig>;

/** Reasons shared by agent exit codes, agent messages and TraceJob conditions. */
export const AGENT_EXIT = {
  ok: 0,
  invalidConfig: 2,
  targetNotFound: 3,
  compileError: 4,
  unsupported: 5,
  tracerFailed: 6,
  preflightFailed: 7,
} as const;

export const EXIT_REASONS: Record<number, string> = {
  0: 'Completed',
  2: 'InvalidConfig',
  3: 'ContainerNotFound',
  4: 'CompileError',
  5: 'Unsupported',
  6: 'TracerFailed',
  7: 'PreflightFailed',
};

export const ResolvedTarget = z.object({
  pod: z.string(),
  namespace: z.string(),
  container: z.string(),
  containerID: z.string(),
  hostPIDs: z.array(z.number().int()),
  cgroupPath: z.string().optional(),
  cgroupID: z.string().optional(),
  /** All cgroup ids covering the container's processes (nested cgroups); cgroupID is the first. */
  cgroupIDs: z.array(z.string()).optional(),
  mntNs: z.number().int().optional(),
  netNs: z.number().int().optional(),
  pidNs: z.number().int().optional(),
});
export type ResolvedTarget = z.infer<typeof ResolvedTarget>;

/** One line of agent stdout. Lines that do not parse as this are ignored (e.g. stray tracer output). */
export const AgentMessage = z.discriminatedUnion('tracejob', [
  z.object({ tracejob: z.literal('preflight'), at: z.string(), caps: z.record(z.string(), z.unknown()) }),
  z.object({ tracejob: z.literal('resolved'), at: z.string(), targets: z.array(ResolvedTarget) }),
  z.object({
    tracejob: z.literal('attached'),
    at: z.string(),
    probes: z.number().int().optional(),
    tracer: z.object({ name: z.string(), version: z.string() }),
  }),
  z.object({ tracejob: z.literal('progress'), at: z.string(), message: z.string() }),
  /** The normalised result document (src/results/document.ts). */
  z.object({ tracejob: z.literal('result'), at: z.string(), document: z.record(z.string(), z.unknown()) }),
  z.object({ tracejob: z.literal('error'), at: z.string(), reason: z.string(), message: z.string() }),
]);
export type AgentMessage = z.infer<typeof AgentMessage>;

/** The termination message: enough for the operator when the log is unavailable. */
export const TerminationSummary = z.object({
  reason: z.string(),
  message: z.string().optional(),
  headline: z.string().optional(),
  partial: z.boolean().optional(),
});
export type TerminationSummary = z.infer<typeof TerminationSummary>;

export function encodeMessage(msg: AgentMessage): string {
  return JSON.stringify(msg);
}

/** Extracts agent messages from a pod log, tolerating foreign lines. */
export function decodeLog(log: string): AgentMessage[] {
  const out: AgentMessage[] = [];
  for (const line of log.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed.startsWith('{"tracejob"')) continue;
    try {
      const parsed = AgentMessage.safeParse(JSON.parse(trimmed));
      if (parsed.success) out.push(parsed.data);
    } catch {
      // A truncated line (log rotation, kill mid-write) is skipped, not fatal.
    }
  }
  return out;
}
