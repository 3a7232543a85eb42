import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceJob } from '../api/tracejob.js';
import { boundDocument, parseResultDocument } from '../results/document.js';
import { buildResultConfigMap } from './collect.js';

const tj = { apiVersion: 'tracing.tracejob.dev/v1alpha1', kind: 'TraceJob', metadata: { namespace: 'ns', name: 'tj', uid: 'u', generation: 1 }, spec: {} } as unknown as TraceJob;

describe('buildResultConfigMap', () => {
  it("lists the agent's own cut first among the truncations (for the status message)", () => {
    const doc = parseResultDocument({
      probe: 'fileOpens',
      tracer: { name: 'bpftrace', version: '0.17.0' },
      startedAt: '2026-01-01T00:00:00.000Z',
      finishedAt: '2026-01-01T00:00:10.000Z',
      durationSeconds: 10,
      events: Array.from({ length: 20000 }, (_, i) => ({ path: `/tmp/${i}-${'y'.repeat(190)}`, ret: -2 })),
    });
    const bounded = boundDocument(doc, 2 * 1024 * 1024);
    const built = buildResultConfigMap(tj, [{ node: 'n1', job: 'j', verdict: { state: 'succeeded' }, document: bounded.document as unknown as Record<string, unknown> }]);
    assert.match(built.truncated[0] ?? '', /^cut to fit the agent's output limit \(2 MiB\): events cut from 20000 to \d+/);
    assert.ok(built.truncated.slice(1).some((t) => /events cut/.test(t)), 'then the ConfigMap fit');
    const size = Object.entries(built.configMap.data ?? {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    assert.ok(size <= 900 * 1024);
  });
});
