// A work queue of object keys with controller-runtime semantics:
//  - a key is queued at most once (adding it again is a no-op);
//  - a key handed to a worker is "processing"; adding it meanwhile marks it
//    dirty and it is queued again, once, when the worker calls done(key) —
//    so one reconcile is in flight per key, and no change is lost;
//  - delayed adds (earliest wins) and per-key exponential backoff.
// Keys carry no event data: reconcilers are level-based and re-read the world.

import { type Clock, type TimerHandle, realClock } from './clock.js';

/** Hooks for metrics; every member optional. */
export interface QueueMetrics {
  depth?(n: number): void;
  add?(): void;
  retry?(): void;
}

export interface WorkQueueOptions {
  clock?: Clock;
  /** First backoff delay for addRateLimited (ms). Default 100. */
  baseDelayMs?: number;
  /** Upper bound of the backoff delay (ms). Default 60 000. */
  maxDelayMs?: number;
  metrics?: QueueMetrics;
}

interface Delayed {
  due: number;
  timer: TimerHandle;
}

export class WorkQueue {
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly metrics: QueueMetrics;

  private readonly queue: string[] = [];
  /** Keys that need processing: queued, or re-added while processing. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly failures = new Map<string, number>();
  private waiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.baseDelayMs = options.baseDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.metrics = options.metrics ?? {};
  }

  /** Queues key unless it is already queued; if it is being processed, requeues it once done. */
  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.dirty.has(key)) return;
    this.metrics.add?.();
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.queue.push(key);
    this.reportDepth();
    this.waiters.shift()?.();
  }

  /** Adds key after ms. If the key is already waiting with an earlier deadline, that one wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = this.clock.now() + ms;
    const existing = this.delayed.get(key);
    if (existing && existing.due <= due) return;
    existing?.timer.cancel();
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { due, timer });
  }

  /** Adds key after its next backoff delay: base·2^failures, capped. */
  addRateLimited(key: string): number {
    const delay = this.nextBackoff(key);
    this.metrics.retry?.();
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the key's failure count so its next backoff starts from base again. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** How many times the key has been rate-limited since the last forget(). */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /**
   * Waits for a key to process. Resolves undefined once the queue is shut
   * down: that is the worker's signal to exit. The caller must call done(key).
   */
  async get(): Promise<string | undefined> {
    for (;;) {
      if (this.shuttingDown) return undefined;
      const key = this.queue.shift();
      if (key !== undefined) {
        this.dirty.delete(key);
        this.processing.add(key);
        this.reportDepth();
        return key;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Marks key finished; if it was re-added meanwhile it goes back on the queue now. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      if (this.shuttingDown) {
        this.dirty.delete(key);
      } else {
        this.queue.push(key);
        this.reportDepth();
        this.waiters.shift()?.();
      }
    }
    if (this.processing.size === 0) {
      const idle = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of idle) resolve();
    }
  }

  /** Keys waiting to be handed out (not counting delayed or in-flight ones). */
  len(): number {
    return this.queue.length;
  }

  /** Keys currently being processed. */
  inFlight(): number {
    return this.processing.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops handing out keys: waiting and future get() calls resolve undefined,
   * queued and delayed keys are dropped (a level-based controller loses
   * nothing — the next start lists everything again). In-flight keys finish.
   */
  shutdown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) timer.cancel();
    this.delayed.clear();
    this.queue.length = 0;
    for (const key of [...this.dirty]) if (!this.processing.has(key)) this.dirty.delete(key);
    this.reportDepth();
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Resolves true once no key is in flight, or false if timeoutMs passes
   * first. Call after shutdown() for a graceful stop.
   */
  drain(timeoutMs = Infinity): Promise<boolean> {
    if (this.processing.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      let timer: TimerHandle | undefined;
      const onIdle = (): void => {
        timer?.cancel();
        resolve(true);
      };
      this.idleWaiters.push(onIdle);
      if (Number.isFinite(timeoutMs)) {
        timer = this.clock.setTimeout(() => {
          this.idleWaiters = this.idleWaiters.filter((w) => w !== onIdle);
          resolve(false);
        }, timeoutMs);
      }
    });
  }

  private nextBackoff(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2**n overflows to Infinity for large n, which min() turns into the cap.
    return Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs);
  }

  private reportDepth(): void {
    this.metrics.depth?.(this.queue.length);
  }
}
