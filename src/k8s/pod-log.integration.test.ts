// ApiTraceJobPort.streamPodLog against a real kubelet (the local cluster): a pod
// prints a known log; read with a byte limit above and below its size, the lines
// arrive whole, a line the limit cuts is never passed on, and the cut is reported.
// Skips when the cluster is unreachable.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { loadKubeConfig } from './client.js';
import { ApiTraceJobPort } from './tracejob-port.js';
import { CLUSTER_KUBECONFIG, clusterUnreachable } from './testing.js';

const KUBECONFIG = CLUSTER_KUBECONFIG;

const skip = await clusterUnreachable();
// 2000 lines of 1000 'x' and a last line: 2 002 000 + bytes.
const LINES = 2000;
const WIDTH = 1000;

describe('streamPodLog against a real kubelet', { skip }, () => {
  const kc = loadKubeConfig({ kubeconfig: KUBECONFIG });
  const core = kc.makeApiClient(CoreV1Api);
  const ns = `tj-it-podlog-${randomBytes(3).toString('hex')}`;
  const port = new ApiTraceJobPort(kc, ns);

  before(async () => {
    await core.createNamespace({ body: { metadata: { name: ns } } });
    for (let i = 0; i < 60; i++) {
      const sa = await core.readNamespacedServiceAccount({ namespace: ns, name: 'default' }).catch(() => undefined);
      if (sa) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const script = `const l = 'x'.repeat(${WIDTH}); for (let i = 0; i < ${LINES}; i++) process.stdout.write(i + ' ' + l + '\\n'); process.stdout.write('last line');`;
    await core.createNamespacedPod({
      namespace: ns,
      body: {
        metadata: { name: 'printer' },
        spec: { restartPolicy: 'Never', containers: [{ name: 'agent', image: 'localhost/tracejob-workload:dev', imagePullPolicy: 'Never', command: ['node', '-e', script] }] },
      },
    });
    for (let i = 0; i < 240; i++) {
      const pod = await core.readNamespacedPod({ namespace: ns, name: 'printer' });
      if (pod.status?.phase === 'Succeeded') return;
      if (pod.status?.phase === 'Failed') throw new Error('printer pod failed');
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error('printer pod did not finish');
  });
  after(async () => {
    await core.deleteNamespace({ name: ns }).catch(() => undefined);
  });

  it('under the limit: every line, the last one without a newline too, not cut', async () => {
    const lines: string[] = [];
    const r = await port.streamPodLog('printer', 'agent', 8 * 1024 * 1024, (l) => lines.push(l));
    assert.equal(r.cut, false);
    assert.equal(lines.length, LINES + 1);
    assert.equal(lines.at(-1), 'last line');
    assert.ok(lines.slice(0, -1).every((l, i) => l === `${i} ${'x'.repeat(WIDTH)}`));
  });

  it('over the limit: only whole lines up to it, and the cut reported', async () => {
    const lines: string[] = [];
    const limit = 500_000;
    const r = await port.streamPodLog('printer', 'agent', limit, (l) => lines.push(l));
    assert.equal(r.cut, true);
    assert.ok(r.bytes <= limit, `${r.bytes} bytes read`);
    assert.ok(lines.length > 100 && lines.length < LINES, `${lines.length} lines`);
    assert.ok(lines.every((l, i) => l === `${i} ${'x'.repeat(WIDTH)}`), 'a partial line was passed on');
  });

  it('a pod that does not exist is an error, not an empty log', async () => {
    await assert.rejects(port.streamPodLog('no-such-pod', 'agent', 1024, () => undefined));
  });
});
