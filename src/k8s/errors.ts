// Typed API errors. client-node 1.x throws ApiException{code, body} where body
// is usually the Status as a JSON *string* (sometimes an object, sometimes
// undefined or HTML from a proxy). parseApiError turns all of that into one
// class per case the operator acts on, keeping the server's reason, message
// and, for 422, the per-field causes.

/** One entry of Status.details.causes (a 422 names the offending fields here). */
export interface StatusCause {
  field?: string;
  reason?: string;
  message?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** Any error response from the API server. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    /** HTTP status (0 when unknown). */
    readonly code: number,
    /** Status.reason, e.g. "NotFound", "Conflict", "Invalid" ('' if none). */
    readonly reason: string,
    message: string,
    readonly details: StatusDetails | undefined = undefined,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** 404 */
export class NotFoundError extends ApiError {
  override name = 'NotFoundError';
}
/** 409 from optimistic concurrency: the resourceVersion we wrote with is stale. */
export class ConflictError extends ApiError {
  override name = 'ConflictError';
}
/** 409 with reason AlreadyExists: create of a name that is taken. */
export class AlreadyExistsError extends ApiError {
  override name = 'AlreadyExistsError';
}
/** 410: resourceVersion too old (watch/list must restart from scratch). */
export class GoneError extends ApiError {
  override name = 'GoneError';
}
/** 403: RBAC said no. */
export class ForbiddenError extends ApiError {
  override name = 'ForbiddenError';
}
/** 422: validation failed; `causes` says which fields and why. */
export class InvalidError extends ApiError {
  override name = 'InvalidError';
  get causes(): StatusCause[] {
    return this.details?.causes ?? [];
  }
}

interface StatusLike {
  code?: unknown;
  reason?: unknown;
  message?: unknown;
  details?: unknown;
}

function asStatus(body: unknown): StatusLike | undefined {
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      return typeof parsed === 'object' && parsed !== null ? (parsed as StatusLike) : undefined;
    } catch {
      return undefined;
    }
  }
  return typeof body === 'object' && body !== null ? (body as StatusLike) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function readDetails(v: unknown): StatusDetails | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const d = v as Record<string, unknown>;
  const causes = Array.isArray(d['causes'])
    ? (d['causes'] as unknown[])
        .filter((c): c is Record<string, unknown> => typeof c === 'object' && c !== null)
        .map((c) => ({ field: str(c['field']), reason: str(c['reason']), message: str(c['message']) }))
    : undefined;
  const retry = d['retryAfterSeconds'];
  return {
    name: str(d['name']),
    group: str(d['group']),
    kind: str(d['kind']),
    causes,
    retryAfterSeconds: typeof retry === 'number' ? retry : undefined,
  };
}

/** Builds the typed error for an HTTP status and Status fields. */
export function apiErrorFor(code: number, reason: string, message: string, details?: StatusDetails, cause?: unknown): ApiError {
  const opts = { cause };
  switch (code) {
    case 404:
      return new NotFoundError(code, reason || 'NotFound', message, details, opts);
    case 409:
      return reason === 'AlreadyExists'
        ? new AlreadyExistsError(code, reason, message, details, opts)
        : new ConflictError(code, reason || 'Conflict', message, details, opts);
    case 410:
      return new GoneError(code, reason || 'Gone', message, details, opts);
    case 403:
      return new ForbiddenError(code, reason || 'Forbidden', message, details, opts);
    case 422:
      return new InvalidError(code, reason || 'Invalid', message, details, opts);
    default:
      return new ApiError(code, reason, message, details, opts);
  }
}

/**
 * Normalises anything thrown by client-node (ApiException, a watch's HTTP
 * error with statusCode, a Status object from a watch ERROR event) into an
 * ApiError subclass. Errors that are not API responses (network failures,
 * bugs) come back unchanged, so callers can always `throw parseApiError(e)`.
 */
export function parseApiError(e: unknown): Error {
  if (e instanceof ApiError) return e;
  if (typeof e !== 'object' || e === null) return new Error(String(e));
  const obj = e as { code?: unknown; statusCode?: unknown; body?: unknown; kind?: unknown; message?: unknown };

  // A Status object itself (watch ERROR events carry one).
  if (obj.kind === 'Status' && typeof obj.code === 'number') {
    const s = obj as StatusLike;
    return apiErrorFor(obj.code, str(s.reason) ?? '', str(s.message) ?? `HTTP ${obj.code}`, readDetails(s.details));
  }

  const code = typeof obj.code === 'number' ? obj.code : typeof obj.statusCode === 'number' ? obj.statusCode : undefined;
  // ApiException always has `body` (possibly undefined); node errors have string codes like ECONNRESET.
  if (code === undefined || !('body' in obj || 'statusCode' in obj)) {
    return e instanceof Error ? e : new Error(String(str(obj.message) ?? 'unknown error'));
  }
  const status = asStatus(obj.body);
  const reason = str(status?.reason) ?? '';
  let message = str(status?.message);
  if (!message) {
    const raw = typeof obj.body === 'string' ? obj.body.trim().slice(0, 200) : '';
    message = raw ? `HTTP ${code}: ${raw}` : `HTTP ${code}`;
  }
  return apiErrorFor(code, reason, message, readDetails(status?.details), e);
}

export const isNotFound = (e: unknown): boolean => parseApiError(e) instanceof NotFoundError;
export const isConflict = (e: unknown): boolean => parseApiError(e) instanceof ConflictError;
export const isAlreadyExists = (e: unknown): boolean => parseApiError(e) instanceof AlreadyExistsError;
export const isGone = (e: unknown): boolean => parseApiError(e) instanceof GoneError;
export const isForbidden = (e: unknown): boolean => parseApiError(e) instanceof ForbiddenError;
export const isInvalid = (e: unknown): boolean => parseApiError(e) instanceof InvalidError;

/** Runs an API call and rethrows its error typed. */
export async function wrapApi<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (e) {
    throw parseApiError(e);
  }
}

/** Resolves undefined instead of throwing NotFound; other errors rethrown typed. */
export async function ignoreNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (e) {
    const err = parseApiError(e);
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
}
