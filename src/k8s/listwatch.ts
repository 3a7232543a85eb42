// The informer's transport over the real API server, for any resource path
// (`/api/v1/namespaces/x/pods`, `/apis/tracing.tracejob.dev/v1alpha1/tracejobs`, …):
//  - list: paginated GETs (limit/continue) with node:https, using the
//    KubeConfig's TLS and auth (applyToHTTPSOptions), a request timeout, and
//    apiVersion/kind filled in on items (list responses omit them);
//  - watch: client-node's Watch with allowWatchBookmarks and a randomised
//    server-side timeout (5–10 min, as client-go does) so connections rotate.
//    After abort() nothing more is delivered, not even onDone.

import http from 'node:http';
import https from 'node:https';
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import type { ListResult, ListWatcher, WatchHandle } from '../runtime/informer.js';
import { parseApiError } from './errors.js';

export interface ListWatchOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** Items per list page. Default 500. */
  pageSize?: number;
  /** Timeout for each list request. Default 60 s. */
  requestTimeoutMs?: number;
  /** Source of randomness for the watch timeout (tests). */
  random?: () => number;
}

interface RawList {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: Array<Record<string, unknown>>;
}

/** GET url as JSON with the KubeConfig's credentials; API errors reject typed. */
export async function getJson(kc: KubeConfig, url: URL, timeoutMs: number): Promise<unknown> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const transport = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = transport.request(
      url,
      { ...opts, method: 'GET', headers: { ...opts.headers, Accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const code = res.statusCode ?? 0;
          if (code < 200 || code > 299) {
            reject(parseApiError({ code, body: text }));
            return;
          }
          try {
            resolve(JSON.parse(text));
          } catch (err) {
            reject(new Error(`invalid JSON from ${url.pathname}: ${(err as Error).message}`));
          }
        });
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url.pathname} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export class ApiListWatcher<T> implements ListWatcher<T> {
  private readonly random: () => number;

  constructor(
    private readonly kc: KubeConfig,
    /** Collection path, e.g. `/api/v1/namespaces/default/configmaps`. */
    private readonly path: string,
    private readonly options: ListWatchOptions = {},
  ) {
    this.random = options.random ?? Math.random;
  }

  async list(): Promise<ListResult<T>> {
    const server = this.kc.getCurrentCluster()?.server;
    if (!server) throw new Error('kubeconfig has no current cluster');
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const url = new URL(server.replace(/\/$/, '') + this.path);
      url.searchParams.set('limit', String(this.options.pageSize ?? 500));
      if (cont) url.searchParams.set('continue', cont);
      if (this.options.labelSelector) url.searchParams.set('labelSelector', this.options.labelSelector);
      if (this.options.fieldSelector) url.searchParams.set('fieldSelector', this.options.fieldSelector);
      const page = (await getJson(this.kc, url, this.options.requestTimeoutMs ?? 60_000)) as RawList;
      const kind = page.kind?.endsWith('List') ? page.kind.slice(0, -'List'.length) : undefined;
      for (const item of page.items ?? []) {
        items.push({ apiVersion: page.apiVersion, kind, ...item } as T);
      }
      // A paginated list is a consistent snapshot at the first page's RV; the last page repeats it.
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, resourceVersion };
  }

  watch(resourceVersion: string, onEvent: (type: string, obj: unknown) => void, onDone: (err?: unknown) => void): WatchHandle {
    let finished = false;
    let controller: AbortController | undefined;
    const end = (err?: unknown): void => {
      if (finished) return;
      finished = true;
      onDone(err === null || err === undefined ? undefined : err);
    };
    const params = {
      resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.floor(300 * (1 + this.random())),
      labelSelector: this.options.labelSelector,
      fieldSelector: this.options.fieldSelector,
    };
    new Watch(this.kc)
      .watch(
        this.path,
        params,
        (type: string, obj: unknown) => {
          if (!finished) onEvent(type, obj);
        },
        (err: unknown) => end(err),
      )
      .then((c) => {
        controller = c;
        // abort() may have been called while the request was connecting.
        if (finished) c.abort();
      })
      .catch((err: unknown) => end(err));
    return {
      abort: () => {
        finished = true;
        controller?.abort();
      },
    };
  }
}
