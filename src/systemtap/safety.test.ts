// What a custom SystemTap program may do without guru mode: findUnsafeStap's table,
// its agreement with the real stap lexer (recorded from stap 4.8 in
// testdata/privilege/lexing.json, re-run live when stap is installed), its lists against
// the installed tapset, and — with a real stap — that --privilege does not stop
// system() while the tapset overrides of GUARD_FUNCTIONS do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CustomProgramError } from '../probes/custom.js';
import { FILTERS, ctxFor } from '../probes/test-support.js';
import { renderCustomStap, stapArgs } from './custom.js';
import { GUARD_FUNCTIONS, GURU_FUNCTIONS, SYSCALL_WRITEBACK_VARS, UNSAFE_FUNCTIONS, findUnsafeStap, tokenizeStap, unsafeStapMessage } from './safety.js';

const LEXING = new URL('./testdata/privilege/lexing.json', import.meta.url);
const TAPSET = '/usr/share/systemtap/tapset';
const stapMissing = spawnSync('stap', ['-V']).error !== undefined ? 'stap is not installed' : false;

describe('findUnsafeStap: refused without guru mode', () => {
  const refused: Array<[string, string, string]> = [
    // [what, program, construct]
    ['system() (the reported program)', 'probe begin { system("touch /proc/1/root/tmp/x") exit() }', 'system()'],
    ['system with newlines before (', 'probe begin {\n  system\n\n   (\n"id") }', 'system()'],
    ['system with a comment before (', 'probe begin { system /* x */ ("id") system#y\n("id") }', 'system()'],
    ['system after $# (argument count, not a comment)', 'probe begin { x = $# system("id") }', 'system()'],
    ['system after @#', 'probe begin { x = @# system("id") }', 'system()'],
    ['system after a string ending in an escaped quote', 'probe begin { printf("%s", "\\"") system("id") }', 'system()'],
    ['system after a string ending in an escaped backslash', 'probe begin { printf("\\\\") system("id") }', 'system()'],
    ['system after a string continued with backslash-newline', 'probe begin { a = "x\\\n" system("id") }', 'system()'],
    ['system after a comment holding a quote', 'probe begin { a = "x" /* " */ system("id") }', 'system()'],
    ['system concatenated with .', 'probe begin { s = "a" . system("id") }', 'system()'],
    ['system named by a macro', '@define S %( system %)\nprobe begin { @S("id") }', 'system()'],
    ['system in a preprocessor branch', 'probe begin { } %( 1 == 1 %? probe end { system("id") } %)', 'system()'],
    ['switch_file (system inside)', 'probe begin { switch_file() }', 'switch_file()'],
    ['set_pointer_arg (kernel write through a tapset wrapper)', 'probe kernel.function("vfs_read") { set_pointer_arg(1, 0) }', 'set_pointer_arg()'],
    ['set_int_arg', 'probe kprobe.function("x") { set_int_arg(2, 0) }', 'set_int_arg()'],
    ['set_user_string_arg', 'probe syscall.openat { set_user_string_arg(pointer_arg(2), "/etc/shadow") }', 'set_user_string_arg()'],
    ['ftrace', 'probe begin { ftrace("forged") }', 'ftrace()'],
    ['set_returnval', 'probe kernel.function("x").return { set_returnval(0) }', 'set_returnval()'],
    ['set_kernel_long', 'probe begin { set_kernel_long(0, 1) }', 'set_kernel_long()'],
    ['set_user_int', 'probe begin { set_user_int(0, 1) }', 'set_user_int()'],
    ['raise', 'probe begin { raise(9) }', 'raise()'],
    ['mdelay', 'probe syscall.write { mdelay(100) }', 'mdelay()'],
    ['udelay', 'probe begin { udelay(1) }', 'udelay()'],
    ['panic', 'probe begin { panic("x") }', 'panic()'],
    ['printk', 'probe begin { printk(0, "x") }', 'printk()'],
    ['embedded C block', '%{ #include <linux/delay.h> %}\nprobe begin { exit() }', 'embedded C (%{ %})'],
    ['embedded C function', 'function d(ms:long) %{ mdelay(STAP_ARG_ms); %}\nprobe begin { d(1) }', 'embedded C (%{ %})'],
    ['embedded C expression', 'probe begin { println(%{ 1 %}) }', 'embedded C (%{ %})'],
    ['target variable write', 'probe kernel.function("vfs_read") { $count = 0 }', 'write to $count'],
    ['target member write', 'probe kernel.function("f") { $sk->sk_mark[0] += 1 }', 'write to $sk'],
    ['target increment', 'probe kernel.function("f") { ++$x }', 'write to $x'],
    ['netfilter verdict', 'probe netfilter.ipv4.local_in { $verdict = 0 }', 'write to $verdict'],
    ['@cast write', 'probe begin { @cast(0, "task_struct", "kernel")->pid = 1 }', 'write to @cast'],
    ['@var write', 'probe begin { @var("jiffies@kernel/time.c") = 1 }', 'write to @var'],
    ['@const', 'probe begin { println(@const("PAGE_SIZE")) }', '@const'],
    ['absolute probe', 'probe kernel.statement(0xffffffff81000000).absolute { }', '.absolute probe'],
    ['syscall argument write-back', 'probe nd_syscall.openat { filename_unquoted = "/etc/shadow" }', 'assignment to filename_unquoted in a syscall probe'],
    ['write-back through syscall.*', 'probe syscall.kill { sig = 9 }', 'assignment to sig in a syscall probe'],
    ['write-back through a wildcard', 'probe nd_sys*.openat { filename_unquoted = "x" }', 'assignment to filename_unquoted in a syscall probe'],
    ['write-back through *', 'probe *.openat { flags |= 1 }', 'assignment to flags in a syscall probe'],
    ['write-back through brace expansion', 'probe {nd_syscall,kernel}.openat { mode = 0 }', 'assignment to mode in a syscall probe'],
    ['write-back through a user alias', 'probe a = nd_syscall.openat { }\nprobe a { filename_unquoted = "x" }', 'assignment to filename_unquoted in a syscall probe'],
    ['write-back through an alias defined later', 'probe b { pid = 1 }\nprobe b = a {}\nprobe a = syscall.kill {}', 'assignment to pid in a syscall probe'],
    ['write-back in a foreach header', 'global x\nprobe nd_syscall.openat { foreach (filename_unquoted in x) {} }', 'assignment to filename_unquoted in a syscall probe'],
    ['write-back by catch', 'probe syscall.openat { try { error("/x") } catch (filename_unquoted) { } }', 'assignment to filename_unquoted in a syscall probe'],
    ['write-back by a macro argument', 'probe syscall.openat { @try_assign(filename_unquoted, "x", "y") }', 'macro argument filename_unquoted in a syscall probe'],
    ['write-back in a macro body', '@define P %( probe nd_syscall.openat { filename_unquoted = "x" } %)\n@P', 'assignment to filename_unquoted in a syscall probe'],
    ['write-back in a probe a macro names', '@define P %( nd_syscall.openat %)\nprobe @P { filename_unquoted = "x" }', 'assignment to filename_unquoted in a syscall probe'],
    ['write-back after a preprocessor header', 'probe %( 1 %? nd_syscall.openat %: begin %) { filename_unquoted = "x" }', 'assignment to filename_unquoted in a syscall probe'],
    [
      'write-back behind deep brace nesting',
      `probe ${'{'.repeat(20)}nd_syscall.openat${'}'.repeat(20)} { filename_unquoted = "x" }`,
      'assignment to filename_unquoted in a syscall probe',
    ],
    ['delete of an argument variable', 'probe syscall.openat { delete flags }', 'assignment to flags in a syscall probe'],
  ];
  for (const [what, program, construct] of refused) {
    it(what, () => assert.equal(findUnsafeStap(program)?.construct, construct, program));
  }
});

