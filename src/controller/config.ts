// Operator configuration: flags/env → one validated object. Policy lives here
// because cluster admins own it (Helm values → env/config file), not tenants.
import { z } from 'zod';

const MAX_RUNS_DEFAULTS = { cluster: 20, perNamespace: 3, perNode: 4 };
const MaxConcurrentRuns = z.object({
  cluster: z.number().int().min(0).default(MAX_RUNS_DEFAULTS.cluster),
  perNamespace: z.number().int().min(0).default(MAX_RUNS_DEFAULTS.perNamespace),
  perNode: z.number().int().min(0).default(MAX_RUNS_DEFAULTS.perNode),
});
// The CRD already caps spec.duration at 1h; the default keeps that, admins lower it.
const MAX_DURATION_DEFAULTS = { default: 3600, perNamespace: {} };
const MaxDurationSeconds = z.object({
  default: z.number().int().min(1).max(3600).default(MAX_DURATION_DEFAULTS.default),
  /** Per-namespace overrides of `default` (higher or lower). */
  perNamespace: z.record(z.string().min(1), z.number().int().min(1).max(3600)).default({}),
});

export const OperatorConfig = z.object({
  /** Namespace the operator runs in; node jobs are created here so tenants cannot exec into them. */
  namespace: z.string().min(1).default('tracejob-system'),
  agentImage: z.string().min(1).default('localhost/tracejob-agent:dev'),
  /** The agent with systemtap and a compiler: used for SystemTap runs only (it is much larger). */
  agentSystemtapImage: z.string().min(1).default('localhost/tracejob-agent-systemtap:dev'),
  agentImagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
  agentResources: z
    .object({
      requests: z.record(z.string(), z.string()).default({ cpu: '50m', memory: '128Mi' }),
      limits: z.record(z.string(), z.string()).default({ cpu: '1', memory: '512Mi' }),
    })
    .default({ requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } }),
  /** Seconds past spec.duration before a node job is killed (compile, attach, collect). */
  jobGraceSeconds: z.number().int().min(10).default(120),
  /** How long a node job pod may stay Pending (image missing, unschedulable) before the run fails. */
  pendingTimeoutSeconds: z.number().int().min(5).default(90),
  policy: z
    .object({
      /** Namespaces whose TraceJobs may target whole nodes. */
      nodeTargetNamespaces: z.array(z.string()).default([]),
      /** Namespaces whose TraceJobs may run custom bpftrace/SystemTap programs (a node-wide read grant). */
      customProgramNamespaces: z.array(z.string()).default([]),
      /** Namespaces allowed SystemTap guru mode (embedded C, system(), memory writes: root on the node). Off by default. */
      systemtapGuruNamespaces: z.array(z.string()).default([]),
      /** Annotation on a target namespace listing namespaces allowed to trace its pods. */
      consentAnnotation: z.string().default('tracing.tracejob.dev/allow-from'),
      /**
       * Runs holding node jobs at once (0 = no limit). Node jobs live in the operator's
       * namespace, outside every tenant's ResourceQuota: these bound what tenants can start.
       */
      maxConcurrentRuns: MaxConcurrentRuns.default(MAX_RUNS_DEFAULTS),
      /** Longest spec.duration a namespace may ask for; longer runs fail PolicyDenied. */
      maxDurationSeconds: MaxDurationSeconds.default(MAX_DURATION_DEFAULTS),
    })
    .default({
      nodeTargetNamespaces: [],
      customProgramNamespaces: [],
      systemtapGuruNamespaces: [],
      consentAnnotation: 'tracing.tracejob.dev/allow-from',
      maxConcurrentRuns: MAX_RUNS_DEFAULTS,
      maxDurationSeconds: MAX_DURATION_DEFAULTS,
    }),
  workers: z.number().int().min(1).max(32).default(4),
  /** Poll interval while a trace runs (attach detection, job completion). */
  runningPollSeconds: z.number().min(0.2).default(2),
  /**
   * A node capability report older than this is refreshed (a preflight-only node job)
   * before a SystemTap run on that node relies on it.
   */
  capabilityMaxAgeSeconds: z.number().int().min(10).default(3600),
  /** Kernel debuginfo/headers for SystemTap runs (src/systemtap/debuginfo.ts). */
  debuginfo: z
    .object({
      /** DEBUGINFOD_URLS for stap (space-separated); replaces the debuginfo package, not the headers. */
      debuginfodUrls: z.string().default(''),
      /** hostPath cache of unpacked packages, shared by runs on a node. */
      cacheHostPath: z.string().startsWith('/').default('/var/cache/tracejob/debuginfo'),
      /** Bound on fetching and unpacking packages in the init container. */
      timeoutSeconds: z.number().int().min(30).max(3600).default(600),
      /** Image for the fetch, replacing the node-distro default (air-gapped mirrors). */
      image: z.string().default(''),
    })
    .default({ debuginfodUrls: '', cacheHostPath: '/var/cache/tracejob/debuginfo', timeoutSeconds: 600, image: '' }),
});
export type OperatorConfig = z.output<typeof OperatorConfig>;

