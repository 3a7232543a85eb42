// What the plugin asks the API server, behind one small interface so commands
// can be tested with a fake. The real one goes through the Kube facade
// (src/k8s) and its typed errors.
import type { TraceJob } from '../api/tracejob.js';
import { GROUP, PLURAL, VERSION } from '../api/tracejob.js';
import { Kube, loadKubeConfig } from '../k8s/client.js';
import { NotFoundError, wrapApi } from '../k8s/errors.js';
import { LABELS } from '../controller/names.js';
import { CliError, EXIT } from './errors.js';
import type { EventRow } from './format.js';

export interface AgentPod {
  name: string;
  node?: string;
  phase?: string;
}

export interface TraceJobClient {
  /** The namespace of the kubeconfig context ("default" if it has none). */
  readonly defaultNamespace: string;
  create(tj: Record<string, unknown>): Promise<TraceJob>;
  /** Throws NotFoundError when absent. */
  get(namespace: string, name: string): Promise<TraceJob>;
  /** One namespace, or all when undefined. */
  list(namespace: string | undefined): Promise<TraceJob[]>;
  /** False when it was already gone. */
  delete(namespace: string, name: string): Promise<boolean>;
  /** The ConfigMap's data, undefined when absent. */
  configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  /** Events about the TraceJob, oldest first. */
  events(namespace: string, name: string, uid?: string): Promise<EventRow[]>;
  /** Agent pods of a TraceJob (label tracing.tracejob.dev/uid) in the operator namespace. */
  agentPods(operatorNamespace: string, uid: string): Promise<AgentPod[]>;
  podLog(namespace: string, name: string): Promise<string>;
  /** report.json of the node capability ConfigMaps in the operator namespace. */
  nodeReports(operatorNamespace: string, labelSelector: string): Promise<string[]>;
}

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
}

const crd = { group: GROUP, version: VERSION, plural: PLURAL };

function ts(v: unknown): string | Date | undefined {
  return v instanceof Date || typeof v === 'string' ? v : undefined;
}

export class KubeTraceJobClient implements TraceJobClient {
  readonly defaultNamespace: string;
  private readonly kube: Kube;

  constructor(options: ConnectOptions = {}) {
    let kc;
    try {
      kc = loadKubeConfig(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {});
      if (options.context) {
        if (!kc.getContextObject(options.context)) throw new Error(`context "${options.context}" not found`);
        kc.setCurrentContext(options.context);
      }
    } catch (e) {
      throw new CliError(`cannot load kubeconfig${options.kubeconfig ? ` ${options.kubeconfig}` : ''}: ${(e as Error).message}`, EXIT.api);
    }
    if (!kc.getCurrentCluster()) throw new CliError('the kubeconfig has no current cluster (set a context, or use --kubeconfig/--context)', EXIT.api);
    this.defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
    this.kube = new Kube(kc);
  }

  async create(tj: Record<string, unknown>): Promise<TraceJob> {
    const namespace = String((tj['metadata'] as { namespace?: string }).namespace);
    return (await wrapApi(this.kube.custom.createNamespacedCustomObject({ ...crd, namespace, body: tj }))) as TraceJob;
  }

  async get(namespace: string, name: string): Promise<TraceJob> {
    return (await wrapApi(this.kube.custom.getNamespacedCustomObject({ ...crd, namespace, name }))) as TraceJob;
  }

  async list(namespace: string | undefined): Promise<TraceJob[]> {
    const res = (await wrapApi(
      namespace === undefined ? this.kube.custom.listClusterCustomObject({ ...crd }) : this.kube.custom.listNamespacedCustomObject({ ...crd, namespace }),
    )) as { items?: TraceJob[] };
    return res.items ?? [];
  }

  async delete(namespace: string, name: string): Promise<boolean> {
    try {
      await wrapApi(this.kube.custom.deleteNamespacedCustomObject({ ...crd, namespace, name, propagationPolicy: 'Background' }));
      return true;
    } catch (e) {
      if (e instanceof NotFoundError) return false;
      throw e;
    }
  }

  async configMapData(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      const cm = await wrapApi(this.kube.core.readNamespacedConfigMap({ namespace, name }));
      return cm.data ?? {};
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }

  async events(namespace: string, name: string, uid?: string): Promise<EventRow[]> {
    const selector = [`involvedObject.name=${name}`, 'involvedObject.kind=TraceJob', ...(uid ? [`involvedObject.uid=${uid}`] : [])].join(',');
    const res = await wrapApi(this.kube.core.listNamespacedEvent({ namespace, fieldSelector: selector }));
    const rows = res.items.map((e) => {
      const last = ts(e.lastTimestamp) ?? ts(e.eventTime) ?? ts(e.firstTimestamp) ?? ts(e.metadata.creationTimestamp);
      const row: EventRow = { type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '' };
      if (last !== undefined) row.last = last;
      if (e.count !== undefined) row.count = e.count;
      const source = e.source?.component ?? e.reportingComponent;
      if (source) row.source = source;
      return row;
    });
    const t = (r: EventRow): number => (r.last === undefined ? 0 : r.last instanceof Date ? r.last.getTime() : Date.parse(r.last));
    return rows.sort((a, b) => t(a) - t(b));
  }

  async agentPods(operatorNamespace: string, uid: string): Promise<AgentPod[]> {
    const res = await wrapApi(this.kube.core.listNamespacedPod({ namespace: operatorNamespace, labelSelector: `${LABELS.uid}=${uid}` }));
    return res.items.map((p) => ({ name: p.metadata?.name ?? '', ...(p.spec?.nodeName ? { node: p.spec.nodeName } : {}), ...(p.status?.phase ? { phase: p.status.phase } : {}) }));
  }

  podLog(namespace: string, name: string): Promise<string> {
    return this.kube.readPodLog(namespace, name, { tailLines: 2000 });
  }

  async nodeReports(operatorNamespace: string, labelSelector: string): Promise<string[]> {
    const res = await wrapApi(this.kube.core.listNamespacedConfigMap({ namespace: operatorNamespace, labelSelector }));
    return res.items.map((cm) => cm.data?.['report.json']).filter((t): t is string => typeof t === 'string');
  }
}