describe('findUnsafeStap: allowed', () => {
  const allowed: Array<[string, string]> = [
    ['system( in a # comment', '# system("touch /x")\nprobe begin { exit() }'],
    ['system( in // and /* */ comments', '/* system( */ probe begin { exit() } // system("x")'],
    ['system( in a string', 'probe begin { printf("system(\\"x\\")\\n") exit() }'],
    ['system( in a string continued over a line', 'probe begin { printf("a\\\n system(") }'],
    ['#! line', '#!/usr/bin/stap system("x")\nprobe begin { exit() }'],
    ['%{ inside a string and a comment', '# %{ not code\nprobe begin { printf("%%{") }'],
    ['a member named system', 'probe kernel.function("f") { x = $t->system }'],
    ['names that are not functions of the tapset', 'probe begin { systemd = 1; system_ = 2; my_system(1) } function my_system(x) { return x }'],
    ['Object.prototype names', 'probe begin { constructor = 1; toString = 2; hasOwnProperty = 3 }'],
    ['reading syscall arguments', 'probe syscall.openat { printf("%s %d\\n", filename, flags) }'],
    ['locals of other names in a syscall probe', 'global t\nprobe syscall.read { t[tid()] = gettimeofday_us() }\nprobe syscall.read.return { d = gettimeofday_us() - t[tid()] }'],
    ['argument-variable names outside syscall probes', 'probe kernel.function("vfs_read") { n = $count; pid = pid(); flags = 1 }'],
    ['argument-variable names in functions', 'function f(x) { n = x; flags = 2; return n + flags }\nprobe syscall.read { f(1) }'],
    ['comparison is not assignment', 'probe syscall.openat { if (flags == 0) next }'],
    ['target variables read', 'probe kernel.function("vfs_read") { if ($count > 0 && $file->f_flags != 0) printf("%d\\n", $count) }'],
    ['the README-style custom program', 'probe syscall.openat { if ({{filter}}) n[execname()]++ }\nglobal n\nprobe end { foreach (c in n) printf("%s %d\\n", c, n[c]) }'],
  ];
  for (const [what, program] of allowed) {
    it(what, () => assert.equal(findUnsafeStap(program), undefined, program));
  }
});

