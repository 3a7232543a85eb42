// The wire contract between the operator and the node agent.
// Operator → agent: one JSON document in the TRACEJOB_AGENT_CONFIG env var.
// Agent → operator: JSON lines on stdout (read through the pod log API) and a
// short JSON summary in the termination message. Both sides import this file.
//
// The pod log also carries text others control: the rendered (custom) program,
// the tracer's stderr, workload-derived names in diagnostics. So a record counts
// only when (1) its line starts with `{"tracejob":` in column 0 — the agent frames
// every line of diagnostics with a prefix, so foreign text never starts a line with
// `{` — and (2) it ends with an HMAC-SHA256 over the record, keyed with a per-run
// secret the operator puts in the agent config (`channelKey`, in the Job's env in
// the operator's namespace). The key itself never appears in the log.
import { createHmac, timingSafeEqual } from 'node:crypto';
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

/** 32 random bytes, base64url. */
export const CHANNEL_KEY = /^[A-Za-z0-9_-]{43}$/;

/**
 * Bytes the agent's result record may take (its document is cut to fit, the cut
 * noted). The operator fits the result into a 900 KiB ConfigMap anyway; this leaves
 * room for merging nodes' top-N tables while keeping each node's log small enough
 * for the operator's memory limit.
 */
export const RESULT_RECORD_LIMIT_BYTES = 2 * 1024 * 1024;
/** Bytes of the agent's log the operator reads (the result record plus framed diagnostics). */
export const AGENT_LOG_LIMIT_BYTES = 4 * 1024 * 1024;
/** Bytes of the rendered program the agent echoes into its log. */
export const PROGRAM_ECHO_LIMIT_BYTES = 64 * 1024;

export const AgentConfig = z.object({
  /**
   * Per-run secret the agent signs its records with (see the header). Set by the
   * operator for every node Job; never printed. Absent only when run by hand.
   */
  channelKey: z.string().regex(CHANNEL_KEY).optional(),
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

const MAC_FIELD = ',"mac":"';
const MAC_SUFFIX = /,"mac":"([0-9a-f]{64})"\}$/;
const RECORD_START = '{"tracejob":';

function mac(key: string, body: string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

/**
 * One record line: the message's JSON with `"mac"` (HMAC-SHA256 over the JSON before
 * it, keyed with the run's channel key) as its last field. Without a key (the agent
 * run by hand) the record is unsigned and the operator ignores it.
 */
export function encodeMessage(msg: AgentMessage, key?: string): string {
  const body = JSON.stringify(msg);
  if (key === undefined) return body;
  return `${body.slice(0, -1)}${MAC_FIELD}${mac(key, body)}"}`;
}

/** Prefix of every diagnostics line the agent writes (never `{`, so never a record). */
export const DIAGNOSTIC_PREFIX = 'tracejob-agent: ';

/**
 * Diagnostics as log lines, each starting with `prefix` (plus `| ` on continuation
 * lines): whatever the text holds — a program's comment, the tracer's stderr, a path
 * from the workload — it cannot start a line that looks like a record.
 */
export function frameLines(text: string, prefix = DIAGNOSTIC_PREFIX): string[] {
  return text.split(/\r\n|\r|\n|\u2028|\u2029/).map((l, i) => (i === 0 ? `${prefix}${l}` : `${prefix}| ${l}`));
}

export type LineVerdict = 'record' | 'foreign' | 'unsigned' | 'badMac' | 'invalid';

/**
 * Reads agent records from log lines as they stream in. A record is taken only when
 * it starts in column 0, carries a valid MAC for `key`, and parses as an AgentMessage;
 * everything else is counted and dropped. `key` undefined: nothing is accepted.
 */
export class AgentLogDecoder {
  readonly messages: AgentMessage[] = [];
  readonly counts: Record<LineVerdict, number> = { record: 0, foreign: 0, unsigned: 0, badMac: 0, invalid: 0 };
  private readonly key: Buffer | undefined;

  constructor(private readonly channelKey: string | undefined) {
    this.key = channelKey === undefined ? undefined : Buffer.from(channelKey);
  }

  push(rawLine: string): LineVerdict {
    const verdict = this.take(rawLine);
    this.counts[verdict]++;
    return verdict;
  }

  private take(rawLine: string): LineVerdict {
    // Only a trailing CR is removed: leading blanks never make a line a record.
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (!line.startsWith(RECORD_START)) return 'foreign';
    const m = MAC_SUFFIX.exec(line);
    if (!m || this.key === undefined || this.channelKey === undefined) return 'unsigned';
    const body = `${line.slice(0, m.index)}}`;
    const want = Buffer.from(mac(this.channelKey, body), 'hex');
    const got = Buffer.from(m[1] ?? '', 'hex');
    if (want.length !== got.length || !timingSafeEqual(want, got)) return 'badMac';
    try {
      const parsed = AgentMessage.safeParse(JSON.parse(body));
      if (!parsed.success) return 'invalid';
      this.messages.push(parsed.data);
      return 'record';
    } catch {
      return 'invalid';
    }
  }
}

/** Extracts the agent's signed messages from a pod log, ignoring every other line. */
export function decodeLog(log: string, key: string | undefined): AgentMessage[] {
  const d = new AgentLogDecoder(key);
  for (const line of log.split('\n')) d.push(line);
  return d.messages;
}
