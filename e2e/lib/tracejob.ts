// TraceJob helpers for e2e suites: install the operator, create workloads and
// TraceJobs, wait for phases and conditions, read results.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { apply, createNamespace, getJson, k, kubectl, waitForAsync } from './kube.js';

export const OPERATOR_NS = 'tracejob-system';
/** The one namespace the e2e operator install allows custom programs and node targets for. */
export const PRIVILEGED_NS = 'tj-e2e-admin';

export interface TraceJobObj {
  metadata: { name: string; namespace: string; uid: string; generation: number };
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    observedGeneration?: number;
    message?: string;
    conditions?: Array<{ type: string; status: string; reason: string; message?: string }>;
    timing?: Record<string, string>;
    summary?: { headline?: string; counters?: Record<string, number> };
    resultRef?: { configMap?: string; keys?: string[] };
    nodeJobs?: Array<{ name: string; node: string }>;
    targets?: Array<Record<string, unknown>>;
  };
}

/** Installs the operator with the Helm chart (idempotent) and waits until it is ready. */
export function installOperator(extra: string[] = []): void {
  // While developing one suite against an already installed operator (parallel runs must not race helm).
  if (process.env['TJ_E2E_SKIP_INSTALL'] === '1' && extra.length === 0) {
    k(['-n', OPERATOR_NS, 'rollout', 'status', 'deploy/tracejob-operator', '--timeout=120s']);
    return;
  }
  execFileSync(
    'bash',
    [
      'hack/install-operator.sh',
      '--set', 'replicas=2',
      '--set', 'agent.pendingTimeoutSeconds=20',
      '--set-json', `policy.customProgramNamespaces=["${PRIVILEGED_NS}"]`,
      '--set-json', `policy.nodeTargetNamespaces=["${PRIVILEGED_NS}"]`,
      // No registry here: the debuginfo fetch runs in an image the node has (its apt finds no kernel packages).
      '--set', 'debuginfo.image=localhost/tracejob-agent:dev',
      '--set', 'debuginfo.timeoutSeconds=60',
      ...extra,
    ],
    { stdio: 'inherit' },
  );
  k(['-n', OPERATOR_NS, 'rollout', 'status', 'deploy/tracejob-operator', '--timeout=120s']);
  const available = getJson<{ status?: { availableReplicas?: number } }>(['-n', OPERATOR_NS, 'get', 'deploy', 'tracejob-operator']);
  assert.ok((available.status?.availableReplicas ?? 0) >= 1, 'the operator has no available replica after install');
}

/** The CRD (server-side applied, as the chart ships it) and the operator, for suites that need both. */
export function installCrdsAndOperator(): void {
  k(['apply', '--server-side', '--force-conflicts', '-f', 'crds/']);
  installOperator();
}

/**
 * The ground-truth pattern: create the TraceJob, wait until the tracer is
 * attached, trigger the workload (which does its known work only then), and
 * return the finished run with its result; the run must have succeeded.
 */
export async function traceTriggered(
  namespace: string,
  name: string,
  pod: string,
  spec: Record<string, unknown>,
): Promise<{ tj: TraceJobObj; doc: ResultDoc; report: string }> {
  createTraceJob(namespace, name, spec);
  await waitForCondition(namespace, name, 'Attached');
  trigger(namespace, pod);
  const tj = await waitForPhase(namespace, name, ['Succeeded', 'Failed']);
  assert.equal(tj.status?.phase, 'Succeeded', tj.status?.message);
  return { tj, ...readResult(namespace, tj) };
}

/** Extra fields of the workload container (resources, securityContext, …). */
export type ContainerExtras = Record<string, unknown>;

export function workloadPod(namespace: string, name: string, command: string[], labels: Record<string, string> = {}, restartPolicy = 'Always', container: ContainerExtras = {}): void {
  apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: name, ...labels } },
    spec: {
      terminationGracePeriodSeconds: 1,
      restartPolicy,
      containers: [{ name: 'app', image: 'localhost/tracejob-workload:dev', imagePullPolicy: 'Never', command, ...container }],
    },
  });
}

/**
 * For a catalog suite's `before`: CRDs and operator installed, a fresh namespace
 * with a noisy neighbour pod running `neighbour` (the same kinds of work as the
 * targets, all the time, so exact counts also prove isolation). Returns the namespace.
 */
export function namespaceWithNeighbour(prefix: string, neighbour: string[]): string {
  installCrdsAndOperator();
  const ns = createNamespace(prefix);
  workloadPod(ns, 'noisy', neighbour);
  waitPodReady(ns, 'noisy');
  return ns;
}

export interface WorkloadTraceOptions {
  /** The rest of the TraceJob spec (duration defaults to 6s; the target is the pod). */
  spec?: Record<string, unknown>;
  /** Wait for the workload's `ready` line first (its sockets, files, threads set up before the trigger). */
  ready?: boolean;
  /** Run just before the TraceJob is created (e.g. warm the trigger's binaries untraced). */
  beforeTrace?: () => void;
}