describe('the shipped guru examples need the guru grant', () => {
  for (const [file, construct] of [
    ['io-delay-injection.yaml', 'mdelay()'],
    ['setsockopt-keepalive-injection.yaml', 'embedded C (%{ %})'],
  ] as const) {
    it(file, () => {
      const yaml = readFileSync(new URL(`../../examples/systemtap/${file}`, import.meta.url), 'utf8');
      const program = yaml.split('program: |\n')[1] ?? '';
      assert.ok(program.includes('probe '), file);
      assert.equal(findUnsafeStap(program)?.construct, construct);
    });
  }
});

describe('tokenizeStap (stap lexer rules)', () => {
  const words = (s: string) => tokenizeStap(s).map((t) => `${t.kind}:${t.text}`);
  it('comments go, strings and $#/@# stay tokens', () => {
    assert.deepEqual(words('a # b\nc // d\ne /* f */ g'), ['word:a', 'word:c', 'word:e', 'word:g']);
    assert.deepEqual(words('x = $# + @#'), ['word:x', 'op:=', 'word:$#', 'op:+', 'word:@#']);
    assert.deepEqual(words('"a\\"b" "c\\\\"'), ['string:"a\\"b"', 'string:"c\\\\"']);
  });
  it('operators are matched longest first; %{ … %} is one token; an unclosed string is junk up to the newline', () => {
    assert.deepEqual(words('a<<<=b%(c%)'), ['word:a', 'op:<<<', 'op:=', 'word:b', 'op:%(', 'word:c', 'op:%)']);
    assert.deepEqual(words('%{ # x %} y'), ['embedded:%{ # x %}', 'word:y']);
    assert.deepEqual(words('"abc\nd'), ['junk:"abc', 'word:d']);
  });
  it('line numbers and spacing', () => {
    const t = tokenizeStap('a\n\n b/*x*/c');
    assert.deepEqual(
      t.map((x) => [x.text, x.line, x.spaced]),
      [
        ['a', 1, true],
        ['b', 3, true],
        ['c', 3, true],
      ],
    );
    assert.deepEqual(
      tokenizeStap('nd_sys*.x').map((x) => x.spaced),
      [true, false, false, false],
    );
  });
});

