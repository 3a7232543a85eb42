// An informer keeps a local cache of one resource in sync with the API server
// and tells handlers what changed. The loop, hardened against what goes wrong
// with long-lived watches in practice:
//
//   list ──► watch from the list's resourceVersion (bookmarks on)
//     ▲        │ ADDED/MODIFIED/DELETED → cache + handlers; BOOKMARK → RV only
//     │        ├ 410 Gone (HTTP or ERROR event) → relist, diff against cache
//     │        ├ silence for inactivityTimeout → abort, re-watch from last RV
//     │        │   (watches can stall silently; bookmarks arrive ~every 60 s)
//     │        ├ clean close with events → re-watch at once
//     └────────┴ error / unproductive close → capped exponential backoff + jitter
//
// plus a periodic resync that re-emits every cached object as an update so a
// level-based reconciler revisits everything even if an event was lost.
// The transport is a ListWatcher so tests can script the server.

import { type Clock, type TimerHandle, realClock } from './clock.js';
import { type Logger, silentLogger } from './logger.js';
import type { Metrics } from './metrics.js';
import { type KubeObject, Store, objectKey } from './store.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchHandle {
  /** Stops the watch. onDone is not required to fire after abort(). */
  abort(): void;
}

/** The transport: one list, and watches from a resourceVersion. */
export interface ListWatcher<T> {
  /** A full, consistent list and the resourceVersion it was read at. Errors reject (410 via `code`/`statusCode`). */
  list(): Promise<ListResult<T>>;
  /**
   * Starts a watch from resourceVersion (with bookmarks). onEvent gets each
   * event; onDone fires once when the stream ends: no argument for a clean
   * close, the error otherwise (HTTP 410 as an error with code/statusCode 410).
   */
  watch(resourceVersion: string, onEvent: (type: string, obj: unknown) => void, onDone: (err?: unknown) => void): WatchHandle;
}

export interface InformerHandlers<T> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions<T> {
  /** Resource name for logs and the watch-restarts metric, e.g. "tracejobs". */
  resource: string;
  listWatcher: ListWatcher<T>;
  clock?: Clock;
  logger?: Logger;
  /** Re-emit every cached object as an update this often. Default 5 min; 0 disables. */
  resyncPeriodMs?: number;
  /** Restart a watch that delivered nothing (not even a bookmark) for this long. Default 70 s. */
  inactivityTimeoutMs?: number;
  /** Give up on a list call after this long. Default 60 s. */
  listTimeoutMs?: number;
  /** Reconnect backoff: base·2^n capped at max, ±jitter. Defaults 500 ms, 30 s, 0.2. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  jitter?: number;
  /** Source of randomness for jitter (tests pin it). */
  random?: () => number;
  /** Counts watch restarts as tracejob_watch_restarts_total{resource}. */
  metrics?: Metrics;
  /** Called every time a watch ends and another is started. */
  onWatchRestart?(reason: WatchEndReason): void;
}

export type WatchEndReason = 'closed' | 'error' | 'gone' | 'stalled';

type WatchOutcome = { reason: WatchEndReason | 'stopped'; events: number; err?: unknown };

/** The HTTP status carried by an error or Status object, if any. */
function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

/** A log-friendly message for an Error, a Status object from an ERROR event, or anything else. */
function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  const m = (err as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : JSON.stringify(err) ?? String(err);
}

export class Informer<T extends KubeObject> {
  readonly store = new Store<T>();
  readonly resource: string;

  private readonly lw: ListWatcher<T>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly resyncPeriodMs: number;
  private readonly inactivityTimeoutMs: number;
  private readonly listTimeoutMs: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly onWatchRestart: (reason: WatchEndReason) => void;

  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private synced = false;
  private syncWaiters: Array<(ok: boolean) => void> = [];
  private running = false;
  private stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private stopCurrentWatch: (() => void) | undefined;
  private resyncTimer: TimerHandle | undefined;
  private failures = 0;
  private lastActivityMs: number;

  constructor(options: InformerOptions<T>) {
    this.resource = options.resource;
    this.lw = options.listWatcher;
    this.clock = options.clock ?? realClock;
    this.log = (options.logger ?? silentLogger).child({ component: 'informer', resource: options.resource });
    this.resyncPeriodMs = options.resyncPeriodMs ?? 5 * 60_000;
    this.inactivityTimeoutMs = options.inactivityTimeoutMs ?? 70_000;
    this.listTimeoutMs = options.listTimeoutMs ?? 60_000;
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
    this.onWatchRestart = (reason) => {
      options.metrics?.watchRestarts.inc({ resource: options.resource });
      options.onWatchRestart?.(reason);
    };
    this.lastActivityMs = this.clock.now();
  }

