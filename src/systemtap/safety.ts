// What a custom SystemTap program may do without guru mode. Pure functions.
//
// SystemTap's own privilege levels do not make a program harmless when stap runs
// as root (stap 4.8, checked with `stap -p2/-p3 --privilege=…`):
//   - `system()` is tagged /* unprivileged */ in the tapset: it passes even
//     `--privilege=stapusr` and runs its command with the uid of the stap process —
//     root in the privileged, hostPID agent, where /proc/1/root is the node's root.
//   - stap refuses a /* guru */ function only when the call is in the user's file;
//     tapset wrappers may call them: `set_pointer_arg()` and the other `set_*_arg()`
//     write kernel memory through set_kernel_*(), `set_user_string_arg()` writes the
//     traced process's memory through set_user_string_n(), all without `-g`.
//   - the syscall probe aliases (`syscall.*`, `nd_syscall.*`, …) end in an epilogue
//     that writes every argument variable the handler assigned back into the traced
//     call (`if (@probewrite(filename_unquoted)) set_user_string_arg(…)`): so
//     `probe nd_syscall.openat { filename_unquoted = "…" }` rewrites the path any
//     process on the node opens, without `-g`.
//   - `--privilege=stapusr` would forbid kernel probes altogether; `stapsys` is the
//     lowest level that runs them, and only adds "no -g" to what root may do.
// So the agent runs custom programs with `--privilege=stapsys`, puts GUARD_FUNCTIONS
// in front of them (user-file functions override tapset functions of the same name
// and arity, also for the tapset's own calls), and both the operator and the agent
// refuse programs that findUnsafeStap flags unless guru policy allows the run.

/** One stap token, split exactly like stap's lexer (parse.cxx lexer::scan). */
export interface StapToken {
  kind: 'word' | 'number' | 'string' | 'embedded' | 'op' | 'junk';
  text: string;
  line: number;
  /** Whitespace or a comment precedes the token (stap joins adjacent probe-point pieces). */
  spaced: boolean;
}

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isAlpha = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isAlnum = (c: string): boolean => isAlpha(c) || isDigit(c);
const isPunct = (c: string): boolean => {
  const n = c.charCodeAt(0);
  return n >= 33 && n <= 126 && !isAlnum(c);
};

const OPS3 = ['<<<', '>>>', '<<=', '>>='];
const OPS2 = ['==', '!=', '<=', '>=', '=~', '!~', '+=', '-=', '*=', '/=', '%=', '&=', '^=', '|=', '.=', '&&', '||', '++', '--', '->', '<<', '>>', '%(', '%?', '%:', '%)'];

/**
 * Tokens of a stap program without its comments (`#`, `//`, `/* *\/`). Follows stap's
 * lexer where it matters for hiding code: `$#`/`@#` are tokens, not comments; a
 * backslash in a string escapes any character, a newline included; an unescaped
 * newline ends a string (stap then refuses the program); an unclosed comment or
 * embedded-C block runs to the end.
 */
