// Operator configuration: flags/env → one validated object. Policy lives here
// because cluster admins own it (Helm values → env/config file), not tenants.
import { z } from 'zod';

export const OperatorConfig = z.object({
  /** Namespace the operator runs in; node jobs are created here so tenants cannot exec into them. */
  namespace: z.string().min(1).default('tracejob-system'),
  agentImage: z.string().min(1).default('localhost/tracejob-agent:dev'),
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
      /** Namespaces whose TraceJobs may run custom bpftrace/SystemTap programs. */
      customProgramNamespaces: z.array(z.string()).default([]),
      /** Namespaces allowed SystemTap guru mode (embedded C, mutating probes). Off by default. */
      systemtapGuruNamespaces: z.array(z.string()).default([]),
      /** Annotation on a target namespace listing namespaces allowed to trace its pods. */
      consentAnnotation: z.string().default('tracing.tracejob.dev/allow-from'),
    })
    .default({ nodeTargetNamespaces: [], customProgramNamespaces: [], systemtapGuruNamespaces: [], consentAnnotation: 'tracing.tracejob.dev/allow-from' }),
  workers: z.number().int().min(1).max(32).default(4),
  /** Poll interval while a trace runs (attach detection, job completion). */
  runningPollSeconds: z.number().min(0.2).default(2),
});
export type OperatorConfig = z.output<typeof OperatorConfig>;

/** Reads TRACEJOB_* env vars; policy lists are comma-separated namespace names ("*" = all). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const list = (v: string | undefined) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined);
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  return OperatorConfig.parse({
    namespace: env.TRACEJOB_NAMESPACE || env.POD_NAMESPACE || undefined,
    agentImage: env.TRACEJOB_AGENT_IMAGE || undefined,
    agentImagePullPolicy: env.TRACEJOB_AGENT_PULL_POLICY || undefined,
    agentResources: env.TRACEJOB_AGENT_RESOURCES ? (JSON.parse(env.TRACEJOB_AGENT_RESOURCES) as unknown) : undefined,
    jobGraceSeconds: num(env.TRACEJOB_JOB_GRACE_SECONDS),
    pendingTimeoutSeconds: num(env.TRACEJOB_PENDING_TIMEOUT_SECONDS),
    workers: num(env.TRACEJOB_WORKERS),
    policy: {
      nodeTargetNamespaces: list(env.TRACEJOB_POLICY_NODE_TARGET_NAMESPACES),
      customProgramNamespaces: list(env.TRACEJOB_POLICY_CUSTOM_PROGRAM_NAMESPACES),
      systemtapGuruNamespaces: list(env.TRACEJOB_POLICY_GURU_NAMESPACES),
      consentAnnotation: env.TRACEJOB_CONSENT_ANNOTATION || undefined,
    },
  });
}
