// Public surface of the API-server layer: the only code that calls the API server.
export { Kube, loadKubeConfig, FIELD_MANAGER, type ObjectRef, type CustomResourceRef, type ListFilter, type EventInput } from './client.js';
export {
  ApiError,
  NotFoundError,
  ConflictError,
  AlreadyExistsError,
  GoneError,
  ForbiddenError,
  InvalidError,
  type StatusCause,
  type StatusDetails,
  parseApiError,
  apiErrorFor,
  isNotFound,
  isConflict,
  isAlreadyExists,
  isGone,
  isForbidden,
  isInvalid,
  wrapApi,
  ignoreNotFound,
} from './errors.js';
export { ApiListWatcher, type ListWatchOptions, getJson } from './listwatch.js';
export { leaseClient } from './lease.js';
