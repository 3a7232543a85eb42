// The node agent: the node Job's entrypoint (`node dist/agent/main.js`).
// config → preflight → resolve → probe/params/support → render → run bpftrace →
// shape → result document on stdout → termination message → exit code.
// Everything on stdout is a protocol message (encodeMessage); diagnostics go to stderr.
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { isCustomProbe } from '../api/probe-names.js';
import {
  AGENT_CONFIG_ENV,
  AGENT_EXIT,
  AgentConfig,
  CHANNEL_KEY,
  PROGRAM_ECHO_LIMIT_BYTES,
  RESULT_RECORD_LIMIT_BYTES,
  frameLines,
  EXIT_REASONS,
  TERMINATION_LOG,
  TERMINATION_MESSAGE_LIMIT,
  encodeMessage,
  type AgentMessage,
  type ResolvedTarget,
  type TerminationSummary,
} from './protocol.js';
import { capsForMessage, preflight, systemtapBlockers, type AgentCapabilities } from './preflight.js';
import {
  chooseFilter,
  chooseMainPid,
  findLibc,
  hostMntNs,
  hostNetNs,
  parseContainerId,
  ppidOf,
  resolveTarget,
  targetAlive,
} from './resolve.js';
import { cleanStderr, isCompileError, runBpftrace, type RunHandle, type RunResult } from './run.js';
import { chooseBackend } from '../systemtap/backend.js';
import { SYSTEMTAP_RENDERERS, hasSystemtapScript, systemtapNotes } from '../systemtap/catalog.js';
import { classifyStapError, renderCustomStap, stapArgs } from '../systemtap/custom.js';
import type { ProbeDefinition, RenderContext, TargetFilter } from '../probes/types.js';
import { boundDocument } from '../results/document.js';
import {
  buildDocument,
  createParser,
  createStapParser,
  getProbe,
  parseKfreeSkbReasons,
  renderCustomProgram,
  shapeResult,
  validateParams,
} from './wiring.js';

type ExitCode = (typeof AGENT_EXIT)[keyof typeof AGENT_EXIT];
/** The result record around its document: kind, time and MAC. */
const RECORD_ENVELOPE_BYTES = 512;
type Config = ReturnType<typeof AgentConfig.parse>;

export interface AgentIO {
  env: NodeJS.ProcessEnv;
  /** One protocol line to stdout. */
  stdout(line: string): void;
  /** Diagnostics to stderr. */
  stderr(line: string): void;
  /** Where to write the termination message; undefined = TERMINATION_LOG when it exists. */
  terminationLog?: string;
  /** Install SIGTERM/SIGINT handlers that stop the trace early (the real entrypoint does). */
  handleSignals?: boolean;
  /** Overrides for tests. */
  preflight?: () => AgentCapabilities;
  procRoot?: string;
  exists?: (path: string) => boolean;
}

/** Raised at any step to end the run with an exit code and an error message. */
class AgentExit extends Error {
  constructor(
    readonly code: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** Termination message under the kubelet limit (the message is shortened, never the JSON cut). */
export function terminationMessage(summary: TerminationSummary, limit = TERMINATION_MESSAGE_LIMIT): string {
  let s = JSON.stringify(summary);
  if (Buffer.byteLength(s) < limit) return s;
  const fixed = { ...summary, message: '' };
  const room = limit - Buffer.byteLength(JSON.stringify(fixed)) - 64;
  let msg = summary.message ?? '';
  while (Buffer.byteLength(JSON.stringify(msg)) > room && msg.length > 0) msg = msg.slice(0, Math.floor(msg.length * 0.8));
  s = JSON.stringify({ ...summary, message: `${msg}…[truncated]` });
  if (Buffer.byteLength(s) < limit) return s;
  return JSON.stringify({ reason: summary.reason, partial: summary.partial });
}

/** skb drop reason names from this kernel's kfree_skb format file (numbering varies by kernel). */
function readDropReasons(tracefs: string | undefined): Map<number, string> {
  if (tracefs === undefined) return new Map();
  try {
    return parseKfreeSkbReasons(readFileSync(`${tracefs}/events/skb/kfree_skb/format`, 'utf8'));
  } catch {
    return new Map();
  }
}

function parseConfig(env: NodeJS.ProcessEnv): Config {
  const raw = env[AGENT_CONFIG_ENV];
  if (raw === undefined || raw.trim() === '') throw new AgentExit(AGENT_EXIT.invalidConfig, `${AGENT_CONFIG_ENV} is not set`);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    // Only where, never what: the text holds the channel key, and newer engines quote the input in the error.
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new AgentExit(AGENT_EXIT.invalidConfig, `${AGENT_CONFIG_ENV} is not valid JSON${at !== undefined ? ` (at position ${at})` : ''}`);
  }
  const r = AgentConfig.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AgentExit(AGENT_EXIT.invalidConfig, `${AGENT_CONFIG_ENV} is invalid: ${issues}`);
  }
  return r.data;
}

