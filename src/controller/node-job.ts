// The desired node Job for one TraceJob run on one node. Pure: everything it
// needs is passed in; tests snapshot the output.
import { randomBytes } from 'node:crypto';
import type { V1Job } from '@kubernetes/client-node';
import { AGENT_CONFIG_ENV, CHANNEL_KEY, TERMINATION_LOG, type AgentConfig } from '../agent/protocol.js';
import type { OperatorConfig } from './config.js';
import { isSystemtapRun, type NodeJobExtras } from './debuginfo-for-run.js';
import { ANNOTATIONS, LABELS, MANAGER, nodeJobName, ownerAnnotation, preflightJobName } from './names.js';

export interface NodeJobInput {
  traceJob: { namespace: string; name: string; uid: string; generation: number };
  node: string;
  agentConfig: AgentConfig;
  durationSeconds: number;
  config: Pick<OperatorConfig, 'namespace' | 'agentImage' | 'agentSystemtapImage' | 'agentImagePullPolicy' | 'agentResources' | 'jobGraceSeconds'>;
  /** SystemTap runs: debuginfo init container, read-only host/cache mounts (src/controller/debuginfo-for-run.ts). */
  extras?: NodeJobExtras;
  /** The secret the agent signs its log records with; a fresh random one when absent (tests pass their own). */
  channelKey?: string;
}

/** A fresh per-run channel key: 32 random bytes, base64url. */
export function newChannelKey(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The channel key of a node Job, read back from its agent container's config (the
 * operator keeps no state of its own: the Job in its namespace is the record).
 * Undefined when the Job carries none, so nothing its pod logs is believed.
 */
export function agentChannelKey(job: V1Job | undefined): string | undefined {
  const agent = job?.spec?.template?.spec?.containers?.find((c) => c.name === 'agent');
  const raw = agent?.env?.find((e) => e.name === AGENT_CONFIG_ENV)?.value;
  if (raw === undefined) return undefined;
  try {
    const key = (JSON.parse(raw) as { channelKey?: unknown }).channelKey;
    return typeof key === 'string' && CHANNEL_KEY.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

export const PREFLIGHT_COMPONENT = 'node-preflight';

export function desiredNodeJob(input: NodeJobInput): V1Job {
  const { traceJob, node, config, extras } = input;
  const preflightOnly = input.agentConfig.mode === 'preflight';
  const name = preflightOnly ? preflightJobName(traceJob.uid, traceJob.generation, node) : nodeJobName(traceJob.uid, traceJob.generation, node);
  const labels = {
    [LABELS.managedBy]: MANAGER,
    [LABELS.component]: preflightOnly ? PREFLIGHT_COMPONENT : 'node-agent',
    [LABELS.uid]: traceJob.uid,
    [LABELS.generation]: String(traceJob.generation),
  };
  const annotations = {
    [ANNOTATIONS.owner]: ownerAnnotation(traceJob.namespace, traceJob.name),
    [ANNOTATIONS.node]: node,
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: config.namespace, labels, annotations },
    spec: {
      // A trace is not idempotent: a retried pod would trace a different window.
      backoffLimit: 0,
      activeDeadlineSeconds: Math.ceil(input.durationSeconds) + config.jobGraceSeconds + (extras?.extraDeadlineSeconds ?? 0),
      // Safety net only: the operator deletes the Job once results are collected.
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels, annotations },
        spec: {
          restartPolicy: 'Never',
          // Needed so /proc shows host pids and bpftrace's pid is the host pid.
          hostPID: true,
          // The agent never talks to the API server: no token to steal.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          affinity: {
            nodeAffinity: {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
              },
            },
          },
          // Tracing must reach tainted nodes too (the workload runs there).
          tolerations: [{ operator: 'Exists' }],
          terminationGracePeriodSeconds: 30,
          ...(extras?.initContainers.length ? { initContainers: extras.initContainers } : {}),
          containers: [
            {
              name: 'agent',
              image: isSystemtapRun(input.agentConfig.backend ?? 'auto', input.agentConfig.probe.type) ? config.agentSystemtapImage : config.agentImage,
              imagePullPolicy: config.agentImagePullPolicy,
              env: [
                { name: AGENT_CONFIG_ENV, value: JSON.stringify({ ...input.agentConfig, channelKey: input.channelKey ?? newChannelKey() }) },
                { name: 'NODE_NAME', value: node },
              ],
              // bpf(), perf_event_open and mounting tracefs; see docs/security.md for the
              // capability-only alternative (SYS_ADMIN, BPF, PERFMON, SYS_PTRACE, SYS_RESOURCE).
              securityContext: { privileged: true, runAsUser: 0 },
              resources: config.agentResources,
              terminationMessagePath: TERMINATION_LOG,
              terminationMessagePolicy: 'File',
              volumeMounts: [
                // Host /sys: BTF, tracefs, and the host's cgroup tree (cgroup ids of other containers).
                { name: 'host-sys', mountPath: '/sys', readOnly: true },
                { name: 'tmp', mountPath: '/tmp' },
                ...(extras?.agentMounts ?? []),
              ],
            },
          ],
          volumes: [
            { name: 'host-sys', hostPath: { path: '/sys', type: 'Directory' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...(extras?.volumes ?? []),
          ],
        },
      },
    },
  };
}