describe('the message', () => {
  it('names spec.probe.program, the line, the construct, why, and the policy key', () => {
    const f = findUnsafeStap('probe begin {\n  system("id") }');
    assert.ok(f);
    assert.equal(
      unsafeStapMessage(f, 'team-a'),
      'spec.probe.program line 2: system() is refused without SystemTap guru mode (runs a shell command as root on the node); it needs spec.probe.params.guru: true and namespace team-a in policy.systemtapGuruNamespaces',
    );
  });
});

describe('renderCustomStap: privilege and guards', () => {
  const ctx = ctxFor({}, FILTERS.pids);
  const off = { guruRequested: false, guruAllowed: false };
  it('a program calling system() is refused in the agent too (CustomProgramError naming it)', () => {
    assert.throws(
      () => renderCustomStap('probe begin { system("touch /proc/1/root/tmp/x") exit() }', ctx, off),
      (e: Error) => e instanceof CustomProgramError && /spec\.probe\.program line 1: system\(\)/.test(e.message) && /systemtapGuruNamespaces/.test(e.message),
    );
    // guruAllowed alone (no params.guru) is not a guru run.
    assert.throws(() => renderCustomStap('probe begin { system("id") }', ctx, { guruRequested: false, guruAllowed: true }), CustomProgramError);
  });
  it('without guru: --privilege=stapsys, the guard overrides before the program, never -g', () => {
    const r = renderCustomStap('probe begin { exit() }', ctx, off);
    assert.equal(r.guru, false);
    assert.equal(r.privilege, 'stapsys');
    assert.ok(r.script.includes(GUARD_FUNCTIONS));
    assert.ok(r.script.indexOf(GUARD_FUNCTIONS) < r.script.indexOf('probe begin { exit() }'));
    const args = stapArgs('/tmp/p.stp', { guru: r.guru, runtime: 'module', ...(r.privilege ? { privilege: r.privilege } : {}) });
    assert.ok(args.includes('--privilege=stapsys'));
    assert.ok(!args.includes('-g'));
    assert.equal(args[args.length - 1], '/tmp/p.stp');
  });
  it('a guru run keeps the whole tapset: -g, no guards, no --privilege (stap refuses -g with it)', () => {
    const r = renderCustomStap('probe begin { system("id") exit() }', ctx, { guruRequested: true, guruAllowed: true });
    assert.equal(r.guru, true);
    assert.equal(r.privilege, undefined);
    assert.ok(!r.script.includes(GUARD_FUNCTIONS));
    assert.ok(stapArgs('/tmp/p.stp', { guru: true, runtime: 'module' }).includes('-g'));
    assert.throws(() => stapArgs('/tmp/p.stp', { guru: true, privilege: 'stapsys', runtime: 'module' }), /exclusive/);
  });
  it('the guards override every unsafe and guru writer by name', () => {
    for (const f of [...Object.keys(UNSAFE_FUNCTIONS).filter((n) => n !== 'switch_file'), ...Object.keys(GURU_FUNCTIONS).filter((n) => !/^(task_ns_|__)/.test(n))]) {
      assert.match(GUARD_FUNCTIONS, new RegExp(`^function ${f}\\(`, 'm'), f);
    }
  });
});

describe('agreement with the real stap lexer (stap 4.8, recorded)', () => {
  const cases = JSON.parse(readFileSync(LEXING, 'utf8')) as Array<{ program: string; stapRc: number; elaboratesSystem: boolean }>;
  it('refused exactly when stap elaborates a system() call (or stap refuses the program itself)', () => {
    assert.ok(cases.length >= 20);
    for (const c of cases) {
      const ours = findUnsafeStap(c.program)?.construct;
      if (c.elaboratesSystem) assert.ok(ours === 'system()' || ours === 'switch_file()', `missed: ${c.program}`);
      else if (c.stapRc === 0) assert.equal(ours, undefined, `refused what stap does not call: ${c.program}`);
    }
  });
});

