// Smoke suite for the local single-node cluster (e2e/cluster/cluster.sh up).
// Run: node --import tsx --test --test-concurrency=1 e2e/smoke/cluster.e2e.test.ts
// Skips itself when the cluster is not reachable.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';

const here = path.dirname(fileURLToPath(import.meta.url));
const clusterDir = path.resolve(here, '../cluster');

function k8sVersion(): string {
  const env = readFileSync(path.join(clusterDir, 'versions.env'), 'utf8');
  const m = /^K8S_VERSION=(\S+)$/m.exec(env);
  if (!m?.[1]) throw new Error('K8S_VERSION missing from e2e/cluster/versions.env');
  return m[1];
}

const cacheDir = process.env.TRACEJOB_CACHE ?? '/var/cache/tracejob';
const cachedKubectl = path.join(cacheDir, `kubernetes-${k8sVersion()}`, 'bin', 'kubectl');
const KUBECTL = process.env.KUBECTL ?? (existsSync(cachedKubectl) ? cachedKubectl : 'kubectl');
const KUBECONFIG =
  process.env.KUBECONFIG ?? path.join(process.env.TRACEJOB_CLUSTER_DIR ?? '/var/lib/tracejob-cluster', 'kubeconfig');
const AGENT_IMAGE = 'localhost/tracejob-agent:dev';
const WORKLOAD_IMAGE = 'localhost/tracejob-workload:dev';
const NS = `tracejob-smoke-${Date.now().toString(36)}`;

type Json = Record<string, unknown>;

function kubectl(args: string[], opts: { input?: string; timeoutMs?: number } = {}): string {
  return execFileSync(KUBECTL, ['--kubeconfig', KUBECONFIG, ...args], {
    encoding: 'utf8',
    input: opts.input,
    timeout: opts.timeoutMs ?? 60_000,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}
function kjson<T = Json>(args: string[]): T {
  return JSON.parse(kubectl([...args, '-o', 'json'])) as T;
}
function apply(obj: Json): void {
  kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
}
function tryKubectl(args: string[], timeoutMs = 10_000): string | undefined {
  try {
    return kubectl(args, { timeoutMs });
  } catch {
    return undefined;
  }
}
async function waitFor<T>(what: string, fn: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
}

interface PodStatus {
  phase?: string;
  podIP?: string;
  hostIP?: string;
  conditions?: { type: string; status: string; reason?: string }[];
  containerStatuses?: { containerID?: string; state?: Record<string, unknown> }[];
}
interface Pod {
  spec: { nodeName?: string };
  status: PodStatus;
}
function pod(name: string): Pod {
  return kjson<Pod>(['-n', NS, 'get', 'pod', name]);
}
function podPhase(name: string): string | undefined {
  return pod(name).status.phase;
}
async function waitPhase(name: string, phases: string[], timeoutMs = 90_000): Promise<Pod> {
  return waitFor(
    `pod ${name} phase in ${phases.join('|')}`,
    () => {
      const p = pod(name);
      if (p.status.phase === 'Failed' && !phases.includes('Failed')) {
        throw new Error(`pod ${name} failed: ${tryKubectl(['-n', NS, 'logs', name]) ?? ''}`);
      }
      return phases.includes(p.status.phase ?? '') ? p : undefined;
    },
    timeoutMs,
  );
}
function simplePod(name: string, command: string[], extra: { spec?: Json; container?: Json } = {}): Json {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: name } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: 'main', image: WORKLOAD_IMAGE, imagePullPolicy: 'Never', command, ...(extra.container ?? {}) },
      ],
      ...(extra.spec ?? {}),
    },
  };
}

function clusterReachable(): string | false {
  try {
    const ready = kubectl(['get', '--raw', '/readyz'], { timeoutMs: 5_000 });
    return ready.trim() === 'ok' ? false : `API server /readyz said ${ready.trim()}`;
  } catch (e) {
    return `cluster not reachable with ${KUBECTL} --kubeconfig ${KUBECONFIG} (run e2e/cluster/cluster.sh up): ${
      (e as Error).message.split('\n')[0]
    }`;
  }
}
const skip = clusterReachable();