  /** Registers handlers. They must be quick and synchronous (enqueue a key); throws are logged and swallowed. */
  addHandlers(handlers: InformerHandlers<T>): this {
    this.handlers.push(handlers);
    return this;
  }

  /** Starts list+watch in the background. Never rejects; errors are retried forever. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopController = new AbortController();
    this.loop = this.run().catch((err: unknown) => {
      // run() handles its own errors; reaching here is a bug, but never an unhandled rejection.
      this.log.error({ err }, 'Informer loop crashed');
    });
    this.scheduleResync();
  }

  /** Stops the watch and the loop; resolves when the loop has exited. The cache is kept. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort();
    this.stopCurrentWatch?.();
    this.resyncTimer?.cancel();
    this.resyncTimer = undefined;
    await this.loop;
    this.loop = undefined;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w(this.synced);
  }

  /** True once the first list has been applied to the cache and handlers called. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, or false if the informer is stopped or signal aborts first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = (): void => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== done);
        resolve(false);
      };
      this.syncWaiters.push(done);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The resourceVersion the next watch would start from. */
  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  /**
   * When the loop last did something: a list or watch attempt, or an event.
   * A live loop touches this at least every inactivityTimeout + backoffMax,
   * so an old value means the informer is wedged (health check).
   */
  lastActivity(): number {
    return this.lastActivityMs;
  }

  private touch(): void {
    this.lastActivityMs = this.clock.now();
  }

