// The operator process: config from env, the TraceJob controller on our
// runtime, leader election, health and metrics. Side effects live here.
import { CoordinationV1Api, type V1Job } from '@kubernetes/client-node';
import { Counter, Gauge, Histogram } from 'prom-client';
import { configFromEnv } from '../controller/config.js';
import { TraceJobReconciler, type RunObserver } from '../controller/reconciler.js';
import { OrphanSweeper } from '../controller/orphans.js';
import { QUEUED_REASON } from '../controller/admission.js';
import { parseOwnerAnnotation, ANNOTATIONS, LABELS, MANAGER } from '../controller/names.js';
import type { TraceJob } from '../api/tracejob.js';
import { GROUP, PLURAL, VERSION } from '../api/tracejob.js';
import { loadKubeConfig } from '../k8s/client.js';
import { ApiListWatcher } from '../k8s/listwatch.js';
import { leaseClient, OPERATOR_LEASE } from '../k8s/lease.js';
import { ApiTraceJobPort } from '../k8s/tracejob-port.js';
import { Controller } from '../runtime/controller.js';
import { Informer } from '../runtime/informer.js';
import { Manager } from '../runtime/manager.js';
import { createLogger } from '../runtime/logger.js';
import { createMetrics } from '../runtime/metrics.js';
import { splitKey, type KubeObject } from '../runtime/store.js';

const startedAt = process.hrtime.bigint();
const config = configFromEnv();
const log = createLogger();
const kc = loadKubeConfig();
const metrics = createMetrics();
const registers = [metrics.registry];

const apiCalls = new Counter({ name: 'tracejob_api_calls_total', help: 'API server calls made by the reconciler.', labelNames: ['verb', 'resource'] as const, registers });
const finished = new Counter({ name: 'tracejob_tracejobs_finished_total', help: 'TraceJob runs finished, by phase, probe and reason.', labelNames: ['phase', 'probe', 'reason'] as const, registers });
const runSeconds = new Histogram({ name: 'tracejob_run_duration_seconds', help: 'Acceptance to finish of a TraceJob run.', labelNames: ['probe', 'phase'] as const, buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600], registers });
const nodeJobFailures = new Counter({ name: 'tracejob_node_job_failures_total', help: 'Node jobs that ended in failure, by reason.', labelNames: ['reason'] as const, registers });
const resultBytes = new Histogram({ name: 'tracejob_result_bytes', help: 'Size of result ConfigMaps written.', buckets: [1024, 8192, 65536, 262144, 524288, 921600], registers });
const resultTruncations = new Counter({ name: 'tracejob_result_truncations_total', help: 'Cuts made to fit results into a ConfigMap.', registers });
const orphansDeleted = new Counter({ name: 'tracejob_orphan_jobs_deleted_total', help: 'Node jobs deleted by the orphan sweep because their TraceJob is gone.', labelNames: ['reason'] as const, registers });
const parseErrors = new Counter({ name: 'tracejob_result_parse_errors_total', help: 'Agent result documents that could not be parsed.', registers });

const observe: RunObserver = {
  finished: (tj, phase, reason, seconds) => {
    const probe = String(tj.spec.probe?.type ?? '');
    finished.inc({ phase, probe, reason });
    if (seconds !== undefined) runSeconds.observe({ probe, phase }, seconds);
  },
  nodeJobFailed: (reason) => nodeJobFailures.inc({ reason }),
  resultWritten: (bytes, truncations, unparseable) => {
    resultBytes.observe(bytes);
    resultTruncations.inc(truncations);
    parseErrors.inc(unparseable);
  },
};

const onWatchRestart = (resource: string) => () => metrics.watchRestarts.inc({ resource });
const traceJobs = new Informer<TraceJob & KubeObject>({
  resource: 'tracejobs',
  listWatcher: new ApiListWatcher(kc, `/apis/${GROUP}/${VERSION}/${PLURAL}`),
  logger: log,
  onWatchRestart: onWatchRestart('tracejobs'),
});
const nodeJobs = new Informer<KubeObject>({
  resource: 'jobs',
  listWatcher: new ApiListWatcher(kc, `/apis/batch/v1/namespaces/${config.namespace}/jobs`, { labelSelector: `${LABELS.managedBy}=${MANAGER}` }),
  logger: log,
  onWatchRestart: onWatchRestart('jobs'),
});