/**
 * The catalog pattern on a workload pod: start it, trace it with `probe`, trigger it
 * once attached, and require its `done` line (the known work finished inside the
 * trace). Returns the finished run and the workload's log; the pod is deleted.
 */
export async function traceWorkloadPod(
  ns: string,
  name: string,
  command: string[],
  probe: Record<string, unknown>,
  opts: WorkloadTraceOptions = {},
): Promise<{ tj: TraceJobObj; doc: ResultDoc; report: string; log: string }> {
  workloadPod(ns, name, command);
  waitPodReady(ns, name);
  if (opts.ready) await waitForAsync(`${name} ready`, 30_000, () => /^ready/m.test(k(['-n', ns, 'logs', name])));
  opts.beforeTrace?.();
  const result = await traceTriggered(ns, name, name, { target: { pod: { name } }, probe, duration: '6s', ...opts.spec });
  const log = await waitForAsync(`${name} done (the workload did not finish its work inside the trace)`, 20_000, () => {
    const l = k(['-n', ns, 'logs', name]);
    return /^done$/m.test(l) ? l : undefined;
  });
  k(['-n', ns, 'delete', 'pod', name, '--wait=false']);
  return { ...result, log };
}

export function waitPodReady(namespace: string, name: string): void {
  k(['-n', namespace, 'wait', `pod/${name}`, '--for=condition=Ready', '--timeout=90s']);
}

export function createTraceJob(namespace: string, name: string, spec: Record<string, unknown>): TraceJobObj {
  apply({ apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { name, namespace }, spec });
  const tj = getTraceJob(namespace, name);
  assert.ok(tj?.metadata.uid, `TraceJob ${namespace}/${name} was not created`);
  return tj;
}

export function getTraceJob(namespace: string, name: string): TraceJobObj | undefined {
  const r = kubectl(['-n', namespace, 'get', 'tracejob', name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as TraceJobObj) : undefined;
}

export function condition(tj: TraceJobObj | undefined, type: string) {
  return tj?.status?.conditions?.find((c) => c.type === type);
}

export async function waitForPhase(namespace: string, name: string, phases: string[], timeoutMs = 90_000): Promise<TraceJobObj> {
  return waitForAsync(`TraceJob ${namespace}/${name} to reach ${phases.join('|')}`, timeoutMs, () => {
    const tj = getTraceJob(namespace, name);
    return tj?.status?.phase && phases.includes(tj.status.phase) ? tj : undefined;
  });
}

export async function waitForCondition(namespace: string, name: string, type: string, timeoutMs = 60_000): Promise<TraceJobObj> {
  return waitForAsync(`TraceJob ${namespace}/${name} condition ${type}=True`, timeoutMs, () => {
    const tj = getTraceJob(namespace, name);
    if (tj?.status?.phase === 'Failed') throw new Error(`TraceJob failed while waiting for ${type}: ${tj.status.message}`);
    return condition(tj, type)?.status === 'True' ? tj : undefined;
  });
}

export interface ResultDoc {
  probe: string;
  partial: boolean;
  counters: Record<string, number>;
  histograms: Array<{ name: string; count: number; buckets: Array<{ count: number }>; p50?: number; p99?: number }>;
  tables: Array<{ name: string; columns: string[]; rows: Array<Array<string | number | null>> }>;
  events: Array<Record<string, unknown>>;
  notes: string[];
}

export function readResult(namespace: string, tj: TraceJobObj): { doc: ResultDoc; report: string } {
  const name = tj.status?.resultRef?.configMap;
  assert.ok(name, `TraceJob ${tj.metadata.name} has no status.resultRef: ${tj.status?.message ?? ''}`);
  const cm = getJson<{ data: Record<string, string> }>(['-n', namespace, 'get', 'configmap', name]);
  assert.ok(cm.data['result.json'] && cm.data['report.txt'], `ConfigMap ${name} lacks result.json or report.txt`);
  const doc = JSON.parse(cm.data['result.json']) as ResultDoc;
  // The result belongs to this TraceJob's probe (a stale or foreign ConfigMap would not).
  assert.equal(doc.probe, (tj.spec['probe'] as { type?: string } | undefined)?.type);
  return { doc, report: cm.data['report.txt'] };
}

export function tableRows(doc: ResultDoc, name: string): Array<Array<string | number | null>> {
  return doc.tables.find((t) => t.name === name)?.rows ?? [];
}

export function nodeJobsOf(uid: string): string[] {
  const out = k(['-n', OPERATOR_NS, 'get', 'jobs', '-l', `tracing.tracejob.dev/uid=${uid}`, '-o', 'name']);
  return out.split('\n').filter(Boolean);
}

export function agentPodsOf(uid: string): string[] {
  const out = k(['-n', OPERATOR_NS, 'get', 'pods', '-l', `tracing.tracejob.dev/uid=${uid}`, '-o', 'name']);
  return out.split('\n').filter(Boolean);
}

export function trigger(namespace: string, pod: string): void {
  k(['-n', namespace, 'exec', pod, '--', 'touch', '/tmp/go']);
}
