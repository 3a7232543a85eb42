// Every YAML we ship as documentation is valid: the files under examples/ and
// the ```yaml blocks of docs/runbooks/*.md. TraceJobs pass the operator's own
// validation (zod schema, per-probe params, probe scope — what the CRD cannot
// check), every object the cluster knows is accepted by the real API server
// (server-side dry run in a scratch namespace), and every
// `kubectl tracejob run ...` command in the runbooks parses and validates.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { validateSpec } from '../../src/controller/validate.js';
import { runCli, type CliIO } from '../../src/cli/app.js';
import { clusterReachable, createNamespace, deleteNamespace, kubectl } from '../lib/kube.js';

interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
}
interface Doc {
  where: string;
  obj: Obj;
}

/** Kinds shipped as examples whose APIs the test cluster does not serve (checked by parsing only). */
const NOT_SERVED = new Set([
  'kustomize.config.k8s.io/v1beta1 Kustomization',
  'source.toolkit.fluxcd.io/v1 GitRepository',
  'kustomize.toolkit.fluxcd.io/v1 Kustomization',
  'argoproj.io/v1alpha1 Application',
]);

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

function parseDocs(text: string, where: string): Doc[] {
  const docs: Doc[] = [];
  parseAllDocuments(text).forEach((d, i) => {
    assert.equal(d.errors.length, 0, `${where} document ${i + 1}: ${d.errors.map((e) => e.message).join('; ')}`);
    const obj = d.toJS() as Obj | null;
    if (obj) docs.push({ where: `${where}#${i + 1}`, obj });
  });
  return docs;
}

function yamlBlocks(md: string): string[] {
  return [...md.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1] as string);
}

/** `kubectl tracejob run ...` lines of ```sh blocks, continuation lines joined, split into argv. */
function runCommands(md: string): string[][] {
  const cmds: string[][] = [];
  for (const block of md.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const joined = (block[1] as string).replace(/\\\n\s*/g, ' ');
    for (const line of joined.split('\n')) {
      const code = line.replace(/\s#.*$/, '').trim();
      if (code.startsWith('kubectl tracejob run ')) cmds.push(code.split(/\s+/).slice(2));
    }
  }
  return cmds;
}

const runbooks = readdirSync('docs/runbooks').filter((f) => f.endsWith('.md')).sort();
const docs: Doc[] = [
  ...walk('examples').filter((f) => /\.ya?ml$/.test(f)).flatMap((f) => parseDocs(readFileSync(f, 'utf8'), f)),
  ...runbooks.flatMap((f) => yamlBlocks(readFileSync(join('docs/runbooks', f), 'utf8')).flatMap((b, i) => parseDocs(b, `docs/runbooks/${f} yaml block ${i + 1}`))),
];
const traceJobs = docs.filter((d) => d.obj.kind === 'TraceJob');

describe('shipped YAML: examples/ and docs/runbooks', () => {
  test('there is a runbook with TraceJobs for every symptom', () => {
    const expected = ['latency-spike', 'connection-errors', 'disk-stalls', 'cpu-saturation', 'dns-slowness', 'lock-contention', 'ooms'];
    for (const name of expected) {
      const jobs = traceJobs.filter((d) => d.where.startsWith(`docs/runbooks/${name}.md`));
      assert.ok(jobs.length >= 1, `docs/runbooks/${name}.md has no TraceJob`);
    }
    const probes = new Set(traceJobs.map((d) => (d.obj.spec as { probe?: { type?: string } }).probe?.type));
    for (const p of ['syscallLatency', 'offCpu', 'runqLatency', 'tcpRetransmits', 'tcpConnectLatency', 'packetDrops', 'blockIOLatency', 'slowFileOps', 'cpuProfile', 'dnsLatency', 'futexContention', 'oomKills']) {
      assert.ok(probes.has(p), `no runbook TraceJob uses ${p}`);
    }
  });

  test('every TraceJob passes the operator validation (params, scope) and names its namespace', () => {
    assert.ok(traceJobs.length >= 15, `only ${traceJobs.length} TraceJobs found`);
    for (const d of traceJobs) {
      assert.equal(d.obj.apiVersion, 'tracing.tracejob.dev/v1alpha1', d.where);
      assert.ok(d.obj.metadata?.name, `${d.where}: metadata.name`);
      assert.ok(d.obj.metadata?.namespace, `${d.where}: metadata.namespace`);
      const v = validateSpec(d.obj.spec);
      assert.ok(v.ok, `${d.where}: ${v.ok ? '' : v.message}`);
    }
  });

  test('every `kubectl tracejob run` command in the runbooks validates (run --dry-run)', async () => {
    let n = 0;
    for (const f of runbooks) {
      for (const argv of runCommands(readFileSync(join('docs/runbooks', f), 'utf8'))) {
        n++;
        let stderr = '';
        const io: CliIO = {
          stdout: { write: () => undefined },
          stderr: { write: (s) => void (stderr += s) },
          readFile: (p) => readFileSync(p, 'utf8'),
          writeFile: () => undefined,
          now: () => Date.now(),
          sleep: async () => undefined,
          connect: () => {
            throw new Error('a --dry-run must not connect');
          },
        };
        const args = argv.filter((a) => a !== '--wait' && a !== '-w');
        const code = await runCli([...args, '--dry-run'], io);
        assert.equal(code, 0, `${f}: kubectl tracejob ${argv.join(' ')}\n${stderr}`);
      }
    }
    assert.ok(n >= 12, `only ${n} run commands found`);
  });

  describe('accepted by the API server (--dry-run=server)', { skip: !clusterReachable() && 'local cluster not running' }, () => {
    let ns = '';
    before(() => {
      ns = createNamespace('tj-examples');
    });
    after(() => deleteNamespace(ns));

    test('every object of a served kind', () => {
      let n = 0;
      for (const d of docs) {
        const key = `${d.obj.apiVersion} ${d.obj.kind}`;
        if (NOT_SERVED.has(key)) continue;
        const obj = { ...d.obj, metadata: { ...d.obj.metadata, namespace: ns } };
        const r = kubectl(['apply', '--server-side', '--field-manager', 'tracejob-e2e-examples', '--dry-run=server', '-f', '-'], JSON.stringify(obj));
        assert.equal(r.code, 0, `${d.where} (${key} ${d.obj.metadata?.name}): ${r.stderr}`);
        n++;
      }
      assert.ok(n >= traceJobs.length, `dry-ran ${n} objects`);
    });
  });
});
