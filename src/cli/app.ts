// kubectl-tracejob: the commands. `runCli(argv, io)` parses, runs and returns
// the exit code (see ./errors.ts); all I/O goes through `io` so tests drive it
// with a fake client and captured output.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { TraceJob } from '../api/tracejob.js';
import { parseDuration } from '../api/duration.js';
import { normalizeDocument } from '../results/document.js';
import { renderReport } from '../results/report.js';
import { renderFlameGraph } from '../results/flamegraph.js';
import { resultConfigMapName } from '../controller/names.js';
import { NotFoundError, ForbiddenError } from '../k8s/errors.js';
import type { ConnectOptions, TraceJobClient } from './client.js';
import { CliError, EXIT, describeError, usageError, type ExitCode } from './errors.js';
import { describeTraceJob, eventsTable, jsonOutput, traceJobTable, yamlOutput } from './format.js';
import { printableText } from '../results/safe-text.js';
import { probeCatalog, probesTable, type ProbeInfo } from './probes.js';
import { CAPABILITY_LABEL, nodesText, parseNodeReport, supportMatrix, type NodeReport } from './nodes.js';
import { buildTraceJob, toManifest } from './spec.js';
import { waitForTraceJob } from './wait.js';

export interface Out {
  write(s: string): void;
  isTTY?: boolean;
}

export interface CliIO {
  stdout: Out;
  stderr: Out;
  readFile(path: string): string;
  writeFile(path: string, data: string): void;
  now(): number;
  sleep(ms: number): Promise<void>;
  /** Creates the API client (lazily: commands that need no cluster never call it). */
  connect(options: ConnectOptions): TraceJobClient;
  /** Poll interval while waiting (ms, default 1000). */
  pollMs?: number;
}

interface GlobalOpts {
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  operatorNamespace: string;
}

const RESOURCE = 'tracejob.tracing.tracejob.dev';
/** Default extra time, past the trace duration, that --wait waits. */
const DEFAULT_WAIT_SLACK_MS = 5 * 60_000;

const intArg =
  (min: number, max: number) =>
  (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`must be an integer from ${min} to ${max}`);
    return n;
  };

const durationArg = (v: string): number => {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('must be a duration like 90s, 5m or 1m30s');
  return ms;
};

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function outputOption(choices: string[], help = 'output format'): Option {
  return new Option('-o, --output <format>', help).choices(choices);
}

function print(io: CliIO, value: unknown, format: 'json' | 'yaml'): void {
  io.stdout.write(format === 'json' ? jsonOutput(value) : yamlOutput(value));
}

