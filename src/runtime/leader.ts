// Leader election on a coordination.k8s.io/v1 Lease, so two replicas never
// reconcile at once. The algorithm is client-go's:
//  - acquire when the lease has no holder or has expired, writing with the
//    resourceVersion we read (optimistic concurrency: a 409 means another
//    candidate won the race);
//  - the leader renews every retryPeriod; if it cannot renew for renewDeadline
//    (< leaseDuration, so it notices before anyone can take over) it stops
//    leading and the operator exits to restart clean;
//  - release() on graceful shutdown empties holderIdentity so a standby takes
//    over on its next poll instead of waiting for expiry.
//
// Expiry uses two clocks: the record's renewTime against our wall clock (fast
// takeover after a crash, assumes NTP-level skew), and — like client-go — how
// long we have watched the record stay unchanged on our own clock, which is
// immune to skew. Either one expiring is enough.
//
// The API is behind LeaseClient so tests can run two candidates against an
// in-memory lease; src/k8s/lease.ts implements it over CoordinationV1Api.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { type Clock, realClock } from './clock.js';
import { type Logger, silentLogger } from './logger.js';
import type { Metrics } from './metrics.js';

/** The fields of a Lease's spec that election uses, plus its resourceVersion. */
export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: Date;
  renewTime?: Date;
  leaseTransitions?: number;
  resourceVersion?: string;
}

export interface LeaseClient {
  /** The current lease, or undefined if it does not exist. */
  get(): Promise<LeaseRecord | undefined>;
  /** Creates the lease; resolves null if it already exists (lost the race). */
  create(record: LeaseRecord): Promise<LeaseRecord | null>;
  /** Replaces the lease if record.resourceVersion is still current; resolves null on conflict. */
  update(record: LeaseRecord): Promise<LeaseRecord | null>;
}

export interface LeaderElectorOptions {
  client: LeaseClient;
  /** Unique per process. Default: hostname + random suffix. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: Logger;
  onStartedLeading?(): void;
  /** Called when leadership is lost involuntarily (not after stop()). */
  onStoppedLeading?(): void;
  /** Called when the observed leader changes (including to ourselves). */
  onNewLeader?(identity: string): void;
  metrics?: Metrics;
}

export function defaultIdentity(): string {
  return `${hostname()}_${randomBytes(4).toString('hex')}`;
}

export class LeaderElector {
  readonly identity: string;
  private readonly client: LeaseClient;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly opts: LeaderElectorOptions;

  private leading = false;
  private running = false;
  private abort = new AbortController();
  private loop: Promise<void> | undefined;
  /** Last record we saw and when (our clock) it last changed. */
  private observed: LeaseRecord | undefined;
  private observedAtMs = 0;
  private lastObservedLeader = '';
  /** When we last talked to the API server successfully (for readiness). */
  private lastContactMs = 0;

