// Events the operator records may quote tracer output; `kubectl get events`
// shows their message in a column, so it goes out as one escaped line.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { TraceJob } from '../api/tracejob.js';
import { ApiTraceJobPort } from './tracejob-port.js';
import { FakeApiServer, json } from './testing.js';

const server = new FakeApiServer();
before(() => server.start());
after(() => server.close());

test('event(): the message is escaped (control, bidi, newline) on the wire', async () => {
  server.routes = [(req, res) => req.method === 'POST' && req.path === '/api/v1/namespaces/shop/events' && json(res, 201, JSON.parse(req.body))];
  const port = new ApiTraceJobPort(server.kubeConfig(), 'tracejob-system');
  const tj = { apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { name: 'tj', namespace: 'shop', uid: 'u-1' }, spec: {} } as unknown as TraceJob;
  await port.event(tj, 'Warning', 'TracerFailed', 'bpftrace exited: open \x1b]0;pwned\x07\x1b[2J evil\u202E\nline 2');
  const sent = server.requests.find((r) => r.method === 'POST');
  assert.ok(sent, 'no event was posted');
  const body = JSON.parse(sent.body) as { message: string; reason: string };
  assert.equal(body.reason, 'TracerFailed');
  assert.equal(body.message, 'bpftrace exited: open \\x1b]0;pwned\\x07\\x1b[2J evil\\u202e\\nline 2');
});