export function tokenizeStap(src: string): StapToken[] {
  const out: StapToken[] = [];
  let i = 0;
  let line = 1;
  let spaced = true;
  const n = src.length;
  const push = (kind: StapToken['kind'], start: number, startLine: number) => {
    out.push({ kind, text: src.slice(start, i), line: startLine, spaced });
    spaced = false;
  };
  const advanceTo = (end: number) => {
    for (; i < end; i++) if (src[i] === '\n') line++;
  };
  while (i < n) {
    const c = src[i] ?? '';
    const c2 = src[i + 1] ?? '';
    const start = i;
    const startLine = line;
    if (isSpace(c)) {
      advanceTo(i + 1);
      spaced = true;
      continue;
    }
    if ((c === '$' || c === '@') && c2 === '#') {
      i += 2;
      push('word', start, startLine);
    } else if ((c === '$' || c === '@') && isDigit(c2)) {
      i += 1;
      while (i < n && isDigit(src[i] ?? '')) i++;
      push('word', start, startLine);
    } else if (isAlpha(c) || c === '$' || c === '@' || c === '_') {
      i += 1;
      while (i < n && (isAlnum(src[i] ?? '') || src[i] === '_' || src[i] === '$')) i++;
      push('word', start, startLine);
    } else if (isDigit(c)) {
      i += 1;
      while (i < n && isAlnum(src[i] ?? '')) i++;
      push('number', start, startLine);
    } else if (c === '"') {
      let j = i + 1;
      let closed = false;
      while (j < n) {
        const d = src[j];
        if (d === '\n') break;
        if (d === '"') {
          closed = true;
          j++;
          break;
        }
        j += d === '\\' ? 2 : 1;
      }
      advanceTo(Math.min(j, n));
      push(closed ? 'string' : 'junk', start, startLine);
    } else if (c === '#' || (c === '/' && c2 === '/')) {
      const eol = src.indexOf('\n', i);
      advanceTo(eol < 0 ? n : eol);
      spaced = true;
    } else if (c === '/' && c2 === '*') {
      const end = src.indexOf('*/', i + 2);
      advanceTo(end < 0 ? n : end + 2);
      spaced = true;
    } else if (c === '%' && c2 === '{') {
      const end = src.indexOf('%}', i + 2);
      advanceTo(end < 0 ? n : end + 2);
      push('embedded', start, startLine);
    } else if (isPunct(c)) {
      const three = src.slice(i, i + 3);
      const two = src.slice(i, i + 2);
      i += OPS3.includes(three) ? 3 : OPS2.includes(two) ? 2 : 1;
      push('op', start, startLine);
    } else {
      advanceTo(i + 1);
      push('junk', start, startLine);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// What is refused. Names come from the tapset of stap 4.8 (Debian 12) and of the
// development tree (a superset of the agent's trixie stap); src/systemtap/safety.test.ts
// re-derives them from an installed tapset when there is one.

/** Tapset functions with effects beyond reading, callable without -g. */
export const UNSAFE_FUNCTIONS: Readonly<Record<string, string>> = {
  system: 'runs a shell command as root on the node',
  switch_file: 'runs a command through system()',
  ftrace: "writes into the node's kernel trace buffer",
  set_returnval: "overrides the probed function's return value",
  set_user_string_arg: "writes into the traced process's memory",
  ...Object.fromEntries(
    ['int', 'uint', 'long', 'ulong', 'longlong', 'ulonglong', 'pointer', 's32', 'u32', 's64', 'u64'].map((t) => [
      `set_${t}_arg`,
      "rewrites an argument of the probed function in kernel memory",
    ]),
  ),
};

/** Tapset functions tagged /* guru *\/ (stap refuses a direct call without -g; named here for a clear answer). */
export const GURU_FUNCTIONS: Readonly<Record<string, string>> = {
  ...Object.fromEntries(['string', 'string_n', 'long', 'int', 'short', 'char', 'pointer'].map((t) => [`set_kernel_${t}`, 'writes kernel memory'])),
  ...Object.fromEntries(['string', 'string_n', 'long', 'int', 'short', 'char', 'pointer'].map((t) => [`set_user_${t}`, "writes a process's memory"])),
  raise: 'sends a signal',
  mdelay: 'busy-waits in the kernel',
  udelay: 'busy-waits in the kernel',
  panic: 'crashes the node',
  printk: 'writes the kernel log',
  dump_stack: 'writes the kernel log',
  ...Object.fromEntries(['uid', 'euid', 'gid', 'egid', 'pid', 'tid'].map((t) => [`task_ns_${t}`, 'is guru-only'])),
  ...Object.fromEntries(['__get_kregs', '__get_uregs', '__set_kregs', '__set_uregs', '__set_syscall_pt_regs'].map((f) => [f, 'is guru-only'])),
};

/**
 * Argument variables that the syscall aliases' epilogues write back into the traced
 * call when a handler assigns them (every `@probewrite(NAME)` in the tapset).
 */
export const SYSCALL_WRITEBACK_VARS: ReadonlySet<string> = new Set(
  `__uptr __version abs_timeout_uaddr act_uaddr addr addr_uaddr addrlen addrlen_uaddr advice arg arg1 arg2 arg3 arg4
  arg5 arg_uaddr argp args at_flags attr attr_uaddr backlog brk buf_uaddr buf_unquoted buffer_uaddr bufp_uaddr bufsiz
  bytecount callout_info_uaddr clk_id clockid cmd cmdline_len cmdline_unquoted code cookie count cpu cpu_uaddr ctx
  ctx_id ctxp_uaddr data data_uaddr data_unquoted description_str_unquoted description_uaddr destringid dev dfd
  dfd_str_unquoted dirent dirfd dirp_uaddr domainname_str_unquoted domainname_uaddr egid egid_uaddr entry epfd euid
  euid_uaddr event_f_flags event_uaddr events_uaddr evp_uaddr exceptfds exceptfds_uaddr family fanotify_fd fd fd_in
  fd_out fdin fdout fds_uaddr fildes fildes_uaddr filedes filename filename_str_unquoted filename_uaddr
  filename_unquoted filesystemtype_unquoted flag flags from fsgid fsuid func futex_uaddr gid group group_fd
  handle_uaddr handler header_uaddr hostname_uaddr how id idx1 idx2 in_fd inc info_uaddr infop_uaddr init_val
  initrd_fd iocb_uaddr iocbpp_uaddr ioprio iov kernel_fd key len len_uaddr length level library_uaddr
  library_unquoted liovcnt list_head_uaddr list_uaddr local_iov_uaddr magic magic2 mask mask_uaddr maxevents maxnode
  min_nr mmsg_uaddr mnt_id_uaddr mode mount_dfd mountflags mqdes msg_len msg_prio msg_prio_uaddr msg_ptr_uaddr
  msg_uaddr msgflg msgp_uaddr msgsz msgtyp msqid my_addr_uaddr n name2_unquoted name_str_unquoted name_uaddr
  name_user_unquoted namelen_uaddr nbytes new_address new_nodes new_rlim_uaddr new_root_str_unquoted new_size newdfd
  newdirfd newfd newmask newname newname_str_unquoted newpath_unquoted nfds nmask_uaddr node_uaddr nodes
  notification_uaddr nr nr_pages nr_segments nr_segs nsems nsops nstype num oact_uaddr off_in off_out offset
  offset_high offset_low offset_uaddr oflag old_address old_nodes old_rlim_uaddr old_root_str_unquoted old_size
  olddfd olddirfd oldfd oldname oldname_str_unquoted oldpath_unquoted oldset_uaddr op operation option options optlen
  optlen_uaddr optname optval_uaddr out_fd ovalue_uaddr owner p_uaddr pages path_uaddr path_unquoted pathname
  pathname_str_unquoted pathname_uaddr pathname_unquoted payload_uaddr persona pgid pgoff pgoffset pid pid1 pid2 pkey
  plen policy policy_uaddr prio prot protocol ptr_uaddr readfds readfds_uaddr rem_uaddr remote_iov_uaddr req_uaddr
  request res_uaddr resource result_uaddr rgid rgid_uaddr ringid riovcnt rlim_uaddr ruid ruid_uaddr rusage_uaddr s
  sched_attr_uaddr seconds segments_uaddr semflg semid semnum serv_addr_uaddr set set_uaddr sgid sgid_uaddr
  shmaddr_uaddr shmflg shmid sig sigmask sigmask_uaddr sigsetsize size sockfd sops_uaddr source_unquoted special
  special_str_unquoted start status status_uaddr suid suid_uaddr sv_uaddr swapflags sz t_uaddr target_unquoted
  tcache_uaddr tgid tid tidptr_uaddr timeout timeout_addr timeout_uaddr timerid timerid_uaddr timeval to_uaddr tolen
  tp_uaddr tsops_uaddr tsp tsp_uaddr turn_on tv_uaddr tvp_uaddr tx_uaddr type type_str_unquoted type_uaddr tz_uaddr
  u_attr_uaddr u_info_uaddr u_mqstat_uaddr u_name_uaddr u_name_unquoted u_omqstat_uaddr uaddr2_uaddr uargs_uaddr
  uargs_unquoted ubuf_uaddr ufattr ufds_uaddr uid uinfo_uaddr umod_uaddr uname_unquoted unshare_flags uoss_uaddr
  usage_uaddr usize uss_uaddr uthese_uaddr utime_uaddr uts_uaddr val val3 value_uaddr vec_uaddr vector_uaddr vlen wd
  whence which who writefds writefds_uaddr`.split(/\s+/),
);

/**
 * Script overrides for the tapset's writers, put in front of every custom program that
 * runs without guru mode. stap prefers a function of the user's file to the tapset's of
 * the same name and arity — for the tapset's own calls too (a syscall alias's
 * write-back then reaches error()) — so even a program that got past findUnsafeStap
 * cannot reach them. Checked against a real stap in safety.test.ts.
 */
export const GUARD_FUNCTIONS: string = (() => {
  const refuse = (name: string, params: string) =>
    `function ${name}(${params}) { error("tracejob: ${name}() is refused without SystemTap guru mode") }`;
  const lines = ['# tracejob: no side effects without guru mode (these override the tapset functions)'];
  lines.push(refuse('system', 'cmd:string'), refuse('ftrace', 'msg:string'), refuse('set_returnval', 'val:long'));
  lines.push(refuse('set_user_string_arg', 'addr:long, val:string'));
  for (const f of Object.keys(UNSAFE_FUNCTIONS).filter((k) => /^set_\w+_arg$/.test(k) && k !== 'set_user_string_arg')) lines.push(refuse(f, 'n:long, v:long'));
  for (const space of ['kernel', 'user']) {
    lines.push(refuse(`set_${space}_string`, 'addr:long, val:string'), refuse(`set_${space}_string_n`, 'addr:long, n:long, val:string'));
    for (const t of ['long', 'int', 'short', 'char', 'pointer']) lines.push(refuse(`set_${space}_${t}`, 'addr:long, val:long'));
  }
  lines.push(refuse('raise', 'signo:long'), refuse('mdelay', 'ms:long'), refuse('udelay', 'us:long'), refuse('panic', 'msg:string'));
  lines.push(refuse('printk', 'level:long, msg:string'), refuse('dump_stack', ''));
  return lines.join('\n');
})();

// ---------------------------------------------------------------------------

export interface StapFinding {
  /** What the program uses, for the message: `system()`, `embedded C (%{ %})`, … */
  construct: string;
  /** Why it is refused without guru mode. */
  why: string;
  line: number;
}

const ASSIGN_OPS = new Set(['=', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '.=', '<<=', '>>=', '++', '--']);
/** @-operators that only read their arguments (anything else with arguments is a macro that may assign). */
const READ_ONLY_AT = new Set(['@defined', '@entry', '@cast', '@var', '@probewrite', '@count', '@sum', '@min', '@max', '@avg', '@variance', '@hist_linear', '@hist_log', '@choose_defined', '@perf']);

const isWord = (t: StapToken | undefined, w?: string): boolean => t?.kind === 'word' && (w === undefined || t.text === w);
const isOp = (t: StapToken | undefined, o: string): boolean => t?.kind === 'op' && t.text === o;

/**
 * For each `(`/`[`/`{` token, the index after its matching closer (toks.length when
 * unclosed): one pass, so hostile input cannot make the scans below quadratic.
 */
function matchGroups(toks: StapToken[]): Int32Array {
  const after = new Int32Array(toks.length).fill(toks.length);
  const stack: number[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  toks.forEach((t, i) => {
    if (t.kind !== 'op') return;
    if (t.text === '(' || t.text === '[' || t.text === '{') stack.push(i);
    else if (pairs[t.text] !== undefined) {
      // A stray closer of another kind leaves the open groups open (stap refuses such programs).
      const top = stack[stack.length - 1];
      if (top !== undefined && toks[top]?.text === pairs[t.text]) after[stack.pop() ?? 0] = i + 1;
    }
  });
  return after;
}

interface Scan {
  toks: StapToken[];
  after: Int32Array;
  /** Set when a probe point list nests deeper than parseProbePoints follows. */
  tooDeep?: boolean;
}

/** Index after the bracket group opened at toks[i]. */
const skipGroup = (sc: Scan, i: number): number => sc.after[i] ?? sc.toks.length;

/** A target-variable expression (`$x->y[i]`, `@cast(p, "t")->f`, `@var("v")`) starting at i: its end, or -1. */
function targetExprEnd(sc: Scan, i: number): number {
  const { toks } = sc;
  const t = toks[i];
  if (!isWord(t)) return -1;
  const text = t?.text ?? '';
  let j: number;
  if (text.startsWith('$') && text !== '$#' && !/^\$\d/.test(text)) j = i + 1;
  else if ((text === '@cast' || text === '@var') && isOp(toks[i + 1], '(')) j = skipGroup(sc, i + 1);
  else return -1;
  for (;;) {
    if (isOp(toks[j], '->') && isWord(toks[j + 1])) j += 2;
    else if (isOp(toks[j], '[')) j = skipGroup(sc, j);
    else return j;
  }
}

interface ProbeDecl {
  /** Tokens of the probe points (and an alias's own name). */
  header: StapToken[];
  aliasNames: string[];
  bodies: Array<[number, number]>;
  /** The header did not parse as probe points (macros, preprocessor, deep nesting). */
  unclear: boolean;
}

/**
 * Probe point list per stap's grammar (parser::parse_probe_points): components joined
 * by `.`, points by `,`; a component is `{ points }` (brace expansion) or a name with
 * `*` pieces written without spaces, with an optional `(literal)`; then `?`/`!` and
 * `if (cond)`. Returns the index of the token that ends the list (`{`, `=`, `+=`, `}`).
 */
function parseProbePoints(sc: Scan, i: number, depth = 0): number {
  if (depth > 16) {
    sc.tooDeep = true;
    return i;
  }
  for (let guard = 0; guard < sc.toks.length; guard++) {
    i = parseComponents(sc, i, depth);
    if (isOp(sc.toks[i], ',')) {
      i++;
      continue;
    }
    return i;
  }
  return i;
}
function parseComponents(sc: Scan, i: number, depth: number): number {
  const { toks } = sc;
  for (;;) {
    const t = toks[i];
    if (isOp(t, '{')) {
      i = parseProbePoints(sc, i + 1, depth + 1);
      if (isOp(toks[i], '}')) i++;
    } else if (isWord(t) || isOp(t, '*')) {
      i++;
      while ((isWord(toks[i]) || isOp(toks[i], '*')) && !toks[i]?.spaced) i++;
      if (isOp(toks[i], '(')) i = skipGroup(sc, i);
    } else {
      return i;
    }
    if (isOp(toks[i], '.')) {
      i++;
      continue;
    }
    if (isOp(toks[i], '?') || isOp(toks[i], '!')) i++;
    if (isWord(toks[i], 'if') && isOp(toks[i + 1], '(')) i = skipGroup(sc, i + 1);
    return i;
  }
}

/** Probe declarations, macro bodies and top-level blocks nobody declared (left by macros). */
function structure(sc: Scan): { probes: ProbeDecl[]; macros: Array<[number, number]>; orphans: Array<[number, number]> } {
  const probes: ProbeDecl[] = [];
  const macros: Array<[number, number]> = [];
  const orphans: Array<[number, number]> = [];
  const { toks } = sc;
  let i = 0;
  while (i < toks.length) {
    const t = toks[i];
    if (isWord(t, 'probe')) {
      const headerStart = i + 1;
      sc.tooDeep = false;
      let end = parseProbePoints(sc, headerStart);
      const aliasNames: string[] = [];
      if (isOp(toks[end], '=') || isOp(toks[end], '+=')) {
        for (const a of toks.slice(headerStart, end)) if (isWord(a)) aliasNames.push(a.text);
        end = parseProbePoints(sc, end + 1);
      }
      const decl: ProbeDecl = { header: toks.slice(headerStart, end), aliasNames, bodies: [], unclear: end === headerStart || sc.tooDeep };
      i = end;
      // Body, and an alias's epilogue block after a comma.
      while (isOp(toks[i], '{')) {
        const close = skipGroup(sc, i);
        decl.bodies.push([i, close]);
        i = close;
        if (isOp(toks[i], ',') && isOp(toks[i + 1], '{')) i++;
        else break;
      }
      probes.push(decl);
    } else if (isWord(t, 'function')) {
      // A function's variables are its own: skip to the end of its body.
      let j = i + 1;
      while (j < toks.length && !isOp(toks[j], '{') && toks[j]?.kind !== 'embedded') j++;
      i = isOp(toks[j], '{') ? skipGroup(sc, j) : j + 1;
    } else if (isWord(t, '@define')) {
      let j = i + 1;
      while (j < toks.length && !isOp(toks[j], '%(')) j++;
      let depth = 0;
      const start = j;
      for (; j < toks.length; j++) {
        if (isOp(toks[j], '%(')) depth++;
        else if (isOp(toks[j], '%)') && --depth === 0) break;
      }
      macros.push([start, Math.min(j + 1, toks.length)]);
      i = j + 1;
    } else if (isOp(t, '{')) {
      const close = skipGroup(sc, i);
      orphans.push([i, close]);
      i = close;
    } else {
      i++;
    }
  }
  return { probes, macros, orphans };
}

/** Probes that may be (or derive from) a syscall alias with a write-back epilogue. */
function syscallProbes(probes: ProbeDecl[]): Set<ProbeDecl> {
  const out = new Set<ProbeDecl>();
  const byWord = new Map<string, ProbeDecl[]>();
  const queue: ProbeDecl[] = [];
  for (const p of probes) {
    // Wildcards and macros can spell a syscall alias without the word.
    if (p.header.some((t) => (t.kind === 'word' && (/syscall/i.test(t.text) || t.text.startsWith('@'))) || isOp(t, '*'))) queue.push(p);
    for (const t of p.header) if (t.kind === 'word') byWord.set(t.text, [...(byWord.get(t.text) ?? []), p]);
  }
  // A user alias of such a probe is one too, and so on.
  for (let p = queue.shift(); p !== undefined; p = queue.shift()) {
    if (out.has(p)) continue;
    out.add(p);
    for (const a of p.aliasNames) queue.push(...(byWord.get(a) ?? []));
  }
  return out;
}

/** First write to a variable `names` accepts in toks[start, end). */
function writebackIn(sc: Scan, start: number, end: number, names: (name: string) => boolean): StapFinding | undefined {
  const { toks } = sc;
  const macroArgs: number[] = []; // end indices of enclosing macro argument lists
  const foreachHeads: number[] = []; // end indices of enclosing foreach (...) headers
  for (let i = start; i < end; i++) {
    const t = toks[i];
    if (!t) continue;
    while (macroArgs.length > 0 && i >= (macroArgs[macroArgs.length - 1] ?? 0)) macroArgs.pop();
    while (foreachHeads.length > 0 && i >= (foreachHeads[foreachHeads.length - 1] ?? 0)) foreachHeads.pop();
    // A macro with arguments may assign them (@try_assign(v, x)).
    if (t.kind === 'word' && t.text.startsWith('@') && !READ_ONLY_AT.has(t.text) && isOp(toks[i + 1], '(')) macroArgs.push(skipGroup(sc, i + 1));
    if (isWord(t, 'foreach') && isOp(toks[i + 1], '(')) foreachHeads.push(skipGroup(sc, i + 1));
    if (t.kind !== 'word' || !names(t.text) || isOp(toks[i - 1], '->')) continue;
    const prev = toks[i - 1];
    const next = toks[i + 1];
    const assigned =
      (next?.kind === 'op' && ASSIGN_OPS.has(next.text)) || isOp(prev, '++') || isOp(prev, '--') || isWord(prev, 'delete') || (isOp(prev, '(') && isWord(toks[i - 2], 'catch'));
    if (assigned || foreachHeads.length > 0 || macroArgs.length > 0) {
      return {
        construct: `${macroArgs.length > 0 && !assigned ? 'macro argument' : 'assignment to'} ${t.text} in a syscall probe`,
        why: "the tapset's syscall probes write an assigned argument variable back into the traced call",
        line: t.line,
      };
    }
  }
  return undefined;
}

/**
 * The first construct of a custom program that needs guru policy, or undefined.
 * Comments and strings never count; names count wherever they are written (macros
 * cannot then assemble a call), except as a member after `->`.
 */
export function findUnsafeStap(program: string): StapFinding | undefined {
  const toks = tokenizeStap(program);
  const sc: Scan = { toks, after: matchGroups(toks) };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (!t) continue;
    if (t.kind === 'embedded') return { construct: 'embedded C (%{ %})', why: 'runs arbitrary code in the kernel', line: t.line };
    if (t.kind !== 'word' || isOp(toks[i - 1], '->')) continue;
    const why = Object.hasOwn(UNSAFE_FUNCTIONS, t.text) ? UNSAFE_FUNCTIONS[t.text] : Object.hasOwn(GURU_FUNCTIONS, t.text) ? GURU_FUNCTIONS[t.text] : undefined;
    if (why !== undefined) return { construct: `${t.text}()`, why, line: t.line };
    if (t.text === '@const') return { construct: '@const', why: 'reads arbitrary kernel macros (guru-only)', line: t.line };
    if (t.text === 'absolute' && isOp(toks[i - 1], '.')) return { construct: '.absolute probe', why: 'probes a raw kernel address (guru-only)', line: t.line };
    const end = targetExprEnd(sc, i);
    if (end >= 0) {
      const next = toks[end];
      const prev = toks[i - 1];
      if ((next?.kind === 'op' && ASSIGN_OPS.has(next.text)) || isOp(prev, '++') || isOp(prev, '--') || isWord(prev, 'delete')) {
        return { construct: `write to ${t.text}`, why: 'writes kernel or process memory (guru-only)', line: t.line };
      }
    }
  }
  const { probes, macros, orphans } = structure(sc);
  // Syscall probes, and what this scan cannot attribute (macro bodies, blocks a macro or
  // a preprocessor conditional opened): an argument variable assigned there is refused.
  const sys = syscallProbes(probes);
  const regions: Array<[number, number]> = [...orphans, ...macros, ...probes.filter((p) => sys.has(p) || p.unclear).flatMap((p) => p.bodies)];
  for (const [s, e] of regions) {
    const f = writebackIn(sc, s, e, (name) => SYSCALL_WRITEBACK_VARS.has(name));
    if (f) return f;
  }
  return undefined;
}

/** The refusal, naming the field, the construct and the policy that would allow it. */
export function unsafeStapMessage(f: StapFinding, namespace?: string): string {
  const ns = namespace === undefined ? 'the namespace' : `namespace ${namespace}`;
  return (
    `spec.probe.program line ${f.line}: ${f.construct} is refused without SystemTap guru mode (${f.why}); ` +
    `it needs spec.probe.params.guru: true and ${ns} in policy.systemtapGuruNamespaces`
  );
}