  private async run(): Promise<void> {
    let needList = true;
    while (this.running) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
        } catch (err) {
          if (!this.running) break;
          const delay = this.nextBackoff();
          this.log.warn({ err: errorMessage(err), retryInMs: delay }, 'List failed');
          await this.clock.sleep(delay, this.stopController.signal);
          continue;
        }
      }

      const outcome = await this.watchOnce();
      if (!this.running || outcome.reason === 'stopped') break;
      this.onWatchRestart(outcome.reason);
      if (outcome.events > 0) this.failures = 0;

      let delay = 0;
      switch (outcome.reason) {
        case 'gone':
          needList = true;
          // An immediate 410 is normal after a disconnect (the RV was compacted);
          // repeated unproductive ones mean something is off, so back off.
          if (outcome.events === 0) {
            if (this.failures > 0) delay = this.nextBackoff();
            else this.failures++;
          }
          this.log.info({ resourceVersion: this.resourceVersion }, 'Watch expired (410 Gone), relisting');
          break;
        case 'stalled':
          // The watchdog already waited inactivityTimeout; retry at once.
          this.log.warn({ resourceVersion: this.resourceVersion, inactivityMs: this.inactivityTimeoutMs }, 'Watch went silent, restarting');
          break;
        case 'closed':
          if (outcome.events === 0) delay = this.nextBackoff();
          this.log.debug({ resourceVersion: this.resourceVersion, retryInMs: delay }, 'Watch closed, restarting');
          break;
        case 'error':
          delay = this.nextBackoff();
          this.log.warn({ err: errorMessage(outcome.err), retryInMs: delay }, 'Watch failed, reconnecting');
          break;
      }
      if (delay > 0) await this.clock.sleep(delay, this.stopController.signal);
    }
  }

  /** Backoff for the current failure streak, then lengthens the streak. */
  private nextBackoff(): number {
    const raw = Math.min(this.backoffBaseMs * 2 ** this.failures, this.backoffMaxMs);
    this.failures++;
    const factor = 1 - this.jitter + 2 * this.jitter * this.random();
    return Math.round(Math.min(raw * factor, this.backoffMaxMs));
  }

  /** Lists, replaces the cache, and fires add/update/delete for the differences. */
  private async relist(): Promise<void> {
    this.touch();
    const result = await this.withTimeout(this.lw.list(), this.listTimeoutMs, 'list');
    this.touch();
    const fresh = new Map<string, T>();
    for (const item of result.items) {
      if (!item.metadata?.name) continue;
      fresh.set(objectKey(item), item);
    }
    const added: T[] = [];
    const updated: Array<[T, T]> = [];
    const deleted: T[] = [];
    for (const [key, item] of fresh) {
      const old = this.store.get(key);
      if (!old) added.push(item);
      else if (old.metadata?.resourceVersion !== item.metadata?.resourceVersion) updated.push([old, item]);
      this.store.set(item);
    }
    for (const key of this.store.keys()) {
      if (fresh.has(key)) continue;
      const old = this.store.get(key);
      this.store.delete(key);
      // Deleted while we were not watching: a synthetic delete with the last state we saw.
      if (old) deleted.push(old);
    }
    this.resourceVersion = result.resourceVersion;
    this.log.debug({ items: fresh.size, resourceVersion: this.resourceVersion }, 'Listed');

    for (const obj of added) this.emit((h) => h.onAdd?.(obj));
    for (const [o, n] of updated) this.emit((h) => h.onUpdate?.(o, n));
    for (const obj of deleted) this.emit((h) => h.onDelete?.(obj));

    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w(true);
    }
  }

  /** Runs one watch until it ends, stalls, expires, or the informer stops. */
  private watchOnce(): Promise<WatchOutcome> {
    return new Promise((resolve) => {
      let events = 0;
      let settled = false;
      let handle: WatchHandle | undefined;
      let watchdog: TimerHandle | undefined;

      const finish = (reason: WatchOutcome['reason'], err?: unknown): void => {
        if (settled) return;
        settled = true;
        watchdog?.cancel();
        this.stopCurrentWatch = undefined;
        handle?.abort();
        resolve({ reason, events, err });
      };
      const arm = (): void => {
        watchdog?.cancel();
        watchdog = this.clock.setTimeout(() => finish('stalled'), this.inactivityTimeoutMs);
      };

      this.stopCurrentWatch = () => finish('stopped');
      if (!this.running) {
        finish('stopped'); // stop() ran between the list and this watch
        return;
      }
      this.touch();
      arm();
      try {
        handle = this.lw.watch(
          this.resourceVersion,
          (type, obj) => {
            // Late events from a watch we already abandoned must not touch the cache.
            if (settled) return;
            if (type === 'ERROR') {
              const code = statusCode(obj);
              finish(code === 410 ? 'gone' : 'error', obj);
              return;
            }
            events++;
            this.touch();
            arm();
            this.apply(type, obj);
          },
          (err) => {
            if (err === undefined || err === null) finish('closed');
            else finish(statusCode(err) === 410 ? 'gone' : 'error', err);
          },
        );
      } catch (err) {
        finish('error', err);
      }
      // onDone may have fired synchronously before we got the handle.
      if (settled) handle?.abort();
    });
  }

  /** Applies one watch event to the cache and tells the handlers. */
  private apply(type: string, raw: unknown): void {
    const obj = raw as T;
    const rv = obj?.metadata?.resourceVersion;
    if (type === 'BOOKMARK') {
      if (rv) this.resourceVersion = rv;
      return;
    }
    if (!obj?.metadata?.name) {
      this.log.warn({ type }, 'Ignored watch event without metadata.name');
      return;
    }
    const key = objectKey(obj);
    const old = this.store.get(key);
    switch (type) {
      case 'ADDED':
      case 'MODIFIED':
        this.store.set(obj);
        if (!old) this.emit((h) => h.onAdd?.(obj));
        // Same resourceVersion = same object (e.g. replayed after a reconnect): no news.
        else if (old.metadata?.resourceVersion !== rv) this.emit((h) => h.onUpdate?.(old, obj));
        break;
      case 'DELETED':
        this.store.delete(key);
        if (old) this.emit((h) => h.onDelete?.(obj));
        break;
      default:
        this.log.warn({ type }, 'Ignored unknown watch event type');
        return;
    }
    if (rv) this.resourceVersion = rv;
  }

  private emit(call: (h: InformerHandlers<T>) => void): void {
    for (const h of this.handlers) {
      try {
        call(h);
      } catch (err) {
        this.log.error({ err }, 'Informer handler threw');
      }
    }
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs <= 0 || !this.running) return;
    this.resyncTimer = this.clock.setTimeout(() => {
      if (!this.running) return;
      if (this.synced) {
        for (const obj of this.store.list()) this.emit((h) => h.onUpdate?.(obj, obj));
      }
      this.scheduleResync();
    }, this.resyncPeriodMs);
  }

  /** Rejects if p takes longer than ms or the informer stops; the late result is discarded. */
  private withTimeout<R>(p: Promise<R>, ms: number, what: string): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const signal = this.stopController.signal;
      const onAbort = (): void => {
        timer.cancel();
        reject(new Error(`${what} aborted: informer stopped`));
      };
      const timer = this.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        reject(new Error(`${what} timed out after ${ms} ms`));
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          timer.cancel();
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (err: unknown) => {
          timer.cancel();
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }
}