/**
 * The channel key from the config, read leniently so that even an invalid config's
 * error record is signed. Undefined when absent or malformed.
 */
function channelKeyOf(env: NodeJS.ProcessEnv): string | undefined {
  try {
    const key = (JSON.parse(env[AGENT_CONFIG_ENV] ?? '') as { channelKey?: unknown }).channelKey;
    return typeof key === 'string' && CHANNEL_KEY.test(key) ? key : undefined;
  } catch {
    return undefined;
  }
}

/** The tracer's environment: the agent's without its config (the channel key stays with the agent). */
export function tracerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  delete out[AGENT_CONFIG_ENV];
  return out;
}

/** The first `limit` bytes of a text, cut on a character boundary, with a marker when cut. */
export function clipBytes(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text;
  let cut = Buffer.from(text).subarray(0, limit).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return `${cut}\n…[${Buffer.byteLength(text) - Buffer.byteLength(cut)} more bytes not shown]`;
}

export async function runAgent(io: AgentIO): Promise<number> {
  const now = () => new Date().toISOString();
  const key = channelKeyOf(io.env);
  const emit = (m: AgentMessage) => io.stdout(encodeMessage(m, key));
  // One framed line per line of text: program text and tracer stderr never start a line.
  const log = (s: string) => {
    for (const line of frameLines(s)) io.stderr(line);
  };
  const writeTermination = (summary: TerminationSummary) => {
    const path = io.terminationLog ?? io.env['TRACEJOB_TERMINATION_LOG'] ?? (existsSync(TERMINATION_LOG) ? TERMINATION_LOG : undefined);
    if (path === undefined) return;
    try {
      writeFileSync(path, terminationMessage(summary));
    } catch (e) {
      log(`cannot write termination message to ${path}: ${(e as Error).message}`);
    }
  };
  const fail = (code: ExitCode, message: string): number => {
    const reason = EXIT_REASONS[code] ?? 'Failed';
    log(`${reason}: ${message}`);
    emit({ tracejob: 'error', at: now(), reason, message });
    writeTermination({ reason, message });
    return code;
  };

  // Signals before bpftrace runs end the agent at the next step; during the run they stop bpftrace.
  let terminated: string | undefined;
  let handle: RunHandle | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    log(`received ${sig}`);
    terminated ??= sig;
    handle?.stop('terminated', 10_000);
  };
  if (io.handleSignals) {
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  }
  const checkTerminated = () => {
    if (terminated) throw new AgentExit(AGENT_EXIT.tracerFailed, `agent received ${terminated} before the tracer attached`);
  };

  try {
    // 1. Config
    const cfg = parseConfig(io.env);
    const startedAt = now();

    // 2. Preflight
    const caps = (io.preflight ?? (() => preflight({ bpftracePath: io.env['TRACEJOB_BPFTRACE'] })))();
    // Debuginfo fetched for this run (init container → read-only cache) counts as the node's own.
    const di = cfg.debuginfo;
    if (di?.buildTree && (io.exists ?? existsSync)(`${di.buildTree}/Makefile`)) caps.host.kernelBuildTree = true;
    if (di?.debugRoot || di?.debuginfodUrls) {
      const own = caps.host.debuginfo;
      caps.host.debuginfo = { ...own, present: true, debuginfod: Boolean(di.debuginfodUrls) || Boolean(own?.debuginfod) };
    }
    emit({ tracejob: 'preflight', at: now(), caps: capsForMessage(caps) });
    for (const w of caps.host.warnings) log(`preflight: ${w}`);
    checkTerminated();
    if (cfg.mode === 'preflight') {
      writeTermination({ reason: EXIT_REASONS[AGENT_EXIT.ok] ?? 'Completed', message: 'capability report only' });
      return AGENT_EXIT.ok;
    }

    // SystemTap asked for explicitly: fail fast (before any /proc scan) when no stap runtime can work here.
    const wantsStap = cfg.backend === 'systemtap' || cfg.probe.type === 'systemtap';
    if (wantsStap) {
      const blockers = systemtapBlockers(caps, cfg.probe.type === 'systemtap' ? 'any' : 'module');
      if (blockers.length > 0) throw new AgentExit(AGENT_EXIT.unsupported, `SystemTap cannot run on node ${cfg.nodeName}: ${blockers.join('; ')}`);
    } else if (!caps.bpftrace && (cfg.backend === 'bpftrace' || cfg.probe.type === 'bpftrace')) {
      throw new AgentExit(AGENT_EXIT.preflightFailed, caps.host.bpftraceError ?? 'bpftrace is not available');
    }

    // 3. Probe lookup and params (before resolving: a bad spec needs no /proc scan)
    let probe: ProbeDefinition<unknown> | undefined;
    let params: unknown = cfg.probe.params;
    if (isCustomProbe(cfg.probe.type)) {
      if (!cfg.probe.program || cfg.probe.program.trim() === '') {
        throw new AgentExit(AGENT_EXIT.invalidConfig, `probe type ${cfg.probe.type} needs probe.program`);
      }
    } else {
      probe = getProbe(cfg.probe.type);
      if (!probe) throw new AgentExit(AGENT_EXIT.invalidConfig, `unknown probe type "${cfg.probe.type}"`);
      const v = validateParams(probe.name, cfg.probe.params);
      if (!v.ok) throw new AgentExit(AGENT_EXIT.invalidConfig, v.error);
      params = v.value;
      const nodeWide = cfg.targets.length === 0;
      if (probe.scope === 'node' && !nodeWide) {
        throw new AgentExit(AGENT_EXIT.invalidConfig, `probe ${probe.name} traces a whole node; it needs a node target`);
      }
      if (probe.scope === 'pod' && nodeWide) {
        throw new AgentExit(AGENT_EXIT.invalidConfig, `probe ${probe.name} needs a pod target`);
      }
    }

    // 3b. Backend: bpftrace when the probe's hooks exist here, SystemTap when only it can run the probe.
    const choice = chooseBackend({ type: cfg.probe.type, ...(probe ? { definition: probe } : {}), params }, caps, cfg.backend);
    if ('unsupported' in choice) {
      // No bpftrace and no SystemTap path either: the node/image is broken (PreflightFailed, as before).
      const stapCould = probe !== undefined && hasSystemtapScript(probe.name) && systemtapBlockers(caps, 'module').length === 0;
      if (!caps.bpftrace && !wantsStap && !stapCould) {
        throw new AgentExit(AGENT_EXIT.preflightFailed, caps.host.bpftraceError ?? 'bpftrace is not available');
      }
      throw new AgentExit(AGENT_EXIT.unsupported, choice.unsupported.split('this node (').join(`node ${cfg.nodeName} (`));
    }
    const backend = choice.backend;
    log(`backend ${backend} (${choice.why})`);

    // 4. Resolve
    const resolved: ResolvedTarget[] = [];
    const cgroupDirs: string[] = [];
    const containerIds: string[] = [];
    const notes: string[] = [];
    const missing: string[] = [];
    for (const t of cfg.targets) {
      const r = resolveTarget(t, caps.host.cgroup, { procRoot: io.procRoot });
      if (!r.ok) {
        if (r.reason === 'invalid') throw new AgentExit(AGENT_EXIT.invalidConfig, r.error);
        missing.push(r.error);
        continue;
      }
      resolved.push(r.target);
      cgroupDirs.push(...r.cgroupDirs);
      const id = parseContainerId(t.containerID);
      if (id.ok) containerIds.push(id.id);
    }
    if (missing.length > 0) {
      if (resolved.length === 0) throw new AgentExit(AGENT_EXIT.targetNotFound, missing.join('; '));
      for (const m of missing) notes.push(`not traced: ${m}`);
    }
    const nodeWide = cfg.targets.length === 0;
    const filter: TargetFilter = chooseFilter(resolved, { nodeWide, hostMntNs: hostMntNs(io.procRoot) });
    const hostNet = hostNetNs(io.procRoot);
    const networkProbe = probe === undefined || probe.hooks.some((h) => /^(tracepoint:)?(sock|tcp|skb|net|udp|napi):/.test(h));
    for (const t of networkProbe ? resolved : []) {
      if (hostNet !== undefined && t.netNs === hostNet) {
        notes.push(
          `${t.namespace}/${t.pod} shares the node's network namespace (hostNetwork): network events matched by namespace include the node's other traffic`,
        );
      }
    }
    emit({ tracejob: 'resolved', at: now(), targets: resolved });
    log(`filter mode ${filter.mode}`);
    checkTerminated();

    // 5. Render
    const first = resolved[0];
    const mainPid = first ? chooseMainPid(first.hostPIDs, (p) => ppidOf(p, io.procRoot)) : undefined;
    const libcPath = findLibc(mainPid !== undefined ? `${io.procRoot ?? '/proc'}/${mainPid}/root` : '', caps.arch ?? 'x86_64');
    const dropReasons = readDropReasons(caps.host.tracefsPath);
    const ctx: RenderContext<unknown> = {
      params,
      filter,
      caps,
      durationSeconds: cfg.durationSeconds,
      topN: cfg.topN,
      maxEvents: cfg.maxEvents,
      ...(mainPid !== undefined ? { mainPid } : {}),
      ...(libcPath !== undefined ? { libcPath } : {}),
      ...(dropReasons.size > 0 ? { dropReasons } : {}),
    };
    let program: string;
    let guru = false;
    let privilege: 'stapsys' | undefined;
    try {
      if (backend === 'systemtap') {
        if (probe) {
          const render = SYSTEMTAP_RENDERERS[probe.name];
          if (!render) throw new Error(`probe ${probe.name} has no SystemTap script`);
          program = render(ctx);
          notes.push(...systemtapNotes(ctx));
        } else {
          const r = renderCustomStap(cfg.probe.program ?? '', ctx, {
            guruRequested: cfg.probe.params['guru'] === true,
            guruAllowed: cfg.guruAllowed === true,
          });
          program = r.script;
          guru = r.guru;
          privilege = r.privilege;
        }
      } else {
        program = probe ? probe.renderBpftrace(ctx) : renderCustomProgram(cfg.probe.program ?? '', ctx);
      }
    } catch (e) {
      const name = (e as Error).name;
      const code = name === 'CustomProgramError' || name === 'GuruDenied' ? AGENT_EXIT.invalidConfig : AGENT_EXIT.unsupported;
      throw new AgentExit(code, `cannot render ${cfg.probe.type} for this target: ${(e as Error).message}`);
    }
    log(`program:\n${clipBytes(program, PROGRAM_ECHO_LIMIT_BYTES)}`);

    // 6. Run
    const stap = backend === 'systemtap';
    const parserOptions = { maxPrintf: Math.max(1000, cfg.maxEvents * 2) };
    const parser = stap ? createStapParser(parserOptions) : createParser(parserOptions);
    let traceStart: string | undefined;
    const tracer = stap ? { name: 'systemtap', version: caps.host.stapVersion ?? 'unknown' } : { name: 'bpftrace', version: caps.bpftrace?.version ?? 'unknown' };
    const tracerName = tracer.name;
    const aliveCheck = nodeWide ? undefined : () => targetAlive(containerIds, cgroupDirs, io.procRoot);
    handle = runBpftrace({
      program,
      durationSeconds: cfg.durationSeconds,
      bpftracePath: caps.host.bpftracePath,
      ...(stap
        ? {
            tracer: {
              path: 'stap',
              fileName: 'program.stp',
              markerInProgram: true,
              args: (file: string) => stapArgs(file, { guru, runtime: choice.runtime ?? 'module', ...(privilege ? { privilege } : {}), ...(di?.buildTree ? { buildTree: di.buildTree } : {}) }),
              env: stapEnv(di),
            },
            // stap compiles a kernel module before attaching: allow for it.
            attachTimeoutMs: 300_000,
          }
        : {}),
      env: tracerEnv(io.env),
      onLine: (line) => parser.push(line),
      onAttached: (probes) => {
        traceStart = now();
        emit({ tracejob: 'attached', at: traceStart, ...(probes !== undefined ? { probes } : {}), tracer });
      },
      ...(aliveCheck ? { isTargetAlive: aliveCheck } : {}),
      onDiagnostic: log,
    });
    if (terminated) handle.stop('terminated', 10_000);
    const res: RunResult = await handle.done;
    handle = undefined;
    log(
      `${tracerName} exited code=${res.exitCode} signal=${res.signal} stoppedBy=${res.stoppedBy} traced=${res.tracedMs}ms` +
        (res.stderr ? `\n${tracerName} stderr:\n${cleanStderr(res.stderr, 8192)}` : ''),
    );

    if (!res.attached) {
      if (res.spawnError) throw new AgentExit(AGENT_EXIT.tracerFailed, `cannot start ${tracerName}: ${res.spawnError}`);
      if (stap && res.stoppedBy !== 'terminated' && res.stoppedBy !== 'attachTimeout') {
        const c = classifyStapError(res.stderr);
        const err = c.summary || `stap exited with code ${res.exitCode ?? res.signal} before attaching`;
        throw new AgentExit(c.kind === 'compile' ? AGENT_EXIT.compileError : c.kind === 'environment' ? AGENT_EXIT.unsupported : AGENT_EXIT.tracerFailed, err);
      }
      if (res.stoppedBy === 'terminated') {
        throw new AgentExit(AGENT_EXIT.tracerFailed, `agent received ${terminated ?? 'a signal'} before the tracer attached`);
      }
      if (res.stoppedBy === 'attachTimeout') {
        throw new AgentExit(AGENT_EXIT.tracerFailed, `${tracerName} did not attach in time: ${cleanStderr(res.stderr) || 'no output'}`);
      }
      const err = cleanStderr(res.stderr) || `${tracerName} exited with code ${res.exitCode ?? res.signal} before attaching`;
      if (isCompileError(res.stderr)) throw new AgentExit(AGENT_EXIT.compileError, err);
      throw new AgentExit(AGENT_EXIT.tracerFailed, err);
    }

    // 7. Shape and document
    const parsed = parser.finish();
    const traceEnd = traceStart ? new Date(Date.parse(traceStart) + res.tracedMs).toISOString() : now();
    let partial = false;
    let code: ExitCode = AGENT_EXIT.ok;
    let message: string | undefined;
    const tracedS = Math.round(res.tracedMs / 100) / 10;
    switch (res.stoppedBy) {
      case 'targetExited':
        partial = true;
        notes.push(`the target exited after ${tracedS}s of ${cfg.durationSeconds}s; results cover the traced part`);
        break;
      case 'terminated':
        partial = true;
        notes.push(`the agent was stopped (${terminated ?? 'signal'}) after ${tracedS}s of ${cfg.durationSeconds}s; results cover the traced part`);
        break;
      case 'tracerExited':
        if (res.exitCode !== 0) {
          partial = true;
          code = AGENT_EXIT.tracerFailed;
          message = `${tracerName} exited with ${res.exitCode ?? res.signal} after ${tracedS}s: ${cleanStderr(res.stderr) || 'no error output'}`;
          notes.push(message);
        } else if (res.tracedMs < cfg.durationSeconds * 1000 - 500) {
          notes.push(`the program exited by itself after ${tracedS}s`);
        }
        break;
      default:
        break;
    }
    if (res.killed) {
      partial = true;
      notes.push(`${tracerName} did not exit within the grace period after SIGINT and was killed; maps may be missing`);
    }

    let shaped;
    try {
      shaped = shapeResult(probe, parsed, ctx);
    } catch (e) {
      log(`shaping failed: ${(e as Error).stack ?? String(e)}`);
      shaped = { histograms: [], tables: [], events: [], counters: {}, notes: [`shaping the output failed: ${(e as Error).message}`] };
      partial = true;
    }
    const { document, headline } = buildDocument({
      nodeName: cfg.nodeName,
      probeType: cfg.probe.type,
      tracer,
      filterMode: filter.mode,
      targets: resolved,
      startedAt: traceStart ?? startedAt,
      finishedAt: traceEnd,
      partial,
      notes,
      topN: cfg.topN,
      maxEvents: cfg.maxEvents,
      shaped,
      parsed,
    });
    // Bounded in bytes, whatever maxEvents allows: the operator reads this through the pod log.
    const bounded = boundDocument(document, RESULT_RECORD_LIMIT_BYTES - RECORD_ENVELOPE_BYTES);
    if (bounded.cuts.length > 0) log(`result cut to fit ${RESULT_RECORD_LIMIT_BYTES} bytes: ${bounded.cuts.join('; ')}`);
    emit({ tracejob: 'result', at: now(), document: bounded.document as unknown as Record<string, unknown> });
    const reason = EXIT_REASONS[code] ?? 'Failed';
    writeTermination({
      reason,
      headline,
      ...(message ? { message } : partial && notes[0] ? { message: notes[0] } : {}),
      ...(partial ? { partial } : {}),
    });
    return code;
  } catch (e) {
    if (e instanceof AgentExit) return fail(e.code, e.message);
    return fail(AGENT_EXIT.tracerFailed, `agent error: ${(e as Error).stack ?? String(e)}`);
  } finally {
    if (io.handleSignals) {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
  }
}

