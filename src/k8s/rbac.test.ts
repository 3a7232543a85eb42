// The operator's RBAC (manifests/install.yaml, rendered from the chart) grants
// exactly what its API calls need: every call the operator makes is driven
// through client-node against a fake API server, each request is turned into
// the RBAC attributes the real authorizer checks (verb, group, resource,
// subresource, namespace, name), and then (1) every request is allowed by a
// rule and (2) every verb of every rule is used by some request. A rule widened
// with a verb nothing calls fails (2); a new call without a rule fails (1).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { CoordinationV1Api, type V1ConfigMap, type V1Job } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { GROUP, PLURAL, VERSION, type TraceJob } from '../api/tracejob.js';
import { ApiListWatcher } from './listwatch.js';
import { leaseClient, OPERATOR_LEASE } from './lease.js';
import { ApiTraceJobPort } from './tracejob-port.js';
import { FakeApiServer, json, type RecordedRequest } from './testing.js';

const OPERATOR_NS = 'tracejob-system';
const TENANT_NS = 'shop';
/** A ConfigMap the fake API server says exists already. */
const EXISTING_CM = 'existing-result';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}
interface RbacObject {
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: Rule[];
}

function installObjects(): RbacObject[] {
  return parseAllDocuments(readFileSync('manifests/install.yaml', 'utf8'))
    .map((d) => d.toJSON() as RbacObject | null)
    .filter((o): o is RbacObject => o !== null);
}

/** What the RBAC authorizer sees for one request. */
export interface Attributes {
  verb: string;
  group: string;
  /** `resource` or `resource/subresource`. */
  resource: string;
  namespace?: string;
  name?: string;
}

/** The RBAC attributes of an HTTP request to the API server (k8s.io/apiserver's RequestInfo, the parts used here). */
export function attributesOf(req: Pick<RecordedRequest, 'method' | 'path' | 'query' | 'headers'>): Attributes[] {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(.*)$/.exec(req.path);
  assert.ok(m, `not an API path: ${req.path}`);
  const group = m[1] ?? '';
  const seg = (m[2] as string).split('/');
  let namespace: string | undefined;
  let rest = seg;
  if (seg[0] === 'namespaces' && seg.length >= 3) {
    namespace = seg[1];
    rest = seg.slice(2);
  }
  const [resource, name, sub] = rest as [string, string | undefined, string | undefined];
  const full = sub ? `${resource}/${sub}` : resource;
  const verb = ((): string => {
    switch (req.method) {
      case 'GET':
        return name ? 'get' : req.query.get('watch') === 'true' ? 'watch' : 'list';
      case 'POST':
        return 'create';
      case 'PUT':
        return 'update';
      case 'PATCH':
        return 'patch';
      case 'DELETE':
        return name ? 'delete' : 'deletecollection';
      default:
        throw new Error(`unexpected method ${req.method}`);
    }
  })();
  const base = { group, resource: full, ...(namespace ? { namespace } : {}), ...(name ? { name } : {}) };
  const out: Attributes[] = [{ verb, ...base }];
  // Server-side apply creates a missing object, and the API server authorises that as create.
  if (req.method === 'PATCH' && String(req.headers['content-type']).startsWith('application/apply-patch')) out.push({ verb: 'create', ...base });
  return out;
}

function allows(rule: Rule, a: Attributes): boolean {
  const any = (list: string[], v: string): boolean => list.includes('*') || list.includes(v);
  if (!any(rule.apiGroups, a.group) || !any(rule.resources, a.resource) || !any(rule.verbs, a.verb)) return false;
  if (rule.resourceNames && rule.resourceNames.length > 0) return a.name !== undefined && rule.resourceNames.includes(a.name);
  return true;
}

/** A plausible answer to any request, so every call completes. */
function answer(req: RecordedRequest, res: Parameters<typeof json>[0]): true {
  const [a] = attributesOf(req);
  if (!a) throw new Error('no attributes');
  if (a.verb === 'watch') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end();
    return true;
  }
  if (a.resource === 'pods/log') {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end('log');
    return true;
  }
  if (a.verb === 'list') return json(res, 200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: [] });
  if (a.verb === 'delete') return json(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success' });
  if (a.verb === 'get') return json(res, 200, { metadata: { name: a.name, namespace: a.namespace, resourceVersion: '7' } });
  const body = req.body ? (JSON.parse(req.body) as Record<string, unknown>) : {};
  if (a.verb === 'create' && (body['metadata'] as { name?: string } | undefined)?.name === EXISTING_CM) {
    return json(res, 409, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'AlreadyExists', code: 409 });
  }
  return json(res, a.verb === 'create' ? 201 : 200, { ...body, metadata: { ...(body['metadata'] as object), name: a.name ?? 'generated', resourceVersion: '8' } });
}

