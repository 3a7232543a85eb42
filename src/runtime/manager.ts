// The process lifecycle:
//   start: health server → leader election → (when leading) informers →
//          wait for caches to sync → controller workers
//   stop (SIGTERM/SIGINT or stop()): stop watches → shut the queues → drain
//          in-flight reconciles (bounded) → release the lease → close server
//
// The lease is released only after the drain, and only if it finished in
// time: releasing earlier would let the standby start reconciling keys we are
// still working on. If the drain times out we exit without releasing and the
// standby waits out the lease instead.
//
// Losing the lease involuntarily stops everything and exits non-zero, so the
// pod restarts clean as a standby (controller-runtime does the same).
//
// Readiness: a leader is ready once its caches have synced. A standby is ready
// while its election loop can reach the API server — standbys are healthy
// replicas, and marking them unready would stall rolling updates and alert for
// nothing. Liveness fails if a running informer stopped making progress.

import { type Clock, realClock } from './clock.js';
import type { Controller } from './controller.js';
import { HealthServer } from './health.js';
import type { Informer } from './informer.js';
import { LeaderElector, type LeaderElectorOptions } from './leader.js';
import { type Logger, silentLogger } from './logger.js';
import { type Metrics, createMetrics } from './metrics.js';
import type { KubeObject } from './store.js';

export type LeaderElectionConfig = Pick<
  LeaderElectorOptions,
  'client' | 'identity' | 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs'
>;

export interface ManagerOptions {
  logger?: Logger;
  clock?: Clock;
  metrics?: Metrics;
  /** Health server; false disables it. Default port 8081. */
  health?: { port?: number; host?: string } | false;
  /** Leader election; false means always lead (local development, tests). */
  leaderElection: LeaderElectionConfig | false;
  /** Bound on waiting for in-flight reconciles at shutdown. Default 20 s. */
  shutdownTimeoutMs?: number;
  /** Liveness fails if an informer shows no activity for this long. Default 3 min. */
  informerStaleAfterMs?: number;
  /** Install SIGTERM/SIGINT handlers that call stop() and then exit. Default false. */
  handleSignals?: boolean;
  /** Called with the exit code after a signal- or lease-loss-triggered stop. Default process.exit. */
  exit?: (code: number) => void;
}

export class Manager {
  readonly metrics: Metrics;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly opts: ManagerOptions;
  private readonly health: HealthServer | undefined;
  private readonly elector: LeaderElector | undefined;
  private readonly informers: Informer<KubeObject>[] = [];
  private readonly controllers: Controller[] = [];
  private readonly workloadAbort = new AbortController();
  private workloadsStarted = false;
  private controllersStarted = false;
  private stopping: Promise<void> | undefined;
  private readonly signalHandler = (signal: NodeJS.Signals): void => {
    this.log.info({ signal }, 'Received signal, shutting down');
    void this.stopAndExit(0);
  };

  constructor(options: ManagerOptions) {
    this.opts = options;
    this.log = (options.logger ?? silentLogger).child({ component: 'manager' });
    this.clock = options.clock ?? realClock;
    this.metrics = options.metrics ?? createMetrics();
    if (options.health !== false) {
      this.health = new HealthServer({
        port: options.health?.port,
        host: options.health?.host,
        registry: this.metrics.registry,
        logger: options.logger,
      });
    }
    if (options.leaderElection) {
      this.elector = new LeaderElector({
        ...options.leaderElection,
        clock: this.clock,
        logger: options.logger,
        metrics: this.metrics,
        onStartedLeading: () => void this.startWorkloads(),
        onStoppedLeading: () => {
          this.log.error('Lost leadership, stopping');
          void this.stopAndExit(1);
        },
      });
    }
  }

  /** Identity used in the lease (undefined without leader election). */
  get identity(): string | undefined {
    return this.elector?.identity;
  }

  /** Adds an informer to start when leading (controllers' informers are added automatically). */
  addInformer<T extends KubeObject>(informer: Informer<T>): this {
    const inf = informer as unknown as Informer<KubeObject>;
    if (!this.informers.includes(inf)) this.informers.push(inf);
    return this;
  }