/** Environment for stap: the fetched debuginfo first, then the usual places; debuginfod when configured. */
export function stapEnv(di: { debugRoot?: string | undefined; debuginfodUrls?: string | undefined } | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  if (di?.debugRoot) env['SYSTEMTAP_DEBUGINFO_PATH'] = `+:.debug:${di.debugRoot}/usr/lib/debug:/usr/lib/debug:build`;
  if (di?.debuginfodUrls) env['DEBUGINFOD_URLS'] = di.debuginfodUrls;
  return env;
}

function isEntrypoint(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(argv1)).href;
  } catch {
    return false;
  }
}

/**
 * After a SIGTERM (its pod is being deleted, e.g. a run stopped because consent
 * was withdrawn) the agent stays up this long after printing its result, so
 * the operator can still read the log of the terminating pod.
 */
export const LINGER_AFTER_SIGNAL_MS = 15_000;

if (isEntrypoint()) {
  let signalled = false;
  process.once('SIGTERM', () => (signalled = true));
  const code = await runAgent({
    env: process.env,
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    handleSignals: true,
  });
  // Let stdout drain (a pipe to the container runtime) before exiting.
  process.stdout.write('', () => {
    if (signalled) setTimeout(() => process.exit(code), LINGER_AFTER_SIGNAL_MS);
    else process.exit(code);
  });
}