export function buildProgram(io: CliIO, setExit: (code: ExitCode) => void): Command {
  let client: TraceJobClient | undefined;
  const program = new Command('kubectl-tracejob');
  const globals = (cmd: Command): GlobalOpts => cmd.optsWithGlobals<GlobalOpts>();
  const kube = (cmd: Command): TraceJobClient => {
    if (!client) {
      const g = globals(cmd);
      client = io.connect({ ...(g.kubeconfig ? { kubeconfig: g.kubeconfig } : {}), ...(g.context ? { context: g.context } : {}) });
    }
    return client;
  };
  const ns = (cmd: Command): string => globals(cmd).namespace ?? kube(cmd).defaultNamespace;

  program
    .description('Run and inspect TraceJobs: kernel tracing (bpftrace) of Kubernetes pods.')
    .usage('<command> [options]')
    .option('-n, --namespace <namespace>', 'namespace of the TraceJob (default: the kubeconfig context\'s)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--operator-namespace <namespace>', 'namespace the operator runs node jobs in', 'tracejob-system')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .addHelpText(
      'after',
      '\nExit codes: 0 success, 1 TraceJob Failed, 2 usage/validation error, 3 API/connection error, 4 timeout.',
    );

  // ---- run ------------------------------------------------------------------
  program
    .command('run')
    .description('Create a TraceJob from flags; with --wait, show progress and print the report')
    .argument('<name>', 'TraceJob name')
    .option('--pod <pod>', 'trace one pod')
    .option('--selector <k=v,...>', 'trace every pod matching these labels (one node job per node)')
    .option('--node <node>', 'trace a whole node (needs cluster policy)')
    .option('-c, --container <container>', 'container to trace (default: the first)')
    .option('--target-namespace <namespace>', "namespace of the target pods (default: the TraceJob's; must consent)")
    .option('-p, --probe <type>', 'catalog probe (see `probes`), or bpftrace/systemtap with --program-file')
    .option('-d, --duration <duration>', 'how long to trace, 1s to 1h', '30s')
    .option('--param <k=v>', 'probe parameter, repeatable (lists: k=a,b or repeat the key)', collect, [])
    .option('--program-file <file>', 'custom program (probe type bpftrace unless --probe says systemtap)')
    .addOption(new Option('--backend <backend>', 'tracing engine').choices(['auto', 'bpftrace', 'systemtap']))
    .option('--top-n <n>', 'rows kept in top-N tables', intArg(1, 1000))
    .option('--max-events <n>', 'events kept in the result', intArg(0, 100000))
    .option('--ttl <seconds>', 'delete the TraceJob this long after it finishes', intArg(0, 31_536_000))
    .option('-w, --wait', 'wait for the result, showing progress on stderr, then print the report')
    .option('--timeout <duration>', 'with --wait: give up after this long (default: the trace duration + 5m)', durationArg)
    .option('--dry-run', 'print the TraceJob instead of creating it')
    .addOption(outputOption(['yaml', 'json', 'name'], 'without --wait: print the created object (yaml|json|name); with --wait: json prints result.json'))
    .action(async (name: string, o: Record<string, unknown>, cmd: Command) => {
      let program: string | undefined;
      if (typeof o['programFile'] === 'string') {
        try {
          program = io.readFile(o['programFile']);
        } catch (e) {
          throw usageError(`cannot read --program-file: ${(e as Error).message}`);
        }
      }
      const namespace = globals(cmd).namespace ?? (o['dryRun'] ? 'default' : kube(cmd).defaultNamespace);
      const built = buildTraceJob(name, namespace, {
        pod: o['pod'] as string | undefined,
        selector: o['selector'] as string | undefined,
        node: o['node'] as string | undefined,
        container: o['container'] as string | undefined,
        targetNamespace: o['targetNamespace'] as string | undefined,
        probe: o['probe'] as string | undefined,
        duration: o['duration'] as string,
        param: o['param'] as string[],
        program,
        backend: o['backend'] as string | undefined,
        topN: o['topN'] as number | undefined,
        maxEvents: o['maxEvents'] as number | undefined,
        ttl: o['ttl'] as number | undefined,
      });
      if (!built.ok) throw usageError(`invalid TraceJob:\n${built.errors.map((e) => `  ${e}`).join('\n')}`);
      const manifest = toManifest(built.traceJob);
      if (o['dryRun']) {
        print(io, manifest, o['output'] === 'json' ? 'json' : 'yaml');
        return;
      }
      const c = kube(cmd);
      const created = await c.create(manifest);
      if (!o['wait']) {
        if (o['output'] === 'json' || o['output'] === 'yaml') print(io, created, o['output']);
        else if (o['output'] === 'name') io.stdout.write(`${RESOURCE}/${name}\n`);
        else io.stdout.write(`${RESOURCE}/${name} created\n`);
        return;
      }
      io.stderr.write(`${RESOURCE}/${name} created in ${namespace}; waiting (${built.traceJob.spec.duration} trace)\n`);
      const timeoutMs = (o['timeout'] as number | undefined) ?? built.durationMs + DEFAULT_WAIT_SLACK_MS;
      setExit(await waitAndReport(io, c, namespace, name, built.durationMs, timeoutMs, o['output'] === 'json' ? 'json' : 'text'));
    });

  // ---- wait -----------------------------------------------------------------
  program
    .command('wait')
    .description('Wait for a TraceJob to finish, showing progress (exit 0 Succeeded, 1 Failed, 4 timeout)')
    .argument('<name>', 'TraceJob name')
    .option('--timeout <duration>', 'give up after this long (default: the trace duration + 5m)', durationArg)
    .option('--report', 'print the report when it succeeds')
    .action(async (name: string, o: { timeout?: number; report?: boolean }, cmd: Command) => {
      const c = kube(cmd);
      const namespace = ns(cmd);
      const tj = await c.get(namespace, name);
      const durationMs = parseDuration(String(tj.spec.duration ?? '30s')) ?? 30_000;
      setExit(await waitAndReport(io, c, namespace, name, durationMs, o.timeout ?? durationMs + DEFAULT_WAIT_SLACK_MS, o.report ? 'text' : 'none'));
    });

  // ---- get ------------------------------------------------------------------
  program
    .command('get')
    .description('List TraceJobs, or show one')
    .argument('[name]', 'TraceJob name')
    .option('-A, --all-namespaces', 'list TraceJobs in all namespaces')
    .addOption(outputOption(['json', 'yaml', 'wide', 'name']))
    .action(async (name: string | undefined, o: { allNamespaces?: boolean; output?: string }, cmd: Command) => {
      if (name !== undefined && o.allNamespaces) throw usageError('a name cannot be combined with --all-namespaces');
      const c = kube(cmd);
      const namespace = o.allNamespaces ? undefined : ns(cmd);
      const items = name !== undefined ? [await c.get(namespace as string, name)] : await c.list(namespace);
      if (o.output === 'json' || o.output === 'yaml') {
        print(io, name !== undefined ? items[0] : { apiVersion: 'v1', kind: 'List', items, metadata: { resourceVersion: '' } }, o.output);
        return;
      }
      if (o.output === 'name') {
        for (const tj of items) io.stdout.write(`${RESOURCE}/${tj.metadata.name}\n`);
        return;
      }
      if (items.length === 0) {
        io.stderr.write(namespace === undefined ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`);
        return;
      }
      const sorted = [...items].sort((a, b) => (a.metadata.namespace + a.metadata.name < b.metadata.namespace + b.metadata.name ? -1 : 1));
      io.stdout.write(traceJobTable(sorted, { allNamespaces: Boolean(o.allNamespaces), wide: o.output === 'wide', nowMs: io.now() }));
    });

  // ---- describe ---------------------------------------------------------------
  program
    .command('describe')
    .description('Show a TraceJob: spec, phase, timing, conditions, targets, result and events')
    .argument('<name>', 'TraceJob name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const c = kube(cmd);
      const namespace = ns(cmd);
      const tj = await c.get(namespace, name);
      const events = await c.events(namespace, name, tj.metadata.uid).catch(() => undefined);
      io.stdout.write(describeTraceJob(tj, events, io.now()));
    });

  // ---- report -------------------------------------------------------------------
  program
    .command('report')
    .description("Print a finished TraceJob's report (tables, histograms) from its result ConfigMap")
    .argument('<name>', 'TraceJob name')
    .option('--flamegraph <file>', 'also write the flame graph SVG (cpuProfile, offCpu) to this file')
    .addOption(outputOption(['text', 'json', 'yaml'], 'text (report.txt) or the result document (result.json) as json|yaml'))
    .option('-w, --wait', 'wait for the TraceJob to finish first')
    .option('--timeout <duration>', 'with --wait: give up after this long', durationArg)
    .action(async (name: string, o: { flamegraph?: string; output?: string; wait?: boolean; timeout?: number }, cmd: Command) => {
      const c = kube(cmd);
      const namespace = ns(cmd);
      let tj = await c.get(namespace, name);
      if (o.wait) {
        const durationMs = parseDuration(String(tj.spec.duration ?? '30s')) ?? 30_000;
        const r = await waitForTraceJob(
          { fetch: () => c.get(namespace, name), now: io.now, sleep: io.sleep, progress: { write: (s) => io.stderr.write(s), isTTY: Boolean(io.stderr.isTTY) } },
          { durationMs, timeoutMs: o.timeout ?? durationMs + DEFAULT_WAIT_SLACK_MS, pollMs: io.pollMs ?? 1000 },
        );
        if (r.kind === 'timeout') throw new CliError(`timed out waiting for TraceJob ${namespace}/${name}`, EXIT.timeout);
        tj = r.tj;
      }
      const phase = tj.status?.phase;
      if (phase !== 'Succeeded' && phase !== 'Failed') {
        throw new CliError(`TraceJob ${namespace}/${name} has not finished (phase ${phase ?? 'Pending'}); use --wait`, EXIT.timeout);
      }
      if (phase === 'Failed') {
        io.stderr.write(failureText(tj));
        setExit(EXIT.failed);
        return;
      }
      const format = o.output === 'json' || o.output === 'yaml' ? o.output : 'text';
      await printResult(io, c, tj, format, o.flamegraph);
    });

  // ---- probes ---------------------------------------------------------------------
  program
    .command('probes')
    .description('List the probe catalog: name, scope, parameters with defaults, summary; --nodes: which nodes can run each')
    .argument('[name]', 'show one probe in detail')
    .option('--nodes', "also show which nodes support each probe (from the operator's node capability reports)")
    .addOption(outputOption(['json', 'yaml', 'wide']))
    .action(async (name: string | undefined, o: { output?: string; nodes?: boolean }, cmd: Command) => {
      const all = probeCatalog();
      const list = name === undefined ? all : all.filter((p) => p.name === name);
      if (name !== undefined && list.length === 0) throw usageError(`unknown probe "${name}" (known: ${all.map((p) => p.name).join(', ')})`);
      if (o.nodes) {
        const opNs = globals(cmd).operatorNamespace;
        const reports = (await kube(cmd).nodeReports(opNs, CAPABILITY_LABEL)).map(parseNodeReport).filter((r): r is NodeReport => r !== undefined);
        if (o.output === 'json' || o.output === 'yaml') {
          const matrix = new Map(supportMatrix(reports).map((m) => [m.probe, m.nodes]));
          const withNodes = list.map((p) => ({ ...p, nodes: matrix.get(p.name) ?? {} }));
          print(io, name === undefined ? withNodes : withNodes[0], o.output);
          return;
        }
        if (reports.length === 0) {
          io.stdout.write(`No node capability reports in ${opNs} yet (the operator writes one per node when a trace runs there).\n`);
          return;
        }
        io.stdout.write(printableText(nodesText(reports, io.now())));
        return;
      }
      if (o.output === 'json' || o.output === 'yaml') {
        print(io, name === undefined ? list : list[0], o.output);
        return;
      }
      if (name !== undefined || o.output === 'wide') {
        io.stdout.write(list.map(probeDetail).join('\n'));
        return;
      }
      io.stdout.write(probesTable(list));
    });

  // ---- delete ---------------------------------------------------------------------
  program
    .command('delete')
    .description('Delete a TraceJob (a running trace is stopped, its node job removed)')
    .argument('<name>', 'TraceJob name')
    .option('--ignore-not-found', 'exit 0 when it does not exist')
    .action(async (name: string, o: { ignoreNotFound?: boolean }, cmd: Command) => {
      const c = kube(cmd);
      const namespace = ns(cmd);
      const deleted = await c.delete(namespace, name);
      if (deleted) io.stdout.write(`${RESOURCE} "${name}" deleted\n`);
      else if (!o.ignoreNotFound) throw new CliError(`${RESOURCE} "${name}" not found in ${namespace}`, EXIT.api);
    });

  // ---- logs -------------------------------------------------------------------------
  program
    .command('logs')
    .description("Show a TraceJob's events and, while they exist, its agent pods' logs")
    .argument('<name>', 'TraceJob name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const c = kube(cmd);
      const namespace = ns(cmd);
      const opNs = globals(cmd).operatorNamespace;
      const tj = await c.get(namespace, name);
      io.stdout.write(`Events of ${namespace}/${name}:\n`);
      io.stdout.write(eventsTable(await c.events(namespace, name, tj.metadata.uid), io.now()));
      let pods;
      try {
        pods = await c.agentPods(opNs, tj.metadata.uid);
      } catch (e) {
        if (e instanceof ForbiddenError) {
          io.stdout.write(`\nAgent pods: not allowed to list pods in ${opNs} (${e.message})\n`);
          return;
        }
        throw e;
      }
      if (pods.length === 0) {
        io.stdout.write(`\nNo agent pods left in ${opNs} (node jobs are deleted once the result is collected).\n`);
        return;
      }
      for (const p of pods) {
        io.stdout.write(`\n--- agent pod ${opNs}/${p.name}${p.node ? ` on ${p.node}` : ''}${p.phase ? ` (${p.phase})` : ''} ---\n`);
        try {
          // The agent echoes tracer and program output: escaped, its lines kept.
          const log = printableText(await c.podLog(opNs, p.name));
          io.stdout.write(log.endsWith('\n') || log === '' ? log : `${log}\n`);
        } catch (e) {
          io.stdout.write(printableText(`(log unavailable: ${describeError(e).message})\n`));
        }
      }
    });

  return program;
}

function probeDetail(p: ProbeInfo): string {
  const lines = [`${p.name} (scope: ${p.scope}; backends: ${p.backends.join(', ')})`, `  ${p.summary}`, `  covers: ${p.covers}`, `  hooks: ${p.hooks.join(', ')}`];
  if (p.params.length === 0) lines.push('  params: none');
  else {
    lines.push('  params:');
    for (const x of p.params) {
      const type = x.values ? `${x.type} of ${x.values.join('|')}` : x.type;
      const dflt = x.required ? 'required' : x.default !== undefined ? `default ${JSON.stringify(x.default)}` : 'optional';
      lines.push(`    ${x.name} (${type}, ${dflt}): ${x.description}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function failureText(tj: TraceJob): string {
  const failed = tj.status?.conditions?.find((c) => c.type === 'Failed');
  return printableText(`TraceJob ${tj.metadata.namespace}/${tj.metadata.name} Failed: ${failed?.reason ?? 'Failed'}: ${tj.status?.message ?? failed?.message ?? ''}\n`);
}

/** Prints report.txt (or renders it from result.json), or the document as json/yaml; optionally writes the flame graph. */
async function printResult(io: CliIO, c: TraceJobClient, tj: TraceJob, format: 'text' | 'json' | 'yaml', flamegraph?: string): Promise<void> {
  const cmName = tj.status?.resultRef?.configMap ?? resultConfigMapName(tj.metadata.name, tj.spec.output?.configMapName);
  const data = await c.configMapData(tj.metadata.namespace, cmName);
  if (!data) throw new CliError(`result ConfigMap ${tj.metadata.namespace}/${cmName} not found`, EXIT.api);
  let doc: unknown;
  const docText = data['result.json'];
  if (docText !== undefined) {
    try {
      doc = JSON.parse(docText) as unknown;
    } catch {
      doc = undefined;
    }
  }
  if (format === 'text') {
    const stored = data['report.txt'] ?? (doc !== undefined ? renderReport(normalizeDocument(doc)) : undefined);
    if (stored === undefined) throw new CliError(`result ConfigMap ${cmName} holds neither report.txt nor result.json`, EXIT.api);
    // Escaped again here: the ConfigMap is the tenant's to write (or an older operator's), not proof of escaping.
    const report = printableText(stored);
    io.stdout.write(report.endsWith('\n') ? report : `${report}\n`);
  } else {
    if (doc === undefined) throw new CliError(`result ConfigMap ${cmName} holds no readable result.json`, EXIT.api);
    print(io, doc, format);
  }
  if (flamegraph !== undefined) {
    let svg = data['flamegraph.svg'];
    const folded = data['stacks.folded'] ?? (doc as { stacks?: { folded?: string } } | undefined)?.stacks?.folded;
    if (svg === undefined && folded) svg = renderFlameGraph(folded, { title: `${tj.metadata.name} (${String(tj.spec.probe?.type ?? '')})` });
    if (svg === undefined) throw usageError(`TraceJob ${tj.metadata.name} has no stacks for a flame graph (probe ${String(tj.spec.probe?.type ?? '')}; use cpuProfile or offCpu)`);
    io.writeFile(flamegraph, svg);
    io.stderr.write(`flame graph written to ${flamegraph}\n`);
  }
}

async function waitAndReport(io: CliIO, c: TraceJobClient, namespace: string, name: string, durationMs: number, timeoutMs: number, report: 'text' | 'json' | 'none'): Promise<ExitCode> {
  const r = await waitForTraceJob(
    { fetch: () => c.get(namespace, name), now: io.now, sleep: io.sleep, progress: { write: (s) => io.stderr.write(s), isTTY: Boolean(io.stderr.isTTY) } },
    { durationMs, timeoutMs, pollMs: io.pollMs ?? 1000 },
  );
  if (r.kind === 'timeout') {
    io.stderr.write(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for TraceJob ${namespace}/${name} (phase ${r.tj?.status?.phase ?? 'unknown'}); it keeps running\n`);
    return EXIT.timeout;
  }
  if (r.tj.status?.phase === 'Failed') {
    io.stderr.write(failureText(r.tj));
    return EXIT.failed;
  }
  if (report !== 'none') await printResult(io, c, r.tj, report === 'json' ? 'json' : 'text');
  return EXIT.ok;
}

/** Parses and runs; returns the exit code. Never throws. */
export async function runCli(argv: readonly string[], io: CliIO): Promise<ExitCode> {
  let code: ExitCode = EXIT.ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version are successes; everything else commander reports is usage.
      return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (e instanceof NotFoundError) {
      io.stderr.write(printableText(`error: ${e.message}\n`));
      return EXIT.api;
    }
    const d = describeError(e);
    io.stderr.write(printableText(`error: ${d.message}\n`));
    return d.code;
  }
}