/** Reads TRACEJOB_* env vars; policy lists are comma-separated namespace names ("*" = all). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return OperatorConfig.parse({
    namespace: env.TRACEJOB_NAMESPACE || env.POD_NAMESPACE || undefined,
    agentImage: env.TRACEJOB_AGENT_IMAGE || undefined,
    agentSystemtapImage: env.TRACEJOB_AGENT_SYSTEMTAP_IMAGE || undefined,
    agentImagePullPolicy: env.TRACEJOB_AGENT_PULL_POLICY || undefined,
    agentResources: env.TRACEJOB_AGENT_RESOURCES ? (JSON.parse(env.TRACEJOB_AGENT_RESOURCES) as unknown) : undefined,
    jobGraceSeconds: num(env.TRACEJOB_JOB_GRACE_SECONDS),
    pendingTimeoutSeconds: num(env.TRACEJOB_PENDING_TIMEOUT_SECONDS),
    workers: num(env.TRACEJOB_WORKERS),
    capabilityMaxAgeSeconds: num(env.TRACEJOB_CAPABILITY_MAX_AGE_SECONDS),
    debuginfo: {
      debuginfodUrls: env.TRACEJOB_DEBUGINFOD_URLS || undefined,
      cacheHostPath: env.TRACEJOB_DEBUGINFO_CACHE || undefined,
      timeoutSeconds: num(env.TRACEJOB_DEBUGINFO_TIMEOUT_SECONDS),
      image: env.TRACEJOB_DEBUGINFO_IMAGE || undefined,
    },
    policy: {
      nodeTargetNamespaces: list(env.TRACEJOB_POLICY_NODE_TARGET_NAMESPACES),
      customProgramNamespaces: list(env.TRACEJOB_POLICY_CUSTOM_PROGRAM_NAMESPACES),
      systemtapGuruNamespaces: list(env.TRACEJOB_POLICY_GURU_NAMESPACES),
      consentAnnotation: env.TRACEJOB_CONSENT_ANNOTATION || undefined,
      maxConcurrentRuns: {
        cluster: num(env.TRACEJOB_POLICY_MAX_RUNS_CLUSTER),
        perNamespace: num(env.TRACEJOB_POLICY_MAX_RUNS_PER_NAMESPACE),
        perNode: num(env.TRACEJOB_POLICY_MAX_RUNS_PER_NODE),
      },
      maxDurationSeconds: {
        default: num(env.TRACEJOB_POLICY_MAX_DURATION_SECONDS),
        perNamespace: env.TRACEJOB_POLICY_MAX_DURATION_PER_NAMESPACE ? (JSON.parse(env.TRACEJOB_POLICY_MAX_DURATION_PER_NAMESPACE) as unknown) : undefined,
      },
    },
  });
}
