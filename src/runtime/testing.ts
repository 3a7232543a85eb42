// Test doubles for the runtime's transports: a scriptable ListWatcher and an
// in-memory Lease with optimistic concurrency. Used by the runtime's own
// tests and available to reconciler tests.

import type { ListResult, ListWatcher, WatchHandle } from './informer.js';
import type { LeaseClient, LeaseRecord } from './leader.js';
import type { KubeObject } from './store.js';

export interface FakeWatch {
  resourceVersion: string;
  aborted: boolean;
  done: boolean;
  /** Delivers an event (ignored once aborted/done, like a real stream). */
  emit(type: string, obj: unknown): void;
  /** Ends the stream: cleanly without err, else with it. */
  close(err?: unknown): void;
}

/**
 * A scriptable ListWatcher. list() returns `objects` at `resourceVersion`
 * unless listImpl is set; each watch() is recorded in `watches` for the test
 * to drive, and onWatch (if set) runs right after a watch opens.
 */
export class FakeListWatcher<T extends KubeObject> implements ListWatcher<T> {
  objects: T[] = [];
  resourceVersion = '1';
  listCalls = 0;
  readonly watches: FakeWatch[] = [];
  listImpl: (() => Promise<ListResult<T>>) | undefined;
  onWatch: ((w: FakeWatch) => void) | undefined;

  async list(): Promise<ListResult<T>> {
    this.listCalls++;
    if (this.listImpl) return this.listImpl();
    return { items: this.objects.map((o) => structuredClone(o)), resourceVersion: this.resourceVersion };
  }

  watch(resourceVersion: string, onEvent: (type: string, obj: unknown) => void, onDone: (err?: unknown) => void): WatchHandle {
    const w: FakeWatch = {
      resourceVersion,
      aborted: false,
      done: false,
      emit: (type, obj) => {
        if (!w.aborted && !w.done) onEvent(type, obj);
      },
      close: (err) => {
        if (w.aborted || w.done) return;
        w.done = true;
        onDone(err);
      },
    };
    this.watches.push(w);
    this.onWatch?.(w);
    return {
      abort: () => {
        w.aborted = true;
      },
    };
  }

  /** The most recent watch. */
  lastWatch(): FakeWatch {
    const w = this.watches.at(-1);
    if (!w) throw new Error('no watch started');
    return w;
  }
}

/** An in-memory Lease with resourceVersion checks, shared by several electors. */
export class FakeLeaseStore {
  record: LeaseRecord | undefined;
  private rv = 0;
  /** Set to make every call fail (API server unreachable). */
  failing = false;
  /** Every write, for assertions. */
  readonly writes: LeaseRecord[] = [];

  client(): LeaseClient {
    const check = (): void => {
      if (this.failing) throw new Error('connection refused');
    };
    return {
      get: async () => {
        check();
        return this.record && { ...this.record };
      },
      create: async (r) => {
        check();
        if (this.record) return null;
        return this.write(r);
      },
      update: async (r) => {
        check();
        if (!this.record || r.resourceVersion !== this.record.resourceVersion) return null;
        return this.write(r);
      },
    };
  }

  private write(r: LeaseRecord): LeaseRecord {
    this.rv++;
    this.record = { ...r, resourceVersion: String(this.rv) };
    this.writes.push(this.record);
    return { ...this.record };
  }
}
