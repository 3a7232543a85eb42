// The Argo CD health check (docs/gitops/argocd-health.lua) run by a real Lua
// interpreter against sample TraceJobs — and, when the local cluster is up,
// against every TraceJob in it. Argo CD runs gopher-lua (Lua 5.1), so the
// script runs on every interpreter found: lua5.1 and lua5.4 (apt packages).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { clusterReachable, kubectl } from '../lib/kube.js';

const SCRIPT = 'docs/gitops/argocd-health.lua';
const has = (l: string): boolean => spawnSync(l, ['-v'], { encoding: 'utf8' }).status === 0;
const versioned = ['lua5.1', 'lua5.4'].filter(has);
const interpreters = versioned.length > 0 ? versioned : ['lua'].filter(has);

/** A JSON value as a Lua table constructor (what Argo CD hands the script as `obj`). */
export function toLua(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `{${v.map(toLua).join(', ')}}`;
  return `{${Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined && x !== null)
    .map(([k, x]) => `[${JSON.stringify(k)}] = ${toLua(x)}`)
    .join(', ')}}`;
}

function health(lua: string, obj: unknown): { status: string; message: string } {
  const driver = `obj = ${toLua(obj)}\nlocal hs = dofile(${JSON.stringify(SCRIPT)})\nio.write(tostring(hs.status), "\\t", tostring(hs.message))`;
  const r = spawnSync(lua, ['-e', driver], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${lua}: ${r.stderr}`);
  const [status = '', message = ''] = r.stdout.split('\t');
  return { status, message };
}

const cond = (type: string, reason: string, message: string, status = 'True') => ({ type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z', observedGeneration: 1 });
const tj = (status: Record<string, unknown> | undefined, generation = 1) => ({
  apiVersion: 'tracing.tracejob.dev/v1alpha1',
  kind: 'TraceJob',
  metadata: { name: 'checkout-connects', namespace: 'shop', generation },
  spec: { target: { pod: { name: 'checkout' } }, probe: { type: 'tcpConnectLatency' }, duration: '10s' },
  ...(status ? { status } : {}),
});

const CASES: Array<{ what: string; obj: unknown; status: string; message: RegExp }> = [
  { what: 'no status yet', obj: tj(undefined), status: 'Progressing', message: /^Waiting for the tracejob operator to accept the TraceJob$/ },
  { what: 'status of an older generation (spec just edited)', obj: tj({ phase: 'Succeeded', observedGeneration: 1, summary: { headline: 'n=3' } }, 2), status: 'Progressing', message: /^Waiting for the tracejob operator to observe generation 2$/ },
  { what: 'status without observedGeneration', obj: tj({ phase: 'Pending' }), status: 'Progressing', message: /observe generation 1/ },
  { what: 'Pending, accepted', obj: tj({ phase: 'Pending', observedGeneration: 1, conditions: [cond('Accepted', 'Accepted', 'probe tcpConnectLatency for 10s')] }), status: 'Progressing', message: /^Pending \(Accepted: probe tcpConnectLatency for 10s\)$/ },
  {
    what: 'Running, attached',
    obj: tj({ phase: 'Running', observedGeneration: 1, conditions: [cond('Accepted', 'Accepted', 'ok'), cond('NodeJobCreated', 'Created', 'tj-1'), cond('Attached', 'Attached', 'bpftrace v0.23.2 attached 1 probe(s)')] }),
    status: 'Progressing',
    message: /^Running \(Attached: bpftrace v0\.23\.2 attached 1 probe\(s\)\)$/,
  },
  { what: 'Running, attach still Unknown', obj: tj({ phase: 'Running', observedGeneration: 1, conditions: [cond('NodeJobCreated', 'Created', 'tj-1'), cond('Attached', 'Waiting', 'waiting', 'Unknown')] }), status: 'Progressing', message: /^Running \(Created: tj-1\)$/ },
  { what: 'an unknown future phase', obj: tj({ phase: 'Collecting', observedGeneration: 1 }), status: 'Progressing', message: /^Collecting$/ },
  { what: 'Succeeded', obj: tj({ phase: 'Succeeded', observedGeneration: 1, message: 'connections=25', summary: { headline: 'connections=25 p99=1.2ms' } }), status: 'Healthy', message: /^connections=25 p99=1\.2ms$/ },
  { what: 'Succeeded without a headline', obj: tj({ phase: 'Succeeded', observedGeneration: 1, message: 'done' }), status: 'Healthy', message: /^done$/ },
  {
    what: 'Failed: message is status.message',
    obj: tj({ phase: 'Failed', observedGeneration: 1, message: 'pod shop/checkout not found', conditions: [cond('Failed', 'PodNotFound', 'pod shop/checkout not found')] }),
    status: 'Degraded',
    message: /^pod shop\/checkout not found$/,
  },
  { what: 'Failed without status.message', obj: tj({ phase: 'Failed', observedGeneration: 1, conditions: [cond('Failed', 'PolicyDenied', 'custom programs are not allowed')] }), status: 'Degraded', message: /^PolicyDenied: custom programs are not allowed$/ },
  { what: 'newer status than the object (generation missing)', obj: { ...tj({ phase: 'Succeeded', observedGeneration: 3 }), metadata: { name: 'x', namespace: 'y' } }, status: 'Healthy', message: /^Trace finished$/ },
];

describe('Argo CD health check (Lua)', { skip: interpreters.length === 0 && 'no Lua interpreter (apt-get install lua5.1 lua5.4)' }, () => {
  for (const lua of interpreters) {
    test(`${lua}: Progressing / Healthy / Degraded`, () => {
      for (const c of CASES) {
        const h = health(lua, c.obj);
        assert.equal(h.status, c.status, `${c.what}: ${JSON.stringify(h)}`);
        assert.match(h.message, c.message, c.what);
      }
    });
  }

  test('the argocd-cm snippet embeds exactly docs/gitops/argocd-health.lua', () => {
    const cm = parseYaml(readFileSync('docs/gitops/argocd-cm.yaml', 'utf8')) as { metadata: { name: string }; data: Record<string, string> };
    assert.equal(cm.metadata.name, 'argocd-cm');
    assert.equal(cm.data['resource.customizations.health.tracing.tracejob.dev_TraceJob'], readFileSync(SCRIPT, 'utf8'));
  });

  test('agrees with the phase of every TraceJob in the local cluster', { skip: !clusterReachable() && 'local cluster not running' }, (t) => {
    const r = kubectl(['get', 'tracejobs', '-A', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const items = (JSON.parse(r.stdout) as { items: Array<{ metadata: { generation?: number }; status?: { phase?: string; observedGeneration?: number; message?: string } }> }).items;
    if (items.length === 0) return t.skip('no TraceJobs in the cluster');
    const lua = interpreters[0] as string;
    for (const item of items) {
      const h = health(lua, item);
      const current = item.status?.observedGeneration !== undefined && item.status.observedGeneration >= (item.metadata.generation ?? 0);
      const expected = !current ? 'Progressing' : item.status?.phase === 'Succeeded' ? 'Healthy' : item.status?.phase === 'Failed' ? 'Degraded' : 'Progressing';
      assert.equal(h.status, expected, JSON.stringify(item.status));
      if (expected === 'Degraded' && item.status?.message) assert.equal(h.message, item.status.message);
    }
  });
});