  constructor(options: LeaderElectorOptions) {
    this.opts = options;
    this.client = options.client;
    this.identity = options.identity ?? defaultIdentity();
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('renewDeadline must be shorter than leaseDuration');
    if (this.retryPeriodMs >= this.renewDeadlineMs) throw new Error('retryPeriod must be shorter than renewDeadline');
    this.clock = options.clock ?? realClock;
    this.log = (options.logger ?? silentLogger).child({ component: 'leader-election', identity: this.identity });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Holder identity in the last lease we read ('' if none). */
  observedLeader(): string {
    return this.lastObservedLeader;
  }

  /** When we last read or wrote the lease successfully (ms, our clock); 0 if never. */
  lastContact(): number {
    return this.lastContactMs;
  }

  /** Starts campaigning in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loop = this.run().catch((err: unknown) => this.log.error({ err }, 'Leader election loop crashed'));
  }

  /**
   * Stops campaigning/renewing and, if leading, releases the lease. Pass
   * release: false to let the lease run out instead (when work may still be
   * running and a fast takeover could overlap with it).
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    if (this.running) {
      this.running = false;
      this.abort.abort();
      await this.loop;
    }
    if (!this.leading) return;
    if (options.release ?? true) await this.release();
    else this.setLeading(false);
  }

  /**
   * Gives the lease up: empty holder, 1 s duration, so a standby takes over on
   * its next retry. Best effort: on failure the lease simply expires.
   */
  async release(): Promise<boolean> {
    const wasLeading = this.leading;
    this.setLeading(false);
    if (!wasLeading) return false;
    try {
      const current = await this.client.get();
      if (!current || current.holderIdentity !== this.identity) return false;
      const now = new Date(this.clock.now());
      const released = await this.client.update({
        ...current,
        holderIdentity: '',
        leaseDurationSeconds: 1,
        renewTime: now,
        acquireTime: now,
      });
      if (released) this.log.info('Released leader lease');
      return released !== null;
    } catch (err) {
      this.log.warn({ err }, 'Could not release leader lease; it will expire');
      return false;
    }
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    // Campaign until we hold the lease.
    while (this.running && !this.leading) {
      if (await this.withDeadline(this.tryAcquireOrRenew(), this.renewDeadlineMs)) {
        this.setLeading(true);
        if (!this.running) return; // stop() raced us; it releases what we just took
        this.log.info('Acquired leader lease');
        this.opts.onStartedLeading?.();
        break;
      }
      await this.clock.sleep(this.retryPeriodMs, signal);
    }
    // Renew until stopped, or until we cannot renew within renewDeadline.
    let lastRenew = this.clock.now();
    while (this.running && this.leading) {
      await this.clock.sleep(this.retryPeriodMs, signal);
      if (!this.running) return;
      const remaining = this.renewDeadlineMs - (this.clock.now() - lastRenew);
      const ok = remaining > 0 && (await this.withDeadline(this.tryAcquireOrRenew(), remaining));
      if (!this.running) return;
      if (ok) {
        lastRenew = this.clock.now();
        continue;
      }
      const someoneElse = this.lastObservedLeader !== '' && this.lastObservedLeader !== this.identity;
      if (someoneElse || this.clock.now() - lastRenew >= this.renewDeadlineMs) {
        // No second campaign: whoever holds the lease now may already be
        // reconciling, so the operator must stop and restart clean.
        this.setLeading(false);
        this.running = false;
        this.log.error({ newLeader: this.lastObservedLeader, sinceRenewMs: this.clock.now() - lastRenew }, 'Lost leader lease');
        this.opts.onStoppedLeading?.();
        return;
      }
    }
  }

  /** One attempt to take or keep the lease. Never throws. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const nowMs = this.clock.now();
    const now = new Date(nowMs);
    try {
      const current = await this.client.get();
      this.lastContactMs = this.clock.now();
      if (!current) {
        const created = await this.client.create({
          holderIdentity: this.identity,
          leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
          acquireTime: now,
          renewTime: now,
          leaseTransitions: 0,
        });
        if (created) this.observe(created, nowMs);
        return created !== null;
      }
      this.observe(current, nowMs);
      const holder = current.holderIdentity ?? '';
      if (holder !== '' && holder !== this.identity && !this.expired(current, nowMs)) return false;

      const renewing = holder === this.identity;
      const updated = await this.client.update({
        ...current,
        holderIdentity: this.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        renewTime: now,
        acquireTime: renewing ? (current.acquireTime ?? now) : now,
        leaseTransitions: (current.leaseTransitions ?? 0) + (renewing ? 0 : 1),
      });
      if (!updated) return false; // 409: someone else wrote first
      this.lastContactMs = this.clock.now();
      this.observe(updated, nowMs);
      return true;
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'Leader lease request failed');
      return false;
    }
  }

  private observe(record: LeaseRecord, nowMs: number): void {
    const prev = this.observed;
    const changed =
      !prev ||
      prev.holderIdentity !== record.holderIdentity ||
      prev.renewTime?.getTime() !== record.renewTime?.getTime() ||
      prev.resourceVersion !== record.resourceVersion;
    if (changed) {
      this.observed = record;
      this.observedAtMs = nowMs;
    }
    const holder = record.holderIdentity ?? '';
    if (holder !== this.lastObservedLeader) {
      this.lastObservedLeader = holder;
      if (holder) {
        this.log.info({ leader: holder }, 'Observed new leader');
        this.opts.onNewLeader?.(holder);
      }
    }
  }

  private expired(record: LeaseRecord, nowMs: number): boolean {
    const durationMs = (record.leaseDurationSeconds ?? 0) * 1000;
    const byWallClock = record.renewTime !== undefined && record.renewTime.getTime() + durationMs < nowMs;
    const byObservation = this.observedAtMs + durationMs < nowMs;
    return byWallClock || byObservation;
  }

  private setLeading(v: boolean): void {
    this.leading = v;
    this.opts.metrics?.leader.set(v ? 1 : 0);
  }

  /** Resolves the attempt's result, or false if it outlives ms (a hung request must not stall renewal). */
  private withDeadline(p: Promise<boolean>, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), ms);
      void p.then((v) => {
        timer.cancel();
        resolve(v);
      });
    });
  }
}
