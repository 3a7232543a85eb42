// A controller wires informers to a work queue and runs N workers that call a
// level-based reconcile(key). Events only ever enqueue a key; the reconciler
// reads the current state itself, so duplicate, coalesced or missed events are
// all harmless. Outcome handling follows controller-runtime:
//   success                  → forget backoff; requeueAfter → addAfter
//   TerminalError            → log, forget, no retry (wait for the next change)
//   TemporaryError/anything  → addRateLimited (per-key exponential backoff),
//                              or addAfter if the error names a delay

import { type Clock, realClock } from './clock.js';
import { TemporaryError, TerminalError } from './errors.js';
import type { Informer } from './informer.js';
import { type Logger, silentLogger, withReconcile } from './logger.js';
import type { Metrics } from './metrics.js';
import { type KubeObject, objectKey } from './store.js';
import { WorkQueue } from './workqueue.js';

export interface ReconcileResult {
  /** Reconcile this key again after this many ms (timers, polling). */
  requeueAfter?: number;
}

export interface ReconcileContext {
  key: string;
  /** Child logger with `key` and `reconcileID`. */
  logger: Logger;
  reconcileID: string;
  /** Aborted if shutdown gives up waiting for this reconcile (drain timeout). */
  signal: AbortSignal;
}

export type Reconciler = (key: string, ctx: ReconcileContext) => Promise<ReconcileResult | void>;

export interface ControllerOptions {
  /** Name for logs and metrics, e.g. "tracejob". */
  name: string;
  reconcile: Reconciler;
  /** Reconciles in flight at once (different keys). Default 2. */
  concurrency?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** Backoff for failed reconciles. Defaults 100 ms doubling to 60 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Maps a secondary object to the key(s) of the primary object(s) it belongs to. */
export type KeyMapper<T> = (obj: T) => string | string[] | undefined | null;

export type ReconcileOutcome = 'success' | 'requeue_after' | 'error' | 'terminal_error';

function isTerminal(err: unknown): boolean {
  return err instanceof TerminalError || (err instanceof Error && err.name === 'TerminalError');
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  private readonly reconcileFn: Reconciler;
  private readonly concurrency: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly metrics: Metrics | undefined;
  private readonly watched: Informer<KubeObject>[] = [];
  private workers: Promise<void>[] = [];
  private readonly abort = new AbortController();
  private started = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.reconcileFn = options.reconcile;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.clock = options.clock ?? realClock;
    this.log = (options.logger ?? silentLogger).child({ controller: options.name });
    this.metrics = options.metrics;
    const m = options.metrics;
    const labels = { name: options.name };
    this.queue = new WorkQueue({
      clock: this.clock,
      baseDelayMs: options.baseDelayMs,
      maxDelayMs: options.maxDelayMs,
      metrics: m && {
        depth: (n) => m.workqueueDepth.set(labels, n),
        add: () => m.workqueueAdds.inc(labels),
        retry: () => m.workqueueRetries.inc(labels),
      },
    });
  }

  /**
   * Watches the primary resource: every add/update/delete enqueues the
   * object's own key. predicate (optional) filters updates, e.g. to ignore
   * status-only changes by comparing metadata.generation.
   */
  for<T extends KubeObject>(informer: Informer<T>, options: { predicate?: (oldObj: T, newObj: T) => boolean } = {}): this {
    return this.watches(informer, (obj) => objectKey(obj), options.predicate);
  }

  /**
   * Watches a secondary resource: each event enqueues the key(s) mapper
   * returns (e.g. a Job → the TraceJob named in its label). Nothing is
   * enqueued when the mapper returns nothing.
   */
  watches<T extends KubeObject>(informer: Informer<T>, mapper: KeyMapper<T>, predicate?: (oldObj: T, newObj: T) => boolean): this {
    const enqueue = (obj: T): void => {
      let keys: ReturnType<KeyMapper<T>>;
      try {
        keys = mapper(obj);
      } catch (err) {
        this.log.error({ err, resource: informer.resource }, 'Key mapper threw');
        return;
      }
      if (keys === undefined || keys === null) return;
      for (const key of Array.isArray(keys) ? keys : [keys]) if (key) this.queue.add(key);
    };
    informer.addHandlers({
      onAdd: enqueue,
      onUpdate: (oldObj, newObj) => {
        if (!predicate || predicate(oldObj, newObj)) enqueue(newObj);
      },
      onDelete: enqueue,
    });
    if (!this.watched.includes(informer as unknown as Informer<KubeObject>)) {
      this.watched.push(informer as unknown as Informer<KubeObject>);
    }
    return this;
  }

  /** Informers registered through for()/watches(); the manager starts them. */
  informers(): readonly Informer<KubeObject>[] {
    return this.watched;
  }

  /** Enqueues a key directly. */
  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Starts the workers. Call after the informers have synced. */
  start(): void {
    if (this.started) return;
    this.started = true;
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.worker());
    this.log.info({ workers: this.concurrency }, 'Started controller');
  }

  /**
   * Stops handing out keys and waits up to timeoutMs for in-flight reconciles.
   * Resolves true if they all finished; on timeout their signal is aborted and
   * it resolves false.
   */
  async stop(timeoutMs = 20_000): Promise<boolean> {
    this.queue.shutdown();
    const drained = await this.queue.drain(timeoutMs);
    if (drained) {
      await Promise.all(this.workers);
    } else {
      this.abort.abort();
      this.log.warn({ inFlight: this.queue.inFlight(), timeoutMs }, 'Reconciles still running at shutdown deadline');
    }
    this.workers = [];
    return drained;
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.processKey(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** Runs one reconcile and decides the key's future. Never throws. */
  async processKey(key: string): Promise<ReconcileOutcome> {
    const { logger, reconcileID } = withReconcile(this.log, key);
    const started = this.clock.now();
    let outcome: ReconcileOutcome;
    try {
      const result = await this.reconcileFn(key, { key, logger, reconcileID, signal: this.abort.signal });
      this.queue.forget(key);
      const after = result?.requeueAfter;
      if (after !== undefined && after > 0) {
        this.queue.addAfter(key, after);
        outcome = 'requeue_after';
        logger.debug({ requeueAfterMs: after }, 'Reconciled, requeue scheduled');
      } else {
        outcome = 'success';
        logger.debug('Reconciled');
      }
    } catch (err) {
      this.metrics?.reconcileErrors.inc({ controller: this.name });
      if (isTerminal(err)) {
        this.queue.forget(key);
        outcome = 'terminal_error';
        logger.error({ err }, 'Reconcile failed permanently, not retrying');
      } else if (err instanceof TemporaryError && err.requeueAfterMs !== undefined) {
        this.queue.addAfter(key, err.requeueAfterMs);
        outcome = 'error';
        logger.info({ err: err.message, retryInMs: err.requeueAfterMs }, 'Reconcile deferred');
      } else {
        const delay = this.queue.addRateLimited(key);
        outcome = 'error';
        const level = err instanceof TemporaryError ? 'info' : 'error';
        logger[level]({ err, retryInMs: delay, attempt: this.queue.numRequeues(key) }, 'Reconcile failed, retrying');
      }
    }
    const seconds = (this.clock.now() - started) / 1000;
    this.metrics?.reconcileTotal.inc({ controller: this.name, result: outcome });
    this.metrics?.reconcileDuration.observe({ controller: this.name }, seconds);
    return outcome;
  }
}
