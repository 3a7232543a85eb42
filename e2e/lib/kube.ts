// Small helpers for e2e tests: kubectl against the local cluster, waits, and
// per-test namespaces. Tests assert the state of the world through these.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

const CACHE = process.env.TRACEJOB_CACHE ?? '/var/cache/tracejob';
export const KUBECONFIG = process.env.KUBECONFIG ?? '/var/lib/tracejob-cluster/kubeconfig';

export function kubectlPath(): string {
  const cached = `${CACHE}/kubernetes-v1.34.4/bin/kubectl`;
  return existsSync(cached) ? cached : 'kubectl';
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(args: string[], input?: string): RunResult {
  const r = spawnSync(kubectlPath(), ['--kubeconfig', KUBECONFIG, ...args], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** kubectl that must succeed; returns stdout. */
export function k(args: string[], input?: string): string {
  const r = kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

export function getJson<T = Record<string, unknown>>(args: string[]): T {
  return JSON.parse(k([...args, '-o', 'json'])) as T;
}

export function apply(obj: unknown): string {
  return k(['apply', '-f', '-'], JSON.stringify(obj));
}

/** True when the local cluster answers; e2e suites skip otherwise. */
export function clusterReachable(): boolean {
  if (!existsSync(KUBECONFIG)) return false;
  try {
    execFileSync(kubectlPath(), ['--kubeconfig', KUBECONFIG, 'get', '--raw', '/readyz'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

export function createNamespace(prefix: string, annotations: Record<string, string> = {}): string {
  const name = uniqueName(prefix);
  apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, annotations } });
  // Pods need the default ServiceAccount, which the controller-manager adds.
  waitFor(`serviceaccount in ${name}`, 30_000, () => kubectl(['get', 'sa', 'default', '-n', name]).code === 0);
  return name;
}

export function deleteNamespace(name: string): void {
  kubectl(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns a truthy value; throws with `what` on timeout. */
export function waitFor<T>(what: string, timeoutMs: number, check: () => T | undefined | false): T {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    execFileSync('sleep', ['0.25']);
  }
}

export async function waitForAsync<T>(what: string, timeoutMs: number, check: () => T | undefined | false, intervalMs = 250): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Creates the namespace unless it exists (waiting out a previous deletion); true when this call created it. */
export async function ensureNamespace(name: string): Promise<boolean> {
  return waitForAsync(`namespace ${name} active`, 90_000, () => {
    const phase = kubectl(['get', 'namespace', name, '-o', 'jsonpath={.status.phase}']);
    if (phase.code === 0) return phase.stdout === 'Active' ? { created: false } : undefined;
    return kubectl(['create', 'namespace', name]).code === 0 ? { created: true } : undefined;
  }).then((r) => r.created);
}
