// The runtime against a real API server (the local cluster). Skips when the
// cluster's kubeconfig is missing or the server does not answer.
// Asserts the state of the world (ConfigMap annotations, the Lease), plus an
// in-memory record of reconcile intervals to catch any overlap between
// replicas.

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { type Server, type Socket, createServer, connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KubeConfig, type V1ConfigMap } from '@kubernetes/client-node';
import { Kube, loadKubeConfig } from '../k8s/client.js';
import { leaseClient } from '../k8s/lease.js';
import { ApiListWatcher } from '../k8s/listwatch.js';
import { Controller } from './controller.js';
import { Informer } from './informer.js';
import { Manager } from './manager.js';
import { createMetrics } from './metrics.js';
import { splitKey } from './store.js';

const KUBECONFIG = process.env['TRACEJOB_KUBECONFIG'] ?? '/var/lib/tracejob-cluster/kubeconfig';
const ANNOTATION = 'runtime-it.tracejob.dev/reconciled-by';

async function reachable(): Promise<{ kc: KubeConfig; kube: Kube } | string> {
  if (!existsSync(KUBECONFIG)) return `no kubeconfig at ${KUBECONFIG}`;
  try {
    const kc = loadKubeConfig({ kubeconfig: KUBECONFIG });
    const kube = new Kube(kc);
    await Promise.race([
      kube.core.listNamespace({ limit: 1 }),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref()),
    ]);
    return { kc, kube };
  } catch (err) {
    return `API server unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


/**
 * A TCP proxy in front of the API server (TLS passes through; the serving
 * cert covers 127.0.0.1). down() drops every connection and refuses new ones,
 * as a restarting API server would; stall() freezes open connections without
 * closing them — the silent stall the watchdog exists for.
 */
class ApiProxy {
  private server: Server | undefined;
  private readonly pairs = new Set<[Socket, Socket]>();
  private refusing = false;
  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {}

  async start(): Promise<number> {
    const server = createServer((client) => {
      if (this.refusing) {
        client.destroy();
        return;
      }
      const upstream = connect(this.port, this.host);
      const pair: [Socket, Socket] = [client, upstream];
      this.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as { port: number }).port;
  }

  down(): void {
    this.refusing = true;
    for (const [c, u] of this.pairs) {
      c.destroy();
      u.destroy();
    }
  }

  up(): void {
    this.refusing = false;
  }

  stall(): void {
    for (const [c, u] of this.pairs) {
      u.unpipe(c);
      c.unpipe(u);
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** A copy of kc whose current cluster is reached through 127.0.0.1:port. */
function viaProxy(kc: KubeConfig, port: number): KubeConfig {
  const copy = new KubeConfig();
  copy.loadFromString(kc.exportConfig());
  const current = copy.getCurrentCluster()?.name;
  copy.clusters = copy.clusters.map((c) => (c.name === current ? { ...c, server: `https://127.0.0.1:${port}` } : c));
  return copy;
}

const conn = await reachable();
const skip = typeof conn === 'string' ? conn : false;

