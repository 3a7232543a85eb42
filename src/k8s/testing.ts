// A scriptable HTTP stand-in for the API server, so the k8s module's tests
// exercise client-node's real request path (URLs, headers, content types,
// serialisation, error bodies) without a cluster.

import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { loadKubeConfig } from './client.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

/** Returns true if it handled the request. */
export type Route = (req: RecordedRequest, res: ServerResponse) => boolean | void;

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  routes: Route[] = [];
  private server: Server | undefined;
  private readonly open = new Set<ServerResponse>();

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const rec: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, headers: req.headers, body };
        this.requests.push(rec);
        this.open.add(res);
        res.on('close', () => this.open.delete(res));
        for (const route of this.routes) if (route(rec, res)) return;
        json(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: `no route for ${rec.method} ${rec.path}` });
      });
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}`;
  }

  /** A KubeConfig pointing at this server with a bearer token. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'fake', token: 'test-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'fake' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** Ends every open (streaming) response. */
  endStreams(): void {
    for (const res of this.open) res.end();
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

export function json(res: ServerResponse, code: number, body: unknown): true {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(body));
  return true;
}

export function statusBody(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message };
}

/** The local cluster's kubeconfig for integration tests (TRACEJOB_KUBECONFIG overrides). */
export const CLUSTER_KUBECONFIG = process.env['TRACEJOB_KUBECONFIG'] ?? '/var/lib/tracejob-cluster/kubeconfig';

/** Why integration tests against the local cluster must skip, or false when its API server answers. */
export async function clusterUnreachable(kubeconfig = CLUSTER_KUBECONFIG): Promise<string | false> {
  if (!existsSync(kubeconfig)) return `no kubeconfig at ${kubeconfig}`;
  try {
    const core = loadKubeConfig({ kubeconfig }).makeApiClient(CoreV1Api);
    await Promise.race([core.listNamespace({ limit: 1 }), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 3000).unref())]);
    return false;
  } catch (err) {
    return `API server unreachable: ${err instanceof Error ? err.message : String(err)}`;
  }
}
