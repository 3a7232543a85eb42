// Runs bpftrace for exactly the duration: spawn → wait until the probes are really
// attached → duration → SIGINT (bpftrace prints its maps) → bounded wait → SIGKILL.
//
// Attach signal: the JSON `attached_probes` record is NOT it — bpftrace 0.17 prints it
// before attaching (measured here: execs right after it were missed, 5 of 6 counted;
// after BEGIN fired, 6 of 6). BEGIN runs once every probe is attached, so the agent
// adds `printf("__tracejob_attached__\n")` to the program's BEGIN (a new BEGIN block,
// or the first statement of an existing one: 0.17 allows only one BEGIN) and waits for
// that printf record, which it hides from the parser. When the marker cannot be placed
// it falls back to attached_probes plus a settle delay.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// ---------------------------------------------------------------------------
// Pure helpers
// ---------------------------------------------------------------------------

export const ATTACH_MARKER = '__tracejob_attached__';
const MARKER_STMT = `printf("${ATTACH_MARKER}\\n");`;

/**
 * Adds the attach marker to the program's BEGIN probe. Scans tokens (skipping strings
 * and comments) for a top-level `BEGIN` followed by `{`.
 */
export function injectAttachMarker(program: string): { program: string; injected: 'new' | 'existing' | 'none' } {
  let depth = 0;
  let sawBegin = false;
  for (let i = 0; i < program.length; ) {
    const c = program[i];
    const next = program[i + 1];
    if (c === '/' && next === '/') {
      const nl = program.indexOf('\n', i);
      i = nl < 0 ? program.length : nl + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      const end = program.indexOf('*/', i + 2);
      i = end < 0 ? program.length : end + 2;
      continue;
    }
    if (c === '"') {
      i++;
      while (i < program.length && program[i] !== '"') i += program[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '{') {
      if (depth === 0 && sawBegin) {
        return { program: `${program.slice(0, i + 1)} ${MARKER_STMT}${program.slice(i + 1)}`, injected: 'existing' };
      }
      depth++;
      i++;
      continue;
    }
    if (c === '}') {
      depth = Math.max(0, depth - 1);
      i++;
      continue;
    }
    if (depth === 0 && c !== undefined && /[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < program.length && /[A-Za-z0-9_:*.-]/.test(program[j] ?? '')) j++;
      const word = program.slice(i, j);
      if (word === 'BEGIN') sawBegin = true;
      else if (sawBegin) return { program, injected: 'none' }; // e.g. "BEGIN, interval:s:1": leave it alone
      i = j;
      continue;
    }
    if (depth === 0 && sawBegin && !/\s/.test(c ?? '')) return { program, injected: 'none' };
    i++;
  }
  if (sawBegin) return { program, injected: 'none' };
  // Appended, not prepended: #include lines and struct definitions must stay first.
  return { program: `${program.replace(/\s*$/, '')}\n\nBEGIN { ${MARKER_STMT} }\n`, injected: 'new' };
}

/** Whether a stdout line is the attach marker's printf record. */
export function isAttachMarker(line: string): boolean {
  if (!line.includes(ATTACH_MARKER)) return false;
  try {
    const rec = JSON.parse(line) as { type?: unknown; data?: unknown; msg?: unknown };
    const text = rec.data ?? rec.msg;
    return rec.type === 'printf' && typeof text === 'string' && text.trim() === ATTACH_MARKER;
  } catch {
    return false;
  }
}

/** Returns the probe count (or null when the count is absent) if the line is the attached record; undefined otherwise. */
export function parseAttachedLine(line: string): number | null | undefined {
  const t = line.trim();
  if (!t.startsWith('{') || !t.includes('attached_probes')) return undefined;
  try {
    const rec = JSON.parse(t) as { type?: unknown; data?: { probes?: unknown }; count?: unknown; probes?: unknown };
    if (rec.type !== 'attached_probes') return undefined;
    const n = rec.data?.probes ?? rec.count ?? rec.probes;
    if (typeof n === 'number') return n;
    if (typeof n === 'string' && /^\d+$/.test(n)) return Number(n);
    return null;
  } catch {
    return undefined;
  }
}

/** Harmless noise bpftrace prints on stderr (see reference: RLIMIT_MEMLOCK without CAP_SYS_RESOURCE). */
const STDERR_NOISE = [/couldn't set RLIMIT_MEMLOCK/];

/** Drops known-harmless lines and trims to `limit` bytes (keeping the start, where the first error is). */
export function cleanStderr(stderr: string, limit = 2048): string {
  const kept = stderr
    .split('\n')
    .filter((l) => !STDERR_NOISE.some((re) => re.test(l)))
    .join('\n')
    .trim();
  const buf = Buffer.from(kept, 'utf8');
  if (buf.length <= limit) return kept;
  // Cut on a character boundary.
  let cut = buf.subarray(0, limit - 16).toString('utf8');
  if (cut.endsWith('\uFFFD')) cut = cut.slice(0, -1);
  return `${cut}\n…[truncated]`;
}

/**
 * Whether a pre-attach failure is the program's fault (parse/semantic error, missing
 * probe or field) rather than the tracer/host's. bpftrace prints program errors as
 * "<file>:<line>:<col>[-<col>]: ERROR: …" with the offending source below.
 */
export function isCompileError(stderr: string): boolean {
  const s = cleanStderr(stderr, 1 << 20);
  if (/^[^\n:]*:\d+:\d+(-\d+)?: ERROR:/m.test(s)) return true;
  if (/^[^\n:]*:\d+(-\d+)?: (ERROR|syntax error)/m.test(s)) return true;
  return /ERROR: (Unknown (function|identifier|map|field)|.*not found|syntax error|invalid|Undefined)/i.test(s);
}

/** Where a process is blocked (state, wchan, kernel stack when readable), for the log. */
function describeStuck(pid: number | undefined): string {
  if (pid === undefined) return 'no pid';
  const read = (f: string) => {
    try {
      return readFileSync(`/proc/${pid}/${f}`, 'utf8').trim();
    } catch {
      return '?';
    }
  };
  const state = /^State:\s*(.*)$/m.exec(read('status'))?.[1] ?? '?';
  return `state=${state} wchan=${read('wchan')} stack=[${read('stack').split('\n').slice(0, 8).join(' | ')}]`;
}

export type StopReason = 'duration' | 'targetExited' | 'terminated' | 'tracerExited' | 'attachTimeout' | 'spawnError';

export interface RunResult {
  attached: boolean;
  probes?: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stoppedBy: StopReason;
  /** Time between attach and the stop signal (or tracer exit), ms. */
  tracedMs: number;
  /** bpftrace did not exit within the grace period after SIGINT. */
  killed: boolean;
  spawnError?: string;
}

export interface RunOptions {
  program: string;
  durationSeconds: number;
  bpftracePath?: string;
  /** Called with every stdout line (without the newline). */
  onLine(line: string): void;
  onAttached?(probes: number | undefined): void;
  /** Polled after attach; returning false stops the trace early (target exited). */
  isTargetAlive?: () => boolean;
  watchIntervalMs?: number;
  /** Compile + load budget before giving up (ms). */
  attachTimeoutMs?: number;
  /** Re-send SIGINT this often while bpftrace has printed nothing since the last one (ms). */
  sigintResendMs?: number;
  /** After SIGINT, how long bpftrace may take to print its maps (ms). */
  exitGraceMs?: number;
  env?: NodeJS.ProcessEnv;
  /** Diagnostics for stderr (e.g. where a stuck bpftrace was waiting). */
  onDiagnostic?(message: string): void;
  /** Fallback when the attach marker cannot be placed: wait this long after attached_probes (ms). */
  settleMs?: number;
  /**
   * Another tracer (SystemTap): its binary, argv for the program file, the file name
   * shown in errors, and whether the program prints the attach marker itself.
   * Default: bpftrace `-f json <file>` with the marker injected into BEGIN.
   */
  tracer?: { path: string; args: (file: string) => string[]; fileName: string; markerInProgram: boolean; env?: Record<string, string> };
}

export interface RunHandle {
  done: Promise<RunResult>;
  /** Stops early (SIGTERM to the agent): SIGINT now, SIGKILL after `graceMs`. */
  stop(reason: StopReason, graceMs?: number): void;
  pid: number | undefined;
}

export function runBpftrace(opts: RunOptions): RunHandle {
  const dir = mkdtempSync(join(tmpdir(), 'tracejob-'));
  const fileName = opts.tracer?.fileName ?? 'program.bt';
  const file = join(dir, fileName);
  const marked: { program: string; injected: 'new' | 'existing' | 'none' } = opts.tracer?.markerInProgram
    ? { program: opts.program, injected: 'existing' }
    : injectAttachMarker(opts.program);
  writeFileSync(file, marked.program.endsWith('\n') ? marked.program : `${marked.program}\n`);

  const argv = opts.tracer ? opts.tracer.args(file) : ['-f', 'json', file];
  const child = spawn(opts.tracer?.path ?? opts.bpftracePath ?? 'bpftrace', argv, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...(opts.env ?? process.env), ...(opts.tracer?.env ?? {}) },
  });

  let attached = false;
  let probes: number | undefined;
  let attachedAt = 0;
  let stopAt = 0;
  let stoppedBy: StopReason | undefined;
  let killed = false;
  let spawnError: string | undefined;
  let stderr = '';
  let pending = '';
  let durationTimer: NodeJS.Timeout | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let resendTimer: NodeJS.Timeout | undefined;
  let lastOutputAt = 0;
  let watchTimer: NodeJS.Timeout | undefined;
  let settleTimer: NodeJS.Timeout | undefined;
  let exited = false;

  const clearTimers = () => {
    for (const t of [durationTimer, attachTimer, watchTimer, settleTimer]) if (t) clearTimeout(t);
    if (watchTimer) clearInterval(watchTimer);
  };

  const stop = (reason: StopReason, graceMs = opts.exitGraceMs ?? 30_000) => {
    if (exited) return;
    if (stoppedBy === undefined) {
      stoppedBy = reason;
      stopAt = Date.now();
    }
    clearTimers();
    child.kill('SIGINT');
    // bpftrace 0.17 can lose a SIGINT that lands just after attach and then
    // waits forever. In that window only (little data, so a quick dump),
    // re-send it while bpftrace has printed nothing since the first one; never
    // once it prints (a second SIGINT mid-dump kills it).
    if (resendTimer) clearInterval(resendTimer);
    const justAttached = attached && stopAt - attachedAt < 3000;
    if (justAttached) resendTimer = setInterval(() => {
      if (exited || lastOutputAt >= stopAt) {
        if (resendTimer) clearInterval(resendTimer);
        return;
      }
      opts.onDiagnostic?.('bpftrace printed nothing since SIGINT; sending SIGINT again');
      child.kill('SIGINT');
    }, opts.sigintResendMs ?? 5000);
    if (killTimer) clearTimeout(killTimer);
    killTimer = setTimeout(() => {
      if (!exited) {
        killed = true;
        opts.onDiagnostic?.(`bpftrace did not exit ${graceMs} ms after SIGINT; ${describeStuck(child.pid)}; sending SIGKILL`);
        child.kill('SIGKILL');
      }
    }, graceMs);
  };

  const onAttach = (n: number | null) => {
    if (attached) return;
    attached = true;
    attachedAt = Date.now();
    probes = n ?? undefined;
    if (attachTimer) clearTimeout(attachTimer);
    opts.onAttached?.(probes);
    if (stoppedBy !== undefined) return; // stop requested during compile; SIGINT already sent
    durationTimer = setTimeout(() => stop('duration'), Math.round(opts.durationSeconds * 1000));
    if (opts.isTargetAlive) {
      const check = opts.isTargetAlive;
      watchTimer = setInterval(() => {
        let alive = true;
        try {
          alive = check();
        } catch {
          alive = true;
        }
        if (!alive) stop('targetExited');
      }, opts.watchIntervalMs ?? 1000);
    }
  };

  let reportedProbes: number | null = null;
  let markerSeen = false;
  const handleLine = (line: string) => {
    if (!markerSeen && marked.injected !== 'none' && isAttachMarker(line)) {
      markerSeen = true;
      // The count includes our BEGIN when we added it.
      onAttach(reportedProbes === null ? null : reportedProbes - (marked.injected === 'new' ? 1 : 0));
      return;
    }
    if (!attached) {
      const n = parseAttachedLine(line);
      if (n !== undefined) {
        reportedProbes = n;
        // No marker possible: attached_probes precedes the attach by tens of ms; settle.
        if (marked.injected === 'none') settleTimer = setTimeout(() => onAttach(n), opts.settleMs ?? 500);
      }
    }
    opts.onLine(line);
  };

  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    lastOutputAt = Date.now();
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      handleLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    // Keep a bounded amount: the start carries the error, the rest is rarely useful.
    if (stderr.length < 256 * 1024) stderr += chunk;
  });

  const attachTimer = setTimeout(() => {
    if (!attached) stop('attachTimeout', 5_000);
  }, opts.attachTimeoutMs ?? 120_000);

  const done = new Promise<RunResult>((resolve) => {
    let settled = false;
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      exited = true;
      clearTimers();
      if (killTimer) clearTimeout(killTimer);
      if (resendTimer) clearInterval(resendTimer);
      if (pending) {
        handleLine(pending);
        pending = '';
      }
      rmSync(dir, { recursive: true, force: true });
      const end = stopAt || Date.now();
      resolve({
        attached,
        probes,
        exitCode: code,
        signal,
        // Error positions name the temp file; "program.bt" reads better in a status message.
        stderr: stderr.split(file).join(fileName),
        stoppedBy: stoppedBy ?? (spawnError ? 'spawnError' : 'tracerExited'),
        tracedMs: attached ? Math.max(0, end - attachedAt) : 0,
        killed,
        spawnError,
      });
    };
    child.on('error', (err) => {
      spawnError = err.message;
      // 'close' may not follow a spawn failure.
      setImmediate(() => finish(null, null));
    });
    child.on('close', (code, signal) => finish(code, signal));
  });

  return { done, stop, pid: child.pid };
}
