import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HealthServer } from './health.js';
import { createMetrics } from './metrics.js';

async function get(port: number, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') };
}

describe('HealthServer', () => {
  it('serves /healthz, /readyz and /metrics on the bound port', async () => {
    const metrics = createMetrics();
    metrics.reconcileTotal.inc({ controller: 'tracejob', result: 'success' });
    const server = new HealthServer({ port: 0, host: '127.0.0.1', registry: metrics.registry });
    let ready: true | string = 'informers not synced';
    let alive: true | string = true;
    server.addLiveness('informers', () => alive);
    server.addReadiness('informers', () => ready);
    const port = await server.start();
    try {
      assert.ok(port > 0);
      assert.equal(server.port(), port);
      assert.deepEqual(await get(port, '/healthz'), { status: 200, body: 'ok\n', type: 'text/plain' });

      const notReady = await get(port, '/readyz');
      assert.equal(notReady.status, 503);
      assert.match(notReady.body, /\[-\]informers failed: informers not synced/);
      ready = true;
      assert.equal((await get(port, '/readyz')).status, 200);
      assert.match((await get(port, '/readyz?verbose')).body, /\[\+\]informers ok/);

      alive = 'no watch activity';
      assert.equal((await get(port, '/healthz')).status, 503);

      const m = await get(port, '/metrics');
      assert.equal(m.status, 200);
      assert.match(m.body, /tracejob_reconcile_total\{controller="tracejob",result="success"\} 1/);
      assert.match(m.body, /# TYPE tracejob_workqueue_depth gauge/);
      assert.match(m.body, /# TYPE tracejob_watch_restarts_total counter/);
      assert.match(m.body, /# TYPE tracejob_reconcile_duration_seconds histogram/);
      assert.match(m.body, /process_resident_memory_bytes/);

      assert.equal((await get(port, '/nope')).status, 404);
    } finally {
      await server.close();
    }
  });

  it('a check that throws fails the probe instead of crashing the server', async () => {
    const server = new HealthServer({ port: 0, host: '127.0.0.1' });
    server.addLiveness('broken', () => {
      throw new Error('boom');
    });
    const port = await server.start();
    try {
      const res = await get(port, '/healthz');
      assert.equal(res.status, 503);
      assert.match(res.body, /check threw: boom/);
    } finally {
      await server.close();
    }
  });
});