interface NodeList {
  items: {
    metadata: { name: string; labels?: Record<string, string> };
    status: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] };
  }[];
}

describe('local cluster smoke', { skip }, () => {
  let nodeName = '';
  let nodeIP = '';

  before(async () => {
    const nodes = kjson<NodeList>(['get', 'nodes']);
    const node = nodes.items[0];
    assert.ok(node, 'no node registered');
    nodeName = node.metadata.labels?.['kubernetes.io/hostname'] ?? node.metadata.name;
    nodeIP = node.status.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';
    kubectl(['create', 'namespace', NS]);
    await waitFor('default ServiceAccount in test namespace', () => tryKubectl(['-n', NS, 'get', 'sa', 'default']));
  });

  after(() => {
    if (process.env.TRACEJOB_SMOKE_KEEP) return;
    tryKubectl(['delete', 'namespace', NS, '--wait=false'], 30_000);
  });

  it('1. node is Ready and a hostNetwork pod logs through the API', async () => {
    // Ready=True, allowing up to 60 s for the kubelet to renew a heartbeat it missed
    // (status Unknown) while the 2-core machine was busy with the suites before this one.
    let ready: { status?: string } | undefined;
    for (let end = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 1000))) {
      const nodes = kjson<NodeList>(['get', 'nodes']);
      assert.equal(nodes.items.length, 1);
      ready = nodes.items[0]?.status.conditions?.find((c) => c.type === 'Ready');
      if (ready?.status === 'True' || Date.now() > end) break;
    }
    assert.equal(ready?.status, 'True');
    assert.match(nodeIP, /^\d+\.\d+\.\d+\.\d+$/);

    const marker = `hello-from-hostnet-${NS}`;
    apply(simplePod('hostnet', ['sh', '-c', `echo ${marker}; echo line2`], { spec: { hostNetwork: true } }));
    const p = await waitPhase('hostnet', ['Succeeded']);
    assert.equal(p.status.podIP, nodeIP, 'hostNetwork pod must have the node IP');
    const logs = kubectl(['-n', NS, 'logs', 'hostnet']);
    assert.equal(logs, `${marker}\nline2\n`);
  });

  it('2. a Job completes and the scheduler honours node affinity', async () => {
    apply({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'job', namespace: NS },
      spec: {
        backoffLimit: 0,
        completions: 2,
        parallelism: 2,
        template: {
          spec: {
            restartPolicy: 'Never',
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 1,
            containers: [
              { name: 'main', image: WORKLOAD_IMAGE, imagePullPolicy: 'Never', command: ['sh', '-c', 'echo job-ok'] },
            ],
          },
        },
      },
    });
    kubectl(['-n', NS, 'wait', '--for=condition=complete', 'job/job', '--timeout=90s'], { timeoutMs: 100_000 });
    const job = kjson<{ status: { succeeded?: number } }>(['-n', NS, 'get', 'job', 'job']);
    assert.equal(job.status.succeeded, 2);

    const affinity = (values: string[]): Json => ({
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values }] }],
        },
      },
    });
    apply(simplePod('affine', ['sleep', '3600'], { spec: { affinity: affinity([nodeName]) } }));
    apply(simplePod('nowhere', ['sleep', '3600'], { spec: { affinity: affinity(['no-such-node']) } }));
    const p = await waitPhase('affine', ['Running']);
    assert.equal(p.spec.nodeName, nodeName);
    // The unsatisfiable pod stays unscheduled, proving the scheduler (not a nodeName shortcut) decided.
    const unsched = await waitFor('nowhere to be marked Unschedulable', () => {
      const c = pod('nowhere').status.conditions?.find((x) => x.type === 'PodScheduled');
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(unsched.reason, 'Unschedulable');
    assert.equal(pod('nowhere').spec.nodeName, undefined);
    kubectl(['-n', NS, 'delete', 'pod', 'affine', 'nowhere', '--wait=false']);
  });

  it('3. deleting an owner garbage-collects its owned ConfigMap', async () => {
    apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner', namespace: NS }, data: { a: '1' } });
    const uid = kubectl(['-n', NS, 'get', 'configmap', 'owner', '-o', 'jsonpath={.metadata.uid}']).trim();
    assert.ok(uid);
    apply({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: 'owned',
        namespace: NS,
        ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid }],
      },
      data: { b: '2' },
    });
    assert.ok(tryKubectl(['-n', NS, 'get', 'configmap', 'owned']));
    kubectl(['-n', NS, 'delete', 'configmap', 'owner']);
    await waitFor(
      'owned ConfigMap to be garbage-collected',
      () => {
        try {
          kubectl(['-n', NS, 'get', 'configmap', 'owned']);
          return undefined;
        } catch (e) {
          return /NotFound/.test(String((e as { stderr?: string }).stderr)) ? true : undefined;
        }
      },
      60_000,
    );
  });

  it('4. a privileged hostPID agent pod counts exactly N execve()s of another pod with bpftrace', async () => {
    const N = 7;
    // Target waits for a trigger, then execs /bin/true N times and /bin/false once (end marker).
    apply(
      simplePod('target', [
        'sh',
        '-c',
        `while [ ! -e /tmp/go ]; do sleep 0.1; done; i=0; while [ $i -lt ${N} ]; do /bin/true; i=$((i+1)); done; /bin/false; sleep 3600`,
      ]),
    );
    // Decoy execs the same binary continuously in another container: must not be counted.
    apply(simplePod('decoy', ['sh', '-c', 'while :; do /bin/true; sleep 0.05; done']));
    const target = await waitPhase('target', ['Running']);
    await waitPhase('decoy', ['Running']);
    const cid = target.status.containerStatuses?.[0]?.containerID?.replace(/^[a-z-]+:\/\//, '');
    assert.match(cid ?? '', /^[0-9a-f]{64}$/);

    // Find the container's cgroup v2 path from the host /proc (hostPID), then filter on its cgroup id.
    const script = `
set -eu
CID=${cid}
cgpath=
for d in /proc/[0-9]*; do
  if grep -q "$CID" "$d/cgroup" 2>/dev/null; then cgpath=$(sed -n 's/^0:://p' "$d/cgroup"); [ -n "$cgpath" ] && break; fi
done
[ -n "$cgpath" ] || { echo "cgroup of container $CID not found" >&2; exit 3; }
echo "cgroup=/sys/fs/cgroup/unified$cgpath" >&2
exec bpftrace -f json -e '
BEGIN { printf("attached\\n"); }
tracepoint:syscalls:sys_enter_execve /cgroup == cgroupid("/sys/fs/cgroup/unified'"$cgpath"'")/ {
  if (str(args.filename) == "/bin/true") { @execs = count(); }
  if (str(args.filename) == "/bin/false") { exit(); }
}'
`;
    apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'agent', namespace: NS },
      spec: {
        restartPolicy: 'Never',
        hostPID: true,
        automountServiceAccountToken: false,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'bpftrace',
            image: AGENT_IMAGE,
            imagePullPolicy: 'Never',
            command: ['bash', '-c', script],
            securityContext: { privileged: true },
            volumeMounts: [
              { name: 'sys', mountPath: '/sys' },
              { name: 'tracefs', mountPath: '/sys/kernel/tracing' },
            ],
          },
        ],
        volumes: [
          { name: 'sys', hostPath: { path: '/sys', type: 'Directory' } },
          { name: 'tracefs', hostPath: { path: '/sys/kernel/tracing', type: 'Directory' } },
        ],
      },
    });
    await waitFor(
      'bpftrace to attach',
      () => {
        if (podPhase('agent') === 'Failed') throw new Error(`agent failed: ${tryKubectl(['-n', NS, 'logs', 'agent'])}`);
        return tryKubectl(['-n', NS, 'logs', 'agent'])?.includes('attached') || undefined;
      },
      90_000,
    );
    kubectl(['-n', NS, 'exec', 'target', '--', 'touch', '/tmp/go']);
    await waitPhase('agent', ['Succeeded'], 60_000);
    const out = kubectl(['-n', NS, 'logs', 'agent']);
    let execs: number | undefined;
    for (const line of out.split('\n')) {
      if (!line.trim().startsWith('{')) continue;
      const ev = JSON.parse(line) as { type?: string; data?: Record<string, unknown> };
      if (ev.type === 'map' && ev.data && '@execs' in ev.data) execs = Number(ev.data['@execs']);
    }
    assert.equal(execs, N, `bpftrace output:\n${out}`);
    kubectl(['-n', NS, 'delete', 'pod', 'target', 'decoy', '--wait=false']);
  });

  it('5. bridge-network pods get their own netns and IP and reach each other and the API server', async () => {
    const server = `require('net').createServer((s) => s.end('pong:' + process.env.HOSTNAME)).listen(8080, () => console.log('listening'))`;
    apply(simplePod('server', ['node', '-e', server]));
    apply(simplePod('client', ['sleep', '3600']));
    const s = await waitPhase('server', ['Running']);
    const c = await waitPhase('client', ['Running']);
    const inPodCidr = /^10\.88\.\d+\.\d+$/;
    assert.match(s.status.podIP ?? '', inPodCidr);
    assert.match(c.status.podIP ?? '', inPodCidr);
    assert.notEqual(s.status.podIP, c.status.podIP);
    assert.notEqual(s.status.podIP, nodeIP);

    const hostNetns = readlinkSync('/proc/self/ns/net');
    const serverNetns = kubectl(['-n', NS, 'exec', 'server', '--', 'readlink', '/proc/self/ns/net']).trim();
    const clientNetns = kubectl(['-n', NS, 'exec', 'client', '--', 'readlink', '/proc/self/ns/net']).trim();
    assert.match(serverNetns, /^net:\[\d+\]$/);
    assert.notEqual(serverNetns, hostNetns);
    assert.notEqual(clientNetns, hostNetns);
    assert.notEqual(serverNetns, clientNetns);

    await waitFor('server to listen', () => tryKubectl(['-n', NS, 'logs', 'server'])?.includes('listening') || undefined);
    const connect = (host: string, port: number, expectData: boolean): string =>
      kubectl([
        '-n',
        NS,
        'exec',
        'client',
        '--',
        'node',
        '-e',
        `const s = require('net').connect(${port}, '${host}');
         let d = '';
         s.setTimeout(5000, () => { console.log('timeout'); process.exit(2); });
         s.on('connect', () => { if (!${expectData}) { console.log('connected'); s.destroy(); } });
         s.on('data', (b) => { d += b; });
         s.on('end', () => console.log(d));
         s.on('error', (e) => { console.log('error ' + e.message); process.exit(1); });`,
      ]).trim();
    assert.equal(connect(s.status.podIP ?? '', 8080, true), 'pong:server');
    assert.equal(connect(nodeIP, 6443, false), 'connected', 'pod must reach the API server on the node IP');
    // No kube-proxy, but cluster.sh DNATs the `kubernetes` Service VIP to the API server.
    const vip = kubectl(['-n', 'default', 'get', 'service', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP}']).trim();
    assert.equal(connect(vip, 443, false), 'connected', 'pod must reach the kubernetes Service VIP');
    kubectl(['-n', NS, 'delete', 'pod', 'server', 'client', '--wait=false']);
  });
});
