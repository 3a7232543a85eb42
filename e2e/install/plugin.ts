// Runs the kubectl plugin from source against the local cluster, and makes
// sure the operator is there for it to talk to (installing it with the Helm
// chart only when it is missing, so suites sharing the cluster are not
// disturbed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { KUBECONFIG, kubectl } from '../lib/kube.js';
import { OPERATOR_NS, installOperator } from '../lib/tracejob.js';

export interface PluginResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function plugin(args: string[], timeoutMs = 180_000): PluginResult {
  const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', ...args], {
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG },
    timeout: timeoutMs,
    maxBuffer: 64 << 20,
  });
  // A spawn failure or timeout is not an exit code the plugin chose: say so.
  assert.equal(r.error, undefined, `plugin ${args.join(' ')} did not run to completion: ${String(r.error)}`);
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function ensureOperator(): void {
  const r = kubectl(['-n', OPERATOR_NS, 'get', 'deploy', 'tracejob-operator', '-o', 'jsonpath={.status.availableReplicas}']);
  if (r.code === 0 && Number(r.stdout) >= 1) return;
  installOperator(); // asserts an available replica
  assert.equal(kubectl(['-n', OPERATOR_NS, 'get', 'deploy', 'tracejob-operator']).code, 0);
}