describe('runtime against the real API server', { skip }, () => {
  const { kc, kube } = conn as { kc: KubeConfig; kube: Kube };
  const ns = `rt-it-${randomBytes(3).toString('hex')}`;

  const cm = (name: string): V1ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace: ns, labels: { 'runtime-it': 'yes' } },
    data: { v: '1' },
  });
  const cmRef = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', namespace: ns, name });

  before(async () => {
    await kube.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  });
  after(async () => {
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', name: ns });
  });

  it('an informer lists, then sees a ConfigMap created, updated and deleted', async () => {
    const informer = new Informer<V1ConfigMap>({
      resource: 'configmaps',
      listWatcher: new ApiListWatcher(kc, `/api/v1/namespaces/${ns}/configmaps`),
    });
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onUpdate: (_o, n) => seen.push(`update ${n.metadata?.name} ${n.data?.['v']}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    await kube.create(cm('before'));
    informer.start();
    try {
      assert.equal(await informer.waitForSync(), true);
      assert.ok(informer.store.get(`${ns}/before`), 'listed');
      await kube.create(cm('watched'));
      await waitFor(() => seen.includes('add watched'), 'add event');
      assert.deepEqual(
        informer.store.list({ matchLabels: { 'runtime-it': 'yes' } }).map((o) => o.metadata?.name).sort(),
        ['before', 'watched'],
      );
      await kube.mergePatch(cmRef('watched'), { data: { v: '2' } });
      await waitFor(() => seen.includes('update watched 2'), 'update event');
      await kube.delete(cmRef('watched'));
      await waitFor(() => seen.includes('delete watched'), 'delete event');
      assert.equal(informer.store.get(`${ns}/watched`), undefined);
      assert.notEqual(informer.lastResourceVersion(), '');
    } finally {
      await informer.stop();
      await kube.delete(cmRef('before'));
    }
  });

  it('a watch survives the API server dropping all connections, and a silent stall', async () => {
    const target = new URL(kc.getCurrentCluster()?.server ?? '');
    const proxy = new ApiProxy(target.hostname, Number(target.port || 443));
    const port = await proxy.start();
    const restarts: string[] = [];
    const informer = new Informer<V1ConfigMap>({
      resource: 'configmaps',
      listWatcher: new ApiListWatcher(viaProxy(kc, port), `/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'runtime-it=outage' }),
      inactivityTimeoutMs: 3_000,
      backoffMaxMs: 1_000,
      onWatchRestart: (r) => restarts.push(r),
    });
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata?.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata?.name}`),
    });
    const outageCm = (name: string): V1ConfigMap => ({ ...cm(name), metadata: { name, namespace: ns, labels: { 'runtime-it': 'outage' } } });
    informer.start();
    try {
      assert.equal(await informer.waitForSync(), true);
      await kube.create(outageCm('o1'));
      await waitFor(() => seen.includes('add o1'), 'add o1');

      // Outage: connections reset, reconnects refused for 2 s; the world changes meanwhile.
      proxy.down();
      await waitFor(() => restarts.length > 0, 'the informer noticing');
      await kube.create(outageCm('o2'));
      await kube.delete(cmRef('o1'));
      await new Promise((r) => setTimeout(r, 2_000));
      proxy.up();
      await waitFor(() => seen.includes('add o2') && seen.includes('delete o1'), 'changes made during the outage', 15_000);

      // Silent stall: the open watch stops delivering but never closes.
      const before = restarts.length;
      proxy.stall();
      await kube.create(outageCm('o3'));
      await waitFor(() => seen.includes('add o3'), 'o3 after the watchdog re-watched', 10_000);
      assert.ok(restarts.slice(before).includes('stalled'), `restarts: ${restarts.join(',')}`);
    } finally {
      await informer.stop();
      await proxy.close();
      for (const n of ['o1', 'o2', 'o3']) await kube.delete(cmRef(n));
    }
  });

  it('two managers: only the leader reconciles; stop() drains, releases, and the standby takes over', async () => {
    const intervals: Array<{ who: string; key: string; start: number; end: number }> = [];
    const starts: Array<{ who: string; key: string }> = [];
    const leaseName = 'runtime-it-leader';

    const makeReplica = (who: string): Manager => {
      const informer = new Informer<V1ConfigMap>({
        resource: 'configmaps',
        listWatcher: new ApiListWatcher(kc, `/api/v1/namespaces/${ns}/configmaps`, { labelSelector: 'runtime-it=yes' }),
      });
      const controller = new Controller({
        name: 'it',
        concurrency: 2,
        reconcile: async (key) => {
          const start = Date.now();
          starts.push({ who, key });
          // Long enough that a shutdown catches one in flight.
          await new Promise((r) => setTimeout(r, 300));
          const obj = informer.store.get(key);
          if (obj && obj.metadata?.annotations?.[ANNOTATION] === undefined) {
            await kube.mergePatch(cmRef(splitKey(key).name), { metadata: { annotations: { [ANNOTATION]: who } } });
          }
          intervals.push({ who, key, start, end: Date.now() });
        },
      }).for(informer);
      return new Manager({
        metrics: createMetrics({ defaultMetrics: false }),
        health: { port: 0, host: '127.0.0.1' },
        leaderElection: {
          client: leaseClient(kube.coordination, ns, leaseName),
          identity: who,
          leaseDurationMs: 6_000,
          renewDeadlineMs: 4_000,
          retryPeriodMs: 500,
        },
        shutdownTimeoutMs: 5_000,
      }).addController(controller);
    };

    const annotations = async (): Promise<Record<string, string | undefined>> => {
      const list = await kube.list<V1ConfigMap>('v1', 'ConfigMap', { namespace: ns, labelSelector: 'runtime-it=yes' });
      return Object.fromEntries(list.map((c) => [c.metadata?.name ?? '', c.metadata?.annotations?.[ANNOTATION]]));
    };

    for (const n of ['c1', 'c2', 'c3']) await kube.create(cm(n));
    const a = makeReplica('replica-a');
    const b = makeReplica('replica-b');
    try {
      await a.start();
      await waitFor(() => a.isRunning(), 'replica-a leading and synced');
      await b.start();
      await waitFor(async () => Object.values(await annotations()).every((v) => v === 'replica-a'), 'replica-a reconciled all');
      assert.equal(b.isLeader(), false);
      assert.ok(intervals.every((i) => i.who === 'replica-a'), 'standby must not reconcile');
      const lease = await kube.coordination.readNamespacedLease({ name: leaseName, namespace: ns });
      assert.equal(lease.spec?.holderIdentity, 'replica-a');

      // Catch a reconcile in flight, then stop the leader as SIGTERM would.
      await kube.create(cm('c4'));
      await waitFor(() => starts.some((x) => x.who === 'replica-a' && x.key === `${ns}/c4`), 'c4 reconcile started');
      const stoppedAt = Date.now();
      await a.stop();
      const drainedAt = Date.now();
      const c4 = intervals.find((i) => i.key === `${ns}/c4` && i.who === 'replica-a');
      assert.ok(c4 && c4.end <= drainedAt, 'the in-flight reconcile finished before stop() returned');
      assert.equal((await annotations())['c4'], 'replica-a', 'and its write landed');
      const released = await kube.coordination.readNamespacedLease({ name: leaseName, namespace: ns });
      assert.equal(released.spec?.holderIdentity ?? '', '', 'lease released on stop');

      await kube.create(cm('c5'));
      await waitFor(() => b.isLeader(), 'replica-b leading', 5_000);
      const takeoverMs = Date.now() - stoppedAt;
      assert.ok(takeoverMs < 5_000, `takeover took ${takeoverMs} ms`);
      await waitFor(async () => (await annotations())['c5'] === 'replica-b', 'replica-b reconciled c5');

      // Never two replicas reconciling at the same time.
      const byTime = [...intervals].sort((x, y) => x.start - y.start);
      for (let i = 1; i < byTime.length; i++) {
        const prev = byTime.slice(0, i).filter((p) => p.who !== byTime[i]?.who);
        for (const p of prev) assert.ok(p.end <= (byTime[i]?.start ?? 0), `overlap: ${p.who} until ${p.end}, ${byTime[i]?.who} from ${byTime[i]?.start}`);
      }
    } finally {
      await a.stop();
      await b.stop();
    }
  });
});
