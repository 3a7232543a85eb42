// Public surface of the controller runtime (knows nothing of tracing).
export { type Clock, type TimerHandle, FakeClock, RealClock, realClock, flushMicrotasks } from './clock.js';
export { TemporaryError, TerminalError, type TemporaryErrorOptions } from './errors.js';
export { WorkQueue, type WorkQueueOptions, type QueueMetrics } from './workqueue.js';
export { type LabelSelector, type LabelSelectorRequirement, matchesSelector, formatSelector } from './selector.js';
export { Store, type KubeObject, type ListOptions, objectKey, splitKey } from './store.js';
export {
  Informer,
  type InformerOptions,
  type InformerHandlers,
  type ListWatcher,
  type ListResult,
  type WatchHandle,
  type WatchEventType,
  type WatchEndReason,
} from './informer.js';
export {
  Controller,
  type ControllerOptions,
  type Reconciler,
  type ReconcileContext,
  type ReconcileResult,
  type ReconcileOutcome,
  type KeyMapper,
} from './controller.js';
export { LeaderElector, type LeaderElectorOptions, type LeaseClient, type LeaseRecord, defaultIdentity } from './leader.js';
export { HealthServer, type HealthCheck, type HealthServerOptions } from './health.js';
export { createMetrics, type Metrics, type MetricsOptions } from './metrics.js';
export { createLogger, silentLogger, withReconcile, newReconcileID, type Logger } from './logger.js';
export { Manager, type ManagerOptions, type LeaderElectionConfig } from './manager.js';
