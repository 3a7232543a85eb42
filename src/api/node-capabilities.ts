// The node capability data, typed once for the agent (what its preflight sends),
// the operator (the report it stores in ConfigMap tracejob-node-<node> and plans
// SystemTap runs from) and the CLI (`kubectl tracejob probes --nodes`).
//
// The report is shared by every tenant whose runs land on the node, and some of
// its fields end up in a shell script, an apt/yum source line, an image name or a
// path (src/systemtap/debuginfo.ts). So every string is validated by a pattern
// here, and a payload or report that does not parse is treated as absent: the
// operator refreshes it rather than trusting it.
import { z } from 'zod';

// ---------------------------------------------------------------------------
// Patterns for fields that reach a shell, a URL, a package source or a path
// ---------------------------------------------------------------------------

/** `uname -r`: 6.1.0-18-amd64, 5.14.0-362.8.1.el9_3.x86_64, 6.12.38+deb13-amd64. */
export const KERNEL_RELEASE = /^[0-9A-Za-z][0-9A-Za-z._+~-]{0,99}$/;
/** os-release ID / ID_LIKE words and VERSION_CODENAME: debian, rhel, bookworm, noble. */
export const OS_WORD = /^[a-z0-9][a-z0-9._-]{0,39}$/;
/** os-release VERSION_ID: 12, 22.04, 9.3, 2023 (also an image tag, so no `~` or `+`). */
export const OS_VERSION_ID = /^[0-9A-Za-z_][0-9A-Za-z_.-]{0,39}$/;
/** `uname -m`: x86_64, aarch64. */
export const ARCH = /^[a-z0-9_]{1,20}$/;
/** Tracer versions: 0.23.2, v0.17.0, 0.20.0-rc1, 4.8. */
export const TOOL_VERSION = /^v?[0-9][0-9A-Za-z.+~-]{0,63}$/;
/** An absolute path without `..` segments or shell-special characters. */
export const SAFE_PATH = /^(?!.*(?:^|\/)\.\.(?:\/|$))\/[A-Za-z0-9._+~@:/-]{0,254}$/;
/** A program name or path (bpftrace, /usr/bin/bpftrace). */
export const SAFE_COMMAND = /^(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9._+~/-]{1,255}$/;
/** A Kubernetes node name (DNS subdomain). */
export const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const pattern = (re: RegExp, what: string) => z.string().regex(re, { message: `not a valid ${what}` });
/** Free text for people (messages, pretty names): bounded, no control characters but tab/newline. */
const text = (max: number, multiline = false) =>
  z
    .string()
    .max(max)
    .regex(multiline ? /^(?:[\t\n]|\P{Cc})*$/u : /^\P{Cc}*$/u, { message: 'contains control characters' });

export const LockdownMode = z.enum(['none', 'integrity', 'confidentiality', 'unknown']);
export const CgroupVersion = z.enum(['v1', 'v2', 'hybrid']);
export const KernelConfigSource = z.enum(['proc', 'boot', 'none']);

export const OsReleaseFields = z.object({
  id: pattern(OS_WORD, 'os-release ID'),
  idLike: z.array(pattern(OS_WORD, 'os-release ID_LIKE word')).max(10).default([]),
  versionId: pattern(OS_VERSION_ID, 'os-release VERSION_ID').optional(),
  codename: pattern(OS_WORD, 'os-release VERSION_CODENAME').optional(),
});
export type OsReleaseFields = z.output<typeof OsReleaseFields>;

export const DebuginfoFacts = z.object({
  present: z.boolean().default(false),
  vmlinux: pattern(SAFE_PATH, 'vmlinux path').optional(),
  debuginfod: z.boolean().default(false),
});

// ---------------------------------------------------------------------------
// Agent → operator: the `caps` of the preflight message
// ---------------------------------------------------------------------------

/**
 * What the agent's preflight sends (src/agent/preflight.ts capsForMessage).
 * Fields missing from older agents default to false/unknown; unknown fields are dropped.
 */
