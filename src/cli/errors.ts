// Exit codes a script can trust, and the mapping from any error to one.
//
//   0  success (for run --wait / wait / report: the TraceJob Succeeded)
//   1  the TraceJob Failed (its reason and message are printed on stderr)
//   2  usage or validation error: bad flags, bad probe params (checked locally
//      before anything is created), a spec the API server rejects (422), a
//      name that is already taken
//   3  API or connection error: API server unreachable, forbidden, not found
//   4  timed out waiting (or `report` on a TraceJob that has not finished)
import { AlreadyExistsError, ApiError, InvalidError, NotFoundError } from '../k8s/errors.js';
import { parseApiError } from '../k8s/errors.js';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  api: 3,
  timeout: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line on stderr, with a chosen exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export const usageError = (message: string): CliError => new CliError(message, EXIT.usage);

/** The exit code and the one-line message for anything thrown by a command. */
export function describeError(e: unknown): { code: ExitCode; message: string } {
  if (e instanceof CliError) return { code: e.exitCode, message: e.message };
  const err = parseApiError(e);
  if (err instanceof InvalidError) {
    const causes = err.causes.map((c) => `${c.field ?? ''}: ${c.message ?? c.reason ?? ''}`.replace(/^: /, '')).filter(Boolean);
    return { code: EXIT.usage, message: `rejected by the API server: ${causes.length > 0 ? causes.join('; ') : err.message}` };
  }
  if (err instanceof AlreadyExistsError) return { code: EXIT.usage, message: err.message };
  if (err instanceof NotFoundError) return { code: EXIT.api, message: err.message };
  if (err instanceof ApiError) return { code: EXIT.api, message: `API error (${err.code}${err.reason ? ` ${err.reason}` : ''}): ${err.message}` };
  const cause = (err as { cause?: { code?: unknown } }).cause;
  const code = (err as { code?: unknown }).code ?? cause?.code;
  const network = typeof code === 'string' || err.name === 'FetchError' || /fetch failed|socket|ECONN|certificate/i.test(err.message);
  if (network) return { code: EXIT.api, message: `cannot reach the API server${typeof code === 'string' ? ` (${code})` : ''}: ${err.message}` };
  return { code: EXIT.api, message: err.message };
}
