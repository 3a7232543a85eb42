import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiException } from '@kubernetes/client-node';
import {
  AlreadyExistsError,
  ApiError,
  ConflictError,
  ForbiddenError,
  GoneError,
  InvalidError,
  NotFoundError,
  ignoreNotFound,
  isConflict,
  isGone,
  isInvalid,
  isNotFound,
  parseApiError,
} from './errors.js';

function status(code: number, reason: string, message: string, details?: object): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message, ...(details ? { details } : {}) };
}

const invalidDetails = {
  name: 'tj1',
  group: 'tracing.tracejob.dev',
  kind: 'TraceJob',
  causes: [
    { reason: 'FieldValueInvalid', message: 'Invalid value: "0s": must be at least 1s', field: 'spec.duration' },
    { reason: 'FieldValueRequired', message: 'Required value', field: 'spec.probe.type' },
  ],
};

const cases: Array<{ name: string; code: number; body: Record<string, unknown>; type: new (...a: never[]) => ApiError; reason: string; message: string }> = [
  { name: '404', code: 404, body: status(404, 'NotFound', 'pods "x" not found', { name: 'x', kind: 'pods' }), type: NotFoundError, reason: 'NotFound', message: 'pods "x" not found' },
  {
    name: '409 conflict',
    code: 409,
    body: status(409, 'Conflict', 'Operation cannot be fulfilled on leases.coordination.k8s.io "l": the object has been modified'),
    type: ConflictError,
    reason: 'Conflict',
    message: 'Operation cannot be fulfilled on leases.coordination.k8s.io "l": the object has been modified',
  },
  { name: '409 already exists', code: 409, body: status(409, 'AlreadyExists', 'jobs.batch "j" already exists'), type: AlreadyExistsError, reason: 'AlreadyExists', message: 'jobs.batch "j" already exists' },
  { name: '410', code: 410, body: status(410, 'Expired', 'too old resource version: 1 (200)'), type: GoneError, reason: 'Expired', message: 'too old resource version: 1 (200)' },
  { name: '403', code: 403, body: status(403, 'Forbidden', 'jobs.batch is forbidden: User "system:serviceaccount:x:y" cannot create resource'), type: ForbiddenError, reason: 'Forbidden', message: 'jobs.batch is forbidden: User "system:serviceaccount:x:y" cannot create resource' },
  { name: '422', code: 422, body: status(422, 'Invalid', 'TraceJob.tracing.tracejob.dev "tj1" is invalid: spec.duration: Invalid value', invalidDetails), type: InvalidError, reason: 'Invalid', message: 'TraceJob.tracing.tracejob.dev "tj1" is invalid: spec.duration: Invalid value' },
  { name: '500', code: 500, body: status(500, 'InternalError', 'etcdserver: request timed out'), type: ApiError, reason: 'InternalError', message: 'etcdserver: request timed out' },
];

describe('parseApiError', () => {
  for (const c of cases) {
    for (const form of ['string', 'object'] as const) {
      it(`${c.name} with the body as ${form === 'string' ? 'a JSON string' : 'an object'}`, () => {
        const body = form === 'string' ? JSON.stringify(c.body) : c.body;
        const err = parseApiError(new ApiException(c.code, 'Unknown API Status Code!', body, {}));
        assert.ok(err instanceof c.type, `${err.constructor.name} is not ${c.type.name}`);
        assert.ok(err instanceof ApiError);
        const api = err as ApiError;
        assert.equal(api.code, c.code);
        assert.equal(api.reason, c.reason);
        assert.equal(api.message, c.message);
        assert.ok(api.cause instanceof ApiException, 'keeps the original as cause');
      });
    }
  }

  it('keeps 422 causes (field, reason, message)', () => {
    const err = parseApiError(new ApiException(422, 'x', JSON.stringify(status(422, 'Invalid', 'bad', invalidDetails)), {}));
    assert.ok(err instanceof InvalidError);
    assert.deepEqual(err.causes, invalidDetails.causes);
    assert.equal(err.details?.kind, 'TraceJob');
  });

  it('exact classes: a 404 is not a conflict and vice versa', () => {
    const nf = new ApiException(404, 'x', '{}', {});
    assert.equal(isNotFound(nf), true);
    assert.equal(isConflict(nf), false);
    const cf = new ApiException(409, 'x', JSON.stringify(status(409, 'Conflict', 'm')), {});
    assert.equal(isConflict(cf), true);
    assert.equal(isNotFound(cf), false);
    assert.equal(isConflict(new ApiException(409, 'x', JSON.stringify(status(409, 'AlreadyExists', 'm')), {})), false);
  });

  it('tolerates garbage and missing bodies', () => {
    const html = parseApiError(new ApiException(502, 'x', '<html>Bad Gateway</html>', {}));
    assert.ok(html instanceof ApiError);
    assert.equal((html as ApiError).code, 502);
    assert.match(html.message, /HTTP 502: <html>Bad Gateway/);

    const none = parseApiError(new ApiException(401, 'Unauthorized', undefined, {}));
    assert.equal((none as ApiError).code, 401);
    assert.equal(none.message, 'HTTP 401');

    const notFoundNoStatus = parseApiError(new ApiException(404, 'x', 'not json {', {}));
    assert.ok(notFoundNoStatus instanceof NotFoundError);
    assert.equal((notFoundNoStatus as ApiError).reason, 'NotFound');

    const weird = parseApiError(new ApiException(422, 'x', JSON.stringify({ details: { causes: [null, 5, { field: 3 }] } }), {}));
    assert.ok(weird instanceof InvalidError);
    assert.deepEqual(weird.causes, [{ field: undefined, reason: undefined, message: undefined }]);
  });

  it('parses a watch ERROR Status object and a watch HTTP error', () => {
    assert.ok(parseApiError(status(410, 'Expired', 'too old')) instanceof GoneError);
    assert.equal(isGone(Object.assign(new Error('Gone'), { statusCode: 410 })), true);
  });

  it('passes non-API errors through unchanged', () => {
    const net = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.equal(parseApiError(net), net);
    assert.ok(parseApiError('weird') instanceof Error);
    assert.equal(isInvalid(net), false);
  });

  it('ignoreNotFound maps 404 to undefined and rethrows the rest typed', async () => {
    assert.equal(await ignoreNotFound(Promise.reject(new ApiException(404, 'x', '', {}))), undefined);
    assert.equal(await ignoreNotFound(Promise.resolve(7)), 7);
    const forbidden = new ApiException(403, 'x', JSON.stringify(status(403, 'Forbidden', 'no')), {});
    await assert.rejects(ignoreNotFound(Promise.reject(forbidden)), ForbiddenError);
  });
});