export const PreflightCaps = z.object({
  kernel: pattern(KERNEL_RELEASE, 'kernel release'),
  btf: z.boolean().default(false),
  tracefs: z.boolean().default(false),
  kprobes: z.boolean().default(false),
  kfunc: z.boolean().default(false),
  uprobes: z.boolean().default(false),
  perfEvents: z.boolean().default(false),
  cgroupVersion: CgroupVersion.optional(),
  arch: pattern(ARCH, 'machine architecture').optional(),
  /** The number of tracepoints the node lists (the names themselves are ~2000). */
  tracepoints: z.number().int().min(0).max(1_000_000).optional(),
  bpftrace: z
    .object({ version: pattern(TOOL_VERSION, 'bpftrace version'), major: z.number().int().min(0), minor: z.number().int().min(0) })
    .optional(),
  host: z
    .object({
      tracefsPath: pattern(SAFE_PATH, 'tracefs path').optional(),
      tracefsMounted: z.boolean().optional(),
      cgroup: z.object({ version: CgroupVersion.optional(), unifiedRoot: pattern(SAFE_PATH, 'cgroup2 mount point').optional() }).default({}),
      modules: z.boolean().default(false),
      kernelBuildTree: z.boolean().default(false),
      canRaiseMemlock: z.boolean().default(false),
      memlockBytes: z.number().int().min(0).optional(),
      bpftracePath: pattern(SAFE_COMMAND, 'bpftrace path').optional(),
      bpftraceError: text(2000, true).optional(),
      stap: z.boolean().default(false),
      kernelConfig: KernelConfigSource.optional(),
      warnings: z.array(text(1000, true)).max(50).default([]),
      lockdown: LockdownMode.default('unknown'),
      stapVersion: pattern(TOOL_VERSION, 'stap version').optional(),
      debuginfo: DebuginfoFacts.default({ present: false, debuginfod: false }),
      os: OsReleaseFields.extend({ prettyName: text(200).optional() }).optional(),
    })
    .default({
      cgroup: {},
      modules: false,
      kernelBuildTree: false,
      canRaiseMemlock: false,
      stap: false,
      warnings: [],
      lockdown: 'unknown',
      debuginfo: { present: false, debuginfod: false },
    }),
});
export type PreflightCaps = z.output<typeof PreflightCaps>;
/** What the agent may put in the message (defaults filled in by the reader). */
export type PreflightCapsInput = z.input<typeof PreflightCaps>;

// ---------------------------------------------------------------------------
// The report in ConfigMap tracejob-node-<node> (key report.json)
// ---------------------------------------------------------------------------

export const Backend = z.enum(['bpftrace', 'systemtap']);

// Facts missing from reports of older operators default to "cannot"; strings are always checked.
export const CapabilityReport = z.object({
  node: pattern(NODE_NAME, 'node name'),
  reportedAt: z.iso.datetime({ offset: true }),
  kernel: pattern(KERNEL_RELEASE, 'kernel release'),
  arch: pattern(ARCH, 'machine architecture').optional(),
  /** PRETTY_NAME (or ID) for people. */
  os: text(200).optional(),
  /** os-release fields the debuginfo resolver picks packages, images and repositories by. */
  osRelease: OsReleaseFields.optional(),
  btf: z.boolean().default(false),
  tracefs: z.boolean().default(false),
  /** Number of tracepoints the node lists (undefined when not enumerated). */
  tracepoints: z.number().int().min(0).max(1_000_000).optional(),
  kprobes: z.boolean().default(false),
  kfunc: z.boolean().default(false),
  uprobes: z.boolean().default(false),
  perfEvents: z.boolean().default(false),
  /** Loadable kernel modules (CONFIG_MODULES). */
  modules: z.boolean().default(false),
  lockdown: LockdownMode.default('unknown'),
  kernelBuildTree: z.boolean().default(false),
  /** stap in the agent image that wrote this report (the SystemTap image has it, the bpftrace image not). */
  stapInstalled: z.boolean().default(false),
  stapVersion: pattern(TOOL_VERSION, 'stap version').optional(),
  /** SystemTap's default (kernel module) runtime: stap + modules + build tree. */
  stapModuleRuntime: z.boolean().default(false),
  /** stapbpf (--runtime=bpf): stap + CAP_SYS_RESOURCE for RLIMIT_MEMLOCK. */
  stapbpf: z.boolean().default(false),
  canRaiseMemlock: z.boolean().default(false),
  debuginfo: DebuginfoFacts.default({ present: false, debuginfod: false }),
  bpftrace: pattern(TOOL_VERSION, 'bpftrace version').optional(),
  bpftraceError: text(2000, true).optional(),
  cgroupVersion: z.enum(['v1', 'v2', 'hybrid', 'unknown']).default('unknown'),
  kernelConfig: KernelConfigSource.optional(),
  /** The backends this node can run. */
  backends: z.array(Backend).max(2).default([]),
});
export type CapabilityReport = z.output<typeof CapabilityReport>;

/** One line per issue ("host.os.codename: not a valid os-release VERSION_CODENAME"), for messages. */
export function describeIssues(error: z.ZodError, max = 3): string {
  const issues = error.issues.slice(0, max).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  if (error.issues.length > max) issues.push(`${error.issues.length - max} more`);
  return issues.join('; ');
}

/** A report.json text → the report, or undefined when it is not valid JSON or not a valid report. */
export function parseCapabilityReport(textValue: string | undefined): CapabilityReport | undefined {
  if (!textValue) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(textValue);
  } catch {
    return undefined;
  }
  const r = CapabilityReport.safeParse(json);
  return r.success ? r.data : undefined;
}
