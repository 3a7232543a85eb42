// The probe and metrics endpoint: /healthz (liveness), /readyz (readiness),
// /metrics (Prometheus). Checks are plain functions registered by the manager.
//
// A wedged event loop needs no check of its own: it cannot answer the probe,
// and the kubelet's probe timeout fails it. Checks cover what a live event
// loop can still get wrong, such as an informer that stopped making progress.

import { type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { type Logger, silentLogger } from './logger.js';

/** Returns true when healthy, or a short reason when not. */
export type HealthCheck = () => true | string;

export interface HealthServerOptions {
  /** Port to listen on; 0 picks a free one. Default 8081. */
  port?: number;
  host?: string;
  registry?: Registry;
  logger?: Logger;
}

export class HealthServer {
  private readonly liveness = new Map<string, HealthCheck>();
  private readonly readiness = new Map<string, HealthCheck>();
  private readonly opts: HealthServerOptions;
  private readonly log: Logger;
  private server: Server | undefined;

  constructor(options: HealthServerOptions = {}) {
    this.opts = options;
    this.log = (options.logger ?? silentLogger).child({ component: 'health' });
  }

  /** Adds (or replaces) a named liveness check for /healthz. */
  addLiveness(name: string, check: HealthCheck): void {
    this.liveness.set(name, check);
  }

  /** Adds (or replaces) a named readiness check for /readyz. */
  addReadiness(name: string, check: HealthCheck): void {
    this.readiness.set(name, check);
  }

  /** Starts listening; resolves the bound port. */
  async start(): Promise<number> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const verbose = (req.url ?? '').includes('verbose');
      if (path === '/healthz' || path === '/livez') {
        this.respond(res, this.liveness, verbose);
      } else if (path === '/readyz') {
        this.respond(res, this.readiness, verbose);
      } else if (path === '/metrics' && this.opts.registry) {
        const registry = this.opts.registry;
        registry.metrics().then(
          (body) => {
            res.writeHead(200, { 'Content-Type': registry.contentType });
            res.end(body);
          },
          (err: unknown) => {
            this.log.error({ err }, 'Metrics collection failed');
            res.writeHead(500).end();
          },
        );
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? 8081, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    this.log.info({ port }, 'Health server listening');
    return port;
  }

  /** Bound port, once started. */
  port(): number | undefined {
    const addr = this.server?.address();
    return addr && typeof addr === 'object' ? addr.port : undefined;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Probes use keep-alive; don't let an idle connection hold shutdown.
      server.closeIdleConnections();
    });
  }

  private respond(res: ServerResponse, checks: Map<string, HealthCheck>, verbose: boolean): void {
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of checks) {
      let result: true | string;
      try {
        result = check();
      } catch (err) {
        result = `check threw: ${err instanceof Error ? err.message : String(err)}`;
      }
      if (result === true) {
        lines.push(`[+]${name} ok`);
      } else {
        ok = false;
        lines.push(`[-]${name} failed: ${result}`);
      }
    }
    // Same shape as the API server's own probes: details on failure or ?verbose.
    const body = ok && !verbose ? 'ok\n' : `${lines.join('\n')}\n${ok ? 'ok' : 'failed'}\n`;
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(body);
  }
}
