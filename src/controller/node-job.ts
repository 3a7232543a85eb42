// The desired node Job for one TraceJob run on one node. Pure: everything it
// needs is passed in; tests snapshot the output.
import type { V1Job } from '@kubernetes/client-node';
import { AGENT_CONFIG_ENV, TERMINATION_LOG, type AgentConfig } from '../agent/protocol.js';
import type { OperatorConfig } from './config.js';
import { ANNOTATIONS, LABELS, MANAGER, nodeJobName, ownerAnnotation } from './names.js';

export interface NodeJobInput {
  traceJob: { namespace: string; name: string; uid: string; generation: number };
  node: string;
  agentConfig: AgentConfig;
  durationSeconds: number;
  config: Pick<OperatorConfig, 'namespace' | 'agentImage' | 'agentImagePullPolicy' | 'agentResources' | 'jobGraceSeconds'>;
}

export function desiredNodeJob(input: NodeJobInput): V1Job {
  const { traceJob, node, config } = input;
  const name = nodeJobName(traceJob.uid, traceJob.generation, node);
  const labels = {
    [LABELS.managedBy]: MANAGER,
    [LABELS.component]: 'node-agent',
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
      activeDeadlineSeconds: Math.ceil(input.durationSeconds) + config.jobGraceSeconds,
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
          containers: [
            {
              name: 'agent',
              image: config.agentImage,
              imagePullPolicy: config.agentImagePullPolicy,
              env: [
                { name: AGENT_CONFIG_ENV, value: JSON.stringify(input.agentConfig) },
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
              ],
            },
          ],
          volumes: [
            { name: 'host-sys', hostPath: { path: '/sys', type: 'Directory' } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
          ],
        },
      },
    },
  };
}