/** A kernel "build tree" stap accepts for passes 1–3: config, symvers, release, and a System.map for the syscall kprobes. */
function stubBuildTree(dir: string): string {
  const kbuild = join(dir, 'kbuild');
  mkdirSync(join(kbuild, 'include', 'config'), { recursive: true });
  writeFileSync(join(kbuild, '.config'), 'CONFIG_MODULES=y\n');
  writeFileSync(join(kbuild, 'Module.symvers'), '');
  writeFileSync(join(kbuild, 'include', 'config', 'kernel.release'), '6.1.0-0-stub\n');
  writeFileSync(join(kbuild, 'System.map'), ['__x64_sys_openat', '__ia32_sys_openat', '__x64_sys_kill', 'vfs_read'].map((s, i) => `ffffffff81${String(i).padStart(6, '0')} T ${s}`).join('\n') + '\n');
  return kbuild;
}

describe('real stap: privilege levels, the lexer, the guards', { skip: stapMissing }, () => {
  let dir = '';
  let kbuild = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tracejob-stap-priv-'));
    kbuild = stubBuildTree(dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const stap = (pass: 2 | 3, script: string, extra: string[] = []) => {
    const file = join(dir, `p${Math.random().toString(36).slice(2)}.stp`);
    writeFileSync(file, script);
    const r = spawnSync('stap', [`-p${pass}`, '-r', kbuild, ...extra, file], { encoding: 'utf8', timeout: 120_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const functions = (p2: string) => (`\n${p2}`.split('\n# functions\n')[1] ?? '').split('\n# probes\n')[0]?.split('\n').filter((l) => /^\w+:/.test(l)).map((l) => l.split(':')[0]) ?? [];

  it('system() passes every --privilege level: the flag alone does not stop it', () => {
    for (const level of ['stapusr', 'stapsys', 'stapdev']) {
      const r = stap(2, 'probe begin { system("touch /tmp/tj-x") exit() }', [`--privilege=${level}`]);
      assert.equal(r.status, 0, `${level}: ${r.stderr}`);
      assert.ok(functions(r.stdout).includes('system'), level);
    }
  });
  it('stapusr refuses kernel probes, stapsys runs them: stapsys is the lowest level that works', () => {
    const kp = 'probe kprobe.function("vfs_read") { printf("%d\\n", pid()) }';
    const usr = stap(2, kp, ['--privilege=stapusr']);
    assert.notEqual(usr.status, 0);
    assert.match(usr.stderr, /probe point is not allowed for --privilege=stapusr/);
    assert.equal(stap(2, kp, ['--privilege=stapsys']).status, 0);
  });
  it('stap refuses -g with --privilege=stapsys, and guru functions without -g at any level', () => {
    const g = stap(2, 'probe begin { exit() }', ['-g', '--privilege=stapsys']);
    assert.notEqual(g.status, 0);
    assert.match(g.stderr, /can't specify -g and --privilege=stapsys together/);
    const k = stap(2, 'probe begin { set_kernel_long(0, 1) }', ['--privilege=stapsys']);
    assert.match(k.stderr, /function may not be used unless -g is specified/);
  });
  it('without guards, tapset wrappers and a syscall write-back reach kernel/user writes at --privilege=stapsys', () => {
    const r = stap(3, 'probe nd_syscall.openat { filename_unquoted = "/etc/shadow" }\nprobe begin { set_pointer_arg(1, 0) }', ['--privilege=stapsys']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /store_uderef_string/);
    assert.match(r.stdout, /kwrite\(/);
  });
  it('with the guards in front, the same program and system() compile to error() calls', () => {
    const r = stap(3, `${GUARD_FUNCTIONS}\nprobe nd_syscall.openat { filename_unquoted = "/etc/shadow" flags = 0 }\nprobe begin { system("touch /tmp/tj-x") set_pointer_arg(1, 0) switch_file() }`, ['--privilege=stapsys']);
    assert.equal(r.status, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /store_uderef_string|kwrite\(|STP_SYSTEM/);
    for (const f of ['set_user_string_arg', 'set_int_arg', 'set_pointer_arg', 'system']) assert.ok(r.stdout.includes(`tracejob: ${f}() is refused`), f);
  });
  it('a rendered custom program (node target) with the guards elaborates at --privilege=stapsys', () => {
    const s = renderCustomStap('probe syscall.openat { if ({{filter}}) n[execname()]++ }\nglobal n\nprobe end { foreach (c in n) printf("%s %d\\n", c, n[c]) }', ctxFor({}, FILTERS.node), {
      guruRequested: false,
      guruAllowed: false,
    });
    const r = stap(2, s.script, ['--privilege=stapsys', '-DMAXMAPENTRIES=16384']);
    assert.equal(r.status, 0, r.stderr);
  });
  it('the recorded lexing cases still hold for this stap', () => {
    const cases = JSON.parse(readFileSync(LEXING, 'utf8')) as Array<{ program: string; stapRc: number; elaboratesSystem: boolean }>;
    for (const c of cases) {
      const r = stap(2, c.program, ['--privilege=stapsys']);
      assert.equal(r.status === 0, c.stapRc === 0, c.program);
      assert.equal(functions(r.stdout).includes('system'), c.elaboratesSystem, c.program);
    }
  });
});

// ---------------------------------------------------------------------------
// The lists against an installed tapset: every /* guru */ function, every script
// function that reaches one or system(), every @probewrite variable.

function tapsetFiles(root: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(root)) {
    const p = join(root, e);
    if (statSync(p).isDirectory()) out.push(...tapsetFiles(p));
    else if (/\.stpm?$/.test(e)) out.push(p);
  }
  return out;
}

describe('the lists cover the installed tapset', { skip: existsSync(TAPSET) ? false : `no ${TAPSET}` }, () => {
  const texts = tapsetFiles(TAPSET).map((f) => readFileSync(f, 'utf8'));
  it('every /* guru */ function, and every tapset function reaching one or system(), is listed', () => {
    const guru = new Set<string>();
    const scripted = new Map<string, string[]>();
    for (const s of texts) {
      for (const m of s.matchAll(/^\s*(?:private\s+)?function\s+(\w+)\s*(?::\s*\w+)?\s*\([^)]*\)\s*(?::\s*\w+)?\s*(%\{|\{)/gm)) {
        const name = m[1] ?? '';
        const from = (m.index ?? 0) + m[0].length;
        if (m[2] === '%{') {
          if (/\/\*\s*guru\s*\*\//.test(s.slice(from, s.indexOf('%}', from)))) guru.add(name);
        } else {
          let depth = 1;
          let j = from;
          for (; j < s.length && depth > 0; j++) depth += s[j] === '{' ? 1 : s[j] === '}' ? -1 : 0;
          scripted.set(name, [...(scripted.get(name) ?? []), s.slice(from, j).replace(/#.*|\/\/.*/g, '')]);
        }
      }
    }
    for (const g of guru) assert.ok(Object.hasOwn(GURU_FUNCTIONS, g), `guru function ${g} is not in GURU_FUNCTIONS`);
    const reach = new Set([...guru, 'system']);
    for (let changed = true; changed; ) {
      changed = false;
      for (const [name, bodies] of scripted) {
        if (reach.has(name) || !bodies.some((b) => [...reach].some((r) => new RegExp(`\\b${r}\\s*\\(`).test(b)))) continue;
        reach.add(name);
        changed = true;
      }
    }
    // Read-side helpers the tapset itself uses on every syscall probe are not writers.
    const wrappers = [...reach].filter((n) => !guru.has(n) && n !== 'system');
    for (const w of wrappers) assert.ok(Object.hasOwn(UNSAFE_FUNCTIONS, w), `${w} reaches a guru function or system() but is not in UNSAFE_FUNCTIONS`);
    assert.ok(wrappers.includes('set_pointer_arg') && wrappers.includes('set_user_string_arg'), 'the wrappers the analysis found');
  });
  it('every @probewrite variable is in SYSCALL_WRITEBACK_VARS', () => {
    const vars = new Set(texts.flatMap((s) => [...s.matchAll(/@probewrite\s*\(\s*(\w+)\s*\)/g)].map((m) => m[1] ?? '')));
    assert.ok(vars.size > 300);
    for (const v of vars) assert.ok(SYSCALL_WRITEBACK_VARS.has(v), v);
  });
  it('system() is the tapset function it is: /* unprivileged */ and sending STP_SYSTEM', () => {
    const sys = readFileSync(join(TAPSET, 'system.stp'), 'utf8');
    assert.match(sys, /function system \(cmd:string\) %\{ \/\* unprivileged \*\/\s*_stp_ctl_send\(STP_SYSTEM/);
  });
});