  /** Adds a controller and the informers it watches. */
  addController(controller: Controller): this {
    this.controllers.push(controller);
    for (const inf of controller.informers()) this.addInformer(inf);
    return this;
  }

  /** True while this replica leads (always true without leader election once started). */
  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.workloadsStarted;
  }

  /** True once leading and every informer has synced and workers run. */
  isRunning(): boolean {
    return this.controllersStarted;
  }

  healthPort(): number | undefined {
    return this.health?.port();
  }

  /** Starts the health server and campaigns for leadership (or starts at once without election). */
  async start(): Promise<void> {
    this.registerChecks();
    if (this.health) await this.health.start();
    if (this.opts.handleSignals) {
      process.once('SIGTERM', this.signalHandler);
      process.once('SIGINT', this.signalHandler);
    }
    if (this.elector) this.elector.start();
    else void this.startWorkloads();
  }

  /** Graceful stop; idempotent (concurrent callers share one shutdown). Does not exit the process. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async stopAndExit(code: number): Promise<void> {
    await this.stop();
    (this.opts.exit ?? ((c: number) => process.exit(c)))(code);
  }

  private async startWorkloads(): Promise<void> {
    if (this.workloadsStarted || this.stopping) return;
    this.workloadsStarted = true;
    this.log.info({ informers: this.informers.map((i) => i.resource) }, 'Starting informers');
    for (const inf of this.informers) inf.start();
    const synced = await Promise.all(this.informers.map((inf) => inf.waitForSync(this.workloadAbort.signal)));
    if (this.stopping || synced.includes(false)) return;
    for (const c of this.controllers) c.start();
    this.controllersStarted = true;
    this.log.info({ controllers: this.controllers.map((c) => c.name) }, 'Caches synced, controllers started');
  }

  private async shutdown(): Promise<void> {
    const started = this.clock.now();
    this.log.info('Shutting down');
    if (this.opts.handleSignals) {
      process.off('SIGTERM', this.signalHandler);
      process.off('SIGINT', this.signalHandler);
    }
    this.workloadAbort.abort();
    // 1. No new events: stop watches.
    await Promise.all(this.informers.map((inf) => inf.stop()));
    // 2. No new reconciles; wait (bounded) for in-flight ones.
    const timeout = this.opts.shutdownTimeoutMs ?? 20_000;
    const drained = (await Promise.all(this.controllers.map((c) => c.stop(timeout)))).every(Boolean);
    // 3. Hand over the lease — only if nothing of ours is still running.
    if (this.elector) await this.elector.stop({ release: drained });
    // 4. Probes last, so the kubelet sees us until the end.
    await this.health?.close();
    this.log.info({ drained, tookMs: this.clock.now() - started }, 'Shutdown complete');
  }

  private registerChecks(): void {
    const health = this.health;
    if (!health) return;
    const staleAfter = this.opts.informerStaleAfterMs ?? 180_000;
    health.addLiveness('informers', () => {
      if (!this.workloadsStarted || this.stopping) return true;
      const now = this.clock.now();
      const stale = this.informers.filter((i) => now - i.lastActivity() > staleAfter).map((i) => i.resource);
      return stale.length === 0 || `no watch activity for ${staleAfter} ms: ${stale.join(', ')}`;
    });
    health.addReadiness('shutdown', () => !this.stopping || 'shutting down');
    health.addReadiness('leader', () => {
      const elector = this.elector;
      if (!elector || elector.isLeader()) return true;
      const window = 2 * (this.opts.leaderElection ? (this.opts.leaderElection.leaseDurationMs ?? 15_000) : 15_000);
      const contact = elector.lastContact();
      return (contact > 0 && this.clock.now() - contact < window) || 'standby cannot reach the lease';
    });
    health.addReadiness('informers', () => {
      if (!this.isLeader()) return true; // standbys run no informers
      const pending = this.informers.filter((i) => !i.hasSynced()).map((i) => i.resource);
      return pending.length === 0 || `not synced: ${pending.join(', ')}`;
    });
  }
}
