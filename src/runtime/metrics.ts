// Prometheus metrics for the operator. One Registry per Metrics instance (not
// prom-client's global one) so two managers in one test process don't clash.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  registry: Registry;
  /** Reconciles by outcome: success | requeue_after | error | terminal_error. */
  reconcileTotal: Counter<'controller' | 'result'>;
  reconcileErrors: Counter<'controller'>;
  reconcileDuration: Histogram<'controller'>;
  workqueueDepth: Gauge<'name'>;
  workqueueAdds: Counter<'name'>;
  workqueueRetries: Counter<'name'>;
  watchRestarts: Counter<'resource'>;
  /** 1 while this replica holds the lease. */
  leader: Gauge;
}

export interface MetricsOptions {
  /** Process/Node.js default metrics (CPU, RSS, event-loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  return {
    registry,
    reconcileTotal: new Counter({
      name: 'tracejob_reconcile_total',
      help: 'Reconciles by controller and result (success, requeue_after, error, terminal_error).',
      labelNames: ['controller', 'result'] as const,
      registers,
    }),
    reconcileErrors: new Counter({
      name: 'tracejob_reconcile_errors_total',
      help: 'Reconciles that threw (temporary or terminal).',
      labelNames: ['controller'] as const,
      registers,
    }),
    reconcileDuration: new Histogram({
      name: 'tracejob_reconcile_duration_seconds',
      help: 'Time spent in reconcile.',
      labelNames: ['controller'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    workqueueDepth: new Gauge({
      name: 'tracejob_workqueue_depth',
      help: 'Keys waiting in the work queue.',
      labelNames: ['name'] as const,
      registers,
    }),
    workqueueAdds: new Counter({
      name: 'tracejob_workqueue_adds_total',
      help: 'Keys added to the work queue (de-duplicated adds not counted).',
      labelNames: ['name'] as const,
      registers,
    }),
    workqueueRetries: new Counter({
      name: 'tracejob_workqueue_retries_total',
      help: 'Rate-limited requeues after a failed reconcile.',
      labelNames: ['name'] as const,
      registers,
    }),
    watchRestarts: new Counter({
      name: 'tracejob_watch_restarts_total',
      help: 'Watches restarted (closed, failed, expired or stalled).',
      labelNames: ['resource'] as const,
      registers,
    }),
    leader: new Gauge({
      name: 'tracejob_leader',
      help: '1 while this replica holds the leader lease.',
      registers,
    }),
  };
}