const port = new ApiTraceJobPort(kc, config.namespace, (verb, resource) => apiCalls.inc({ verb, resource }), 'tracejob-operator', {
  traceJob: (namespace, name) => traceJobs.store.get(`${namespace}/${name}`),
  traceJobs: () => traceJobs.store.list(),
  job: (name) => nodeJobs.store.get(`${config.namespace}/${name}`) as V1Job | undefined,
});
const reconciler = new TraceJobReconciler({ port, config, log, observe });

// TraceJobs by phase and probe, counted from the informer cache at scrape time.
new Gauge({
  name: 'tracejob_tracejobs',
  help: 'TraceJobs in the cluster by phase and probe.',
  labelNames: ['phase', 'probe'] as const,
  registers,
  collect() {
    this.reset();
    for (const tj of traceJobs.store.list()) {
      this.inc({ phase: tj.status?.phase ?? 'New', probe: String(tj.spec?.probe?.type ?? '') });
    }
  },
});

// Runs waiting for a slot of policy.maxConcurrentRuns, counted from the cache at scrape time.
new Gauge({
  name: 'tracejob_runs_queued',
  help: 'Pending TraceJob runs waiting for a slot of policy.maxConcurrentRuns.',
  registers,
  collect() {
    this.set(traceJobs.store.list().filter((tj) => tj.status?.phase === 'Pending' && tj.status.conditions?.some((c) => c.type === 'Admitted' && c.reason === QUEUED_REASON)).length);
  },
});

const controller = new Controller({
  name: 'tracejob',
  concurrency: config.workers,
  logger: log,
  metrics,
  reconcile: async (key, ctx) => {
    const { namespace, name } = splitKey(key);
    const result = await reconciler.reconcile(namespace ?? '', name, ctx.logger);
    return result.requeueAfterMs === undefined ? {} : { requeueAfter: result.requeueAfterMs };
  },
});
controller.for(traceJobs, {
  // Our own status writes need no reconcile; spec edits, deletion, finalizer
  // changes and periodic resyncs (same resourceVersion) do.
  predicate: (o, n) =>
    o.metadata.resourceVersion === n.metadata.resourceVersion ||
    o.metadata.generation !== n.metadata.generation ||
    Boolean(n.metadata.deletionTimestamp) ||
    JSON.stringify(o.metadata.finalizers ?? []) !== JSON.stringify(n.metadata.finalizers ?? []),
});
controller.watches(nodeJobs, (job) => {
  const owner = parseOwnerAnnotation((job.metadata?.['annotations'] as Record<string, string> | undefined)?.[ANNOTATIONS.owner]);
  return owner ? `${owner.namespace}/${owner.name}` : undefined;
});

const leaderElection = process.env['TRACEJOB_LEADER_ELECTION'] !== 'false';
const manager = new Manager({
  logger: log,
  metrics,
  health: { port: Number(process.env['TRACEJOB_HEALTH_PORT'] ?? 8081) },
  leaderElection: leaderElection ? { client: leaseClient(kc.makeApiClient(CoordinationV1Api), config.namespace, OPERATOR_LEASE), ...(process.env['POD_NAME'] ? { identity: `${process.env['POD_NAME']}_${process.pid}` } : {}) } : false,
  handleSignals: true,
});
manager.addController(controller);

// Node jobs whose TraceJob is gone (finalizer stripped, then deleted): a sweep at
// start, on every Job add and TraceJob add/delete, and every 20 s. A controller
// with one key, so it runs on the leader only and never twice at once.
const SWEEP_KEY = 'orphan-sweep';
const sweeper = new OrphanSweeper({
  listJobs: () => nodeJobs.store.list(),
  cachedTraceJob: (namespace, name) => traceJobs.store.get(`${namespace}/${name}`),
  liveTraceJob: (namespace, name) => port.getTraceJobLive(namespace, name),
  deleteJob: (name) => port.deleteJob(name),
  log: log.child({ controller: SWEEP_KEY }),
  onDeleted: (reason) => orphansDeleted.inc({ reason }),
});
const sweep = new Controller({
  name: SWEEP_KEY,
  concurrency: 1,
  logger: log,
  metrics,
  reconcile: async () => {
    await sweeper.sweep();
    return { requeueAfter: 20_000 };
  },
});
sweep.watches(nodeJobs, () => SWEEP_KEY, () => false);
sweep.watches(traceJobs, () => SWEEP_KEY, () => false);
sweep.enqueue(SWEEP_KEY);
manager.addController(sweep);

process.on('unhandledRejection', (err) => log.error({ err }, 'Unhandled rejection'));
await manager.start();
log.info(
  { namespace: config.namespace, agentImage: config.agentImage, leaderElection, startupMs: Number(process.hrtime.bigint() - startedAt) / 1e6 },
  'Started tracejob operator',
);