const tj = {
  apiVersion: `${GROUP}/${VERSION}`,
  kind: 'TraceJob',
  metadata: { name: 'tj', namespace: TENANT_NS, uid: 'u-1', resourceVersion: '7', generation: 1 },
  spec: { target: { pod: { name: 'p' } }, probe: { type: 'execs' } },
} as unknown as TraceJob;
const job: V1Job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'tj-job', namespace: OPERATOR_NS } };
const cm = (namespace: string, name: string): V1ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: { a: 'b' } });

describe("operator RBAC: exactly the verbs of the operator's API calls", () => {
  const server = new FakeApiServer();
  const requests: Attributes[] = [];
  let clusterRole: RbacObject;
  let role: RbacObject;

  before(async () => {
    await server.start();
    server.routes = [(req, res) => answer(req, res)];
    const objects = installObjects();
    const find = (kind: string): RbacObject => {
      const o = objects.find((x) => x.kind === kind && x.metadata.name === 'tracejob-operator');
      assert.ok(o?.rules, `manifests/install.yaml has no ${kind} tracejob-operator`);
      return o;
    };
    clusterRole = find('ClusterRole');
    role = find('Role');
    assert.equal(role.metadata.namespace, OPERATOR_NS);

    const kc = server.kubeConfig();
    // Without caches: the port's uncached reads are calls the operator can make too.
    const port = new ApiTraceJobPort(kc, OPERATOR_NS);
    const calls: Record<keyof ApiTraceJobPort, () => Promise<unknown>> = {
      getTraceJob: () => port.getTraceJob(TENANT_NS, 'tj'),
      listTraceJobs: () => port.listTraceJobs(),
      getTraceJobLive: () => port.getTraceJobLive(TENANT_NS, 'tj'),
      replaceStatus: () => port.replaceStatus(tj, { phase: 'Running' }),
      setFinalizers: () => port.setFinalizers(tj, ['tracing.tracejob.dev/cleanup']),
      deleteTraceJob: () => port.deleteTraceJob(TENANT_NS, 'tj'),
      getPod: () => port.getPod(TENANT_NS, 'p'),
      listPods: () => port.listPods(TENANT_NS, 'app=web'),
      getNamespace: () => port.getNamespace(TENANT_NS),
      listNodeJobs: () => port.listNodeJobs('u-1'),
      getJob: () => port.getJob('tj-job'),
      createJob: () => port.createJob(job),
      deleteJob: () => port.deleteJob('tj-job'),
      listJobPods: () => port.listJobPods('tj-job'),
      stopJob: () => port.stopJob('tj-job'),
      streamPodLog: () => port.streamPodLog('tj-job-x', 'agent', 1 << 20, () => undefined),
      getOperatorConfigMap: () => port.getOperatorConfigMap('tracejob-node-n1'),
      getConfigMap: () => port.getConfigMap(TENANT_NS, 'tj-result'),
      writeResultConfigMap: async () => {
        await port.writeResultConfigMap(cm(TENANT_NS, 'tj-result'), () => undefined);
        // An existing one (409 on create): read, then replaced.
        await port.writeResultConfigMap(cm(TENANT_NS, EXISTING_CM), () => undefined);
      },
      applyConfigMap: () => port.applyConfigMap(cm(OPERATOR_NS, 'tracejob-node-n1')),
      event: () => port.event(tj, 'Normal', 'Accepted', 'ok'),
    };
    // A new port method must be added above, so its verbs are checked too.
    const methods = Object.getOwnPropertyNames(ApiTraceJobPort.prototype).filter((m) => m !== 'constructor');
    assert.deepEqual(methods.sort(), Object.keys(calls).sort(), 'every ApiTraceJobPort method is exercised here');
    for (const call of Object.values(calls)) await call();

    // The two informers of src/operator/main.ts, list and watch.
    for (const lw of [new ApiListWatcher(kc, `/apis/${GROUP}/${VERSION}/${PLURAL}`), new ApiListWatcher(kc, `/apis/batch/v1/namespaces/${OPERATOR_NS}/jobs`, { labelSelector: 'app.kubernetes.io/managed-by=tracejob-operator' })]) {
      const { resourceVersion } = await lw.list();
      await new Promise<void>((resolve) => lw.watch(resourceVersion, () => undefined, () => resolve()));
    }

    // Leader election.
    const lease = leaseClient(kc.makeApiClient(CoordinationV1Api), OPERATOR_NS, OPERATOR_LEASE);
    await lease.get();
    await lease.create({ holderIdentity: 'a', leaseDurationSeconds: 15 });
    await lease.update({ holderIdentity: 'a', leaseDurationSeconds: 15, resourceVersion: '8' });

    for (const r of server.requests) requests.push(...attributesOf(r));
  });
  after(() => server.close());

  const show = (a: Attributes): string => `${a.verb} ${a.group || 'core'}/${a.resource}${a.name ? `/${a.name}` : ''} in ${a.namespace ?? '(cluster)'}`;
  /** The ClusterRole applies everywhere; the Role only in the operator namespace. */
  const rulesFor = (a: Attributes): Rule[] => [...(clusterRole.rules ?? []), ...(a.namespace === OPERATOR_NS ? (role.rules ?? []) : [])];

  test('every API call the operator makes is allowed', () => {
    assert.ok(requests.length >= 20, `only ${requests.length} requests recorded`);
    const denied = requests.filter((a) => !rulesFor(a).some((r) => allows(r, a)));
    assert.deepEqual(denied.map(show), []);
  });

  test('every verb of every rule is used by a call (a widened rule fails here)', () => {
    const unused: string[] = [];
    for (const [obj, inScope] of [
      [clusterRole, (_a: Attributes) => true],
      [role, (a: Attributes) => a.namespace === OPERATOR_NS],
    ] as const) {
      for (const rule of obj.rules ?? []) {
        for (const group of rule.apiGroups) {
          for (const resource of rule.resources) {
            for (const verb of rule.verbs) {
              const narrow: Rule = { ...rule, apiGroups: [group], resources: [resource], verbs: [verb] };
              if (!requests.some((a) => inScope(a) && allows(narrow, a))) unused.push(`${obj.kind}: ${verb} ${group || 'core'}/${resource}${rule.resourceNames ? ` ${rule.resourceNames.join(',')}` : ''}`);
            }
          }
        }
      }
    }
    assert.deepEqual(unused, []);
  });

  test('no wildcards, and the Lease is read and renewed by name only', () => {
    for (const obj of [clusterRole, role]) {
      for (const rule of obj.rules ?? []) {
        for (const list of [rule.apiGroups, rule.resources, rule.verbs]) assert.ok(!list.includes('*'), `${obj.kind} has a wildcard rule`);
      }
    }
    const leaseRules = (role.rules ?? []).filter((r) => r.resources.includes('leases'));
    for (const r of leaseRules) {
      if (r.verbs.some((v) => v !== 'create')) assert.deepEqual(r.resourceNames, [OPERATOR_LEASE]);
    }
  });
});

