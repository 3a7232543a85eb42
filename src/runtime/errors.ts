// The two error types a reconciler throws to tell the controller what to do
// next. Anything else thrown is treated like a TemporaryError: an unexpected
// failure is usually transient (API hiccup, stale cache), and retrying with
// backoff is the safe default for a level-based reconciler.

export interface TemporaryErrorOptions {
  /** Retry after exactly this delay instead of the per-key exponential backoff. */
  requeueAfterMs?: number;
  cause?: unknown;
}

/** Retry the key later: with the queue's exponential backoff, or after requeueAfterMs. */
export class TemporaryError extends Error {
  override readonly name = 'TemporaryError';
  readonly requeueAfterMs: number | undefined;

  constructor(message: string, options: TemporaryErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.requeueAfterMs = options.requeueAfterMs;
  }
}

/**
 * Retrying cannot help (invalid spec, permanent refusal). The controller logs
 * it, forgets the key's backoff and waits for the next change to the object.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}
