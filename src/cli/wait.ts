// Waiting for a TraceJob to finish, with a live progress line: polls the
// object (cheap, survives API server hiccups and operator restarts), redraws
// the line more often than it polls so the bar and remaining time move
// smoothly. On a terminal it rewrites one line; elsewhere (CI logs, pipes) it
// prints a line only when the phase or reached conditions change.
import type { TraceJob } from '../api/tracejob.js';
import { NotFoundError } from '../k8s/errors.js';
import { progressKey, progressLine, statusIsCurrent } from './format.js';

export interface WaitDeps {
  fetch: () => Promise<TraceJob>;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Progress output (stderr); undefined for quiet waiting. */
  progress?: { write: (s: string) => void; isTTY: boolean };
}

export interface WaitOptions {
  durationMs: number;
  timeoutMs: number;
  pollMs?: number;
  tickMs?: number;
  /** Consecutive failed polls tolerated before giving up (default 10). */
  maxErrors?: number;
}

export type WaitOutcome = { kind: 'finished'; tj: TraceJob } | { kind: 'timeout'; tj: TraceJob | undefined };

export function isFinished(tj: TraceJob): boolean {
  return statusIsCurrent(tj) && (tj.status?.phase === 'Succeeded' || tj.status?.phase === 'Failed');
}

export async function waitForTraceJob(deps: WaitDeps, o: WaitOptions): Promise<WaitOutcome> {
  const pollMs = o.pollMs ?? 1000;
  const tickMs = Math.min(o.tickMs ?? 250, pollMs);
  const maxErrors = o.maxErrors ?? 10;
  const start = deps.now();
  const out = deps.progress;
  let last: TraceJob | undefined;
  let lastKey = '';
  let errors = 0;
  let nextPoll = start;
  const draw = (final: boolean): void => {
    if (!out || !last) return;
    const now = deps.now();
    const line = progressLine(last, o.durationMs, now, { waitStartedMs: start });
    if (out.isTTY) {
      out.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    } else {
      const key = progressKey(last, o.durationMs, now);
      if (key !== lastKey || final) {
        if (key !== lastKey) out.write(`${line}\n`);
        lastKey = key;
      }
    }
  };
  for (;;) {
    const now = deps.now();
    if (now >= nextPoll) {
      nextPoll = now + pollMs;
      try {
        last = await deps.fetch();
        errors = 0;
      } catch (e) {
        if (e instanceof NotFoundError) throw e;
        errors++;
        if (errors >= maxErrors) throw e;
      }
      if (last && isFinished(last)) {
        draw(true);
        return { kind: 'finished', tj: last };
      }
    }
    draw(false);
    if (deps.now() - start >= o.timeoutMs) {
      if (out?.isTTY && last) out.write('\n');
      return { kind: 'timeout', tj: last };
    }
    await deps.sleep(tickMs);
  }
}