test('attributesOf maps requests as the API server does', () => {
  const q = (s = ''): URLSearchParams => new URLSearchParams(s);
  const h = {};
  const cases: Array<[string, string, string, Attributes]> = [
    ['GET', '/apis/tracing.tracejob.dev/v1alpha1/tracejobs', 'watch=true', { verb: 'watch', group: 'tracing.tracejob.dev', resource: 'tracejobs' }],
    ['GET', '/api/v1/namespaces/shop', '', { verb: 'get', group: '', resource: 'namespaces', name: 'shop' }],
    ['PUT', '/apis/tracing.tracejob.dev/v1alpha1/namespaces/shop/tracejobs/tj/status', '', { verb: 'update', group: 'tracing.tracejob.dev', resource: 'tracejobs/status', namespace: 'shop', name: 'tj' }],
    ['GET', '/api/v1/namespaces/ops/pods/x/log', '', { verb: 'get', group: '', resource: 'pods/log', namespace: 'ops', name: 'x' }],
    ['DELETE', '/apis/batch/v1/namespaces/ops/jobs', '', { verb: 'deletecollection', group: 'batch', resource: 'jobs', namespace: 'ops' }],
  ];
  for (const [method, path, query, want] of cases) assert.deepEqual(attributesOf({ method, path, query: q(query), headers: h }), [want], `${method} ${path}`);
  assert.deepEqual(
    attributesOf({ method: 'PATCH', path: '/api/v1/namespaces/shop/configmaps/r', query: q(), headers: { 'content-type': 'application/apply-patch+yaml' } }).map((a) => a.verb),
    ['patch', 'create'],
  );
});
