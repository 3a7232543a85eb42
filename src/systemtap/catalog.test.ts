// SystemTap scripts: every shipped script parses with the real `stap -p1` (skipped
// when stap is missing), rendering is snapshot-tested, and the target filter /
// guru rules hold. `stap -p1` insists on a kernel build tree even to parse; a
// stub tree (.config, Module.symvers, kernel.release) satisfies that check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { validateParams } from '../probes/catalog.js';
import { CAPS_017, FILTERS, SAMPLE_PARAMS, ctxFor } from '../probes/test-support.js';
import { SYSTEMTAP_RENDERERS } from './catalog.js';
import { GuruDenied, renderCustomStap, stapArgs } from './custom.js';
import { findUnsafeStap } from './safety.js';
import { stapString } from './render.js';

const REQUIRED = ['tcpRetransmits', 'syscallLatency', 'blockIOLatency', 'fsLatency', 'threadTimes', 'futexContention', 'funcLatency'];
const SNAP = new URL('./testdata/snapshots/', import.meta.url);
const UPDATE = process.env['UPDATE_SNAPSHOTS'] === '1';

function render(name: string, mode: keyof typeof FILTERS, params?: unknown, caps = CAPS_017): string {
  const v = validateParams(name, params ?? SAMPLE_PARAMS[name as keyof typeof SAMPLE_PARAMS] ?? {});
  assert.ok(v.ok, name);
  const r = SYSTEMTAP_RENDERERS[name as keyof typeof SYSTEMTAP_RENDERERS];
  assert.ok(r, `${name} has a SystemTap renderer`);
  return r(ctxFor(v.value, FILTERS[mode], caps));
}

/** Every rendered variant worth parsing: each probe × {pids, node} + param variants. */
function variants(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const name of Object.keys(SYSTEMTAP_RENDERERS)) {
    for (const mode of ['pids', 'cgroup', 'node'] as const) out.push([`${name}-${mode}`, render(name, mode)]);
  }
  out.push(['tcpRetransmits-nosynack', render('tcpRetransmits', 'pids', { synack: false })]);
  out.push(['blockIOLatency-overall', render('blockIOLatency', 'pids', { perDisk: false })]);
  out.push(['fsLatency-vfs', render('fsLatency', 'pids', { level: 'vfs' })]);
  out.push(['funcLatency-kernel', render('funcLatency', 'node', { function: 'vfs_read', kernel: true })]);
  out.push(['threadTimes-49hz', render('threadTimes', 'pids', { hz: 49 })]);
  return out;
}

describe('SystemTap catalog scripts', () => {
  it('covers the required probes', () => {
    for (const n of REQUIRED) assert.ok(n in SYSTEMTAP_RENDERERS, n);
  });

  it('rendering matches the snapshots', () => {
    for (const [name, script] of variants().filter(([n]) => n.endsWith('-pids') || n.endsWith('-node'))) {
      const file = new URL(`${name}.stp`, SNAP);
      if (UPDATE || !existsSync(file)) writeFileSync(file, script);
      assert.equal(script, readFileSync(file, 'utf8'), `${name}.stp changed (UPDATE_SNAPSHOTS=1 to accept)`);
    }
  });

  it('filters by the pid set and follows forks; node mode has no filter', () => {
    const s = render('syscallLatency', 'pids');
    assert.match(s, /__tj_pids\[4242\] = 1/);
    assert.match(s, /__tj_pids\[4343\] = 1/);
    assert.match(s, /probe scheduler\.process_fork/);
    assert.match(s, /if \(!__tj_target\(\)\) next/);
    const n = render('syscallLatency', 'node');
    assert.doesNotMatch(n, /__tj_pids\[/);
    assert.doesNotMatch(n, /scheduler\.process_fork/);
    assert.match(n, /if \(!1\) next/);
  });

  it('network events are filtered by the socket netns', () => {
    const s = render('tcpRetransmits', 'pids');
    assert.match(s, /__tj_netns\[4026532001\] = 1/);
    assert.match(s, /if \(!__tj_sock_netns_ok\(\$sk\)\) next/);
    assert.match(s, /skc_net->net->ns->inum in __tj_netns/);
  });

  it('prints the bpftrace map names the probe shapers read', () => {
    const want: Record<string, string[]> = {
      tcpRetransmits: ['@count', '@by_state', '@by_flow', '@synack', '@synack_by_flow', 'EV\\tretrans'],
      syscallLatency: ['@latency_us', '@stats_us', '@errors'],
      blockIOLatency: ['@latency_us', '@by_disk', '@errors'],
      fsLatency: ['@latency_us'],
      threadTimes: ['@kernel', '@user', '@samples'],
      futexContention: ['@wait_us', '@locks'],
      funcLatency: ['@count', '@latency_us', '@by_process', 'EV\\tcall'],
    };
    for (const [name, maps] of Object.entries(want)) {
      const s = render(name, 'pids');
      for (const m of maps) assert.ok(s.includes(m), `${name} prints ${m}`);
      assert.match(s, /__tracejob_attached__/, `${name} prints the attach marker`);
    }
  });

  it('rejects a target without pids, and function names that would break out of the probe point', () => {
    const v = validateParams('execs', {});
    assert.ok(v.ok);
    assert.throws(() => SYSTEMTAP_RENDERERS.syscallLatency?.(ctxFor({ syscalls: ['read'] }, { mode: 'pids', pids: [], netNs: [], mntNs: [] })), /host pid/);
    assert.throws(() => render('funcLatency', 'node', { function: 'a"b', kernel: true }));
  });

  it('stapString escapes', () => {
    assert.equal(stapString('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  });
});

const stapMissing = spawnSync('stap', ['-V']).error !== undefined ? 'stap is not installed' : false;

describe('stap -p1 (parse) on every shipped script', { skip: stapMissing }, () => {
  let dir = '';
  let kbuild = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tracejob-stap-'));
    kbuild = join(dir, 'kbuild');
    mkdirSync(join(kbuild, 'include', 'config'), { recursive: true });
    writeFileSync(join(kbuild, '.config'), 'CONFIG_MODULES=y\n');
    writeFileSync(join(kbuild, 'Module.symvers'), '');
    writeFileSync(join(kbuild, 'include', 'config', 'kernel.release'), '6.1.0-0-stub\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const parse = (name: string, script: string, extra: string[] = []): { status: number | null; stderr: string } => {
    const file = join(dir, `${name}.stp`);
    writeFileSync(file, script);
    const r = spawnSync('stap', ['-p1', '-r', kbuild, ...extra, file], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stderr: r.stderr };
  };

  for (const [name, script] of variants()) {
    it(name, () => {
      const r = parse(name, script);
      assert.equal(r.status, 0, r.stderr);
    });
  }

  it('a broken script fails with a parse error (the check is real)', () => {
    const r = parse('broken', render('futexContention', 'pids').replace('probe end {', 'probe end { x = '));
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /parse error/);
  });

  it('custom programs (with the prelude) and the guru examples parse', () => {
    const ctx = ctxFor({}, FILTERS.pids);
    const custom = renderCustomStap('probe syscall.openat { if ({{filter}}) n[execname()]++ }\nglobal n\nprobe end { foreach (c in n) printf("%s %d\\n", c, n[c]) }', ctx, { guruRequested: false, guruAllowed: false });
    assert.equal(parse('custom', custom.script).status, 0);
    for (const f of ['io-delay-injection.yaml', 'setsockopt-keepalive-injection.yaml']) {
      const yaml = readFileSync(new URL(`../../examples/systemtap/${f}`, import.meta.url), 'utf8');
      const program = extractProgram(yaml);
      const g = renderCustomStap(program, ctx, { guruRequested: true, guruAllowed: true });
      const r = parse(f, g.script, ['-g']);
      assert.equal(r.status, 0, `${f}: ${r.stderr}`);
    }
  });
});

/** The block scalar under `program: |` in an example TraceJob. */
export function extractProgram(yaml: string): string {
  const lines = yaml.split('\n');
  const i = lines.findIndex((l) => /^\s*program:\s*\|/.test(l));
  assert.ok(i >= 0, 'example has program: |');
  const indent = /^(\s*)/.exec(lines[i + 1] ?? '')?.[1]?.length ?? 0;
  const out: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (l.trim() !== '' && (/^(\s*)/.exec(l)?.[1]?.length ?? 0) < indent) break;
    out.push(l.slice(indent));
  }
  return out.join('\n');
}

describe('custom SystemTap programs and guru mode', () => {
  const ctx = ctxFor({}, FILTERS.pids);
  it('substitutes placeholders', () => {
    const r = renderCustomStap('probe timer.s(1) { if ({{filter}}) printf("%d %d\\n", {{main_pid}}, {{net_ns}}) } # {{pids}}', ctx, { guruRequested: false, guruAllowed: false });
    assert.match(r.script, /if \(__tj_target\(\)\) printf\("%d %d\\n", 4242, 4026532001\) \} # 4242, 4343/);
    assert.equal(r.guru, false);
  });
  it('rejects unknown placeholders', () => {
    assert.throws(() => renderCustomStap('probe begin { {{cgroup_id}} }', ctx, { guruRequested: false, guruAllowed: false }), /unknown placeholder/);
  });
  it('embedded C without params.guru is refused', () => {
    const p = '%{ #include <linux/delay.h> %}\nfunction d(ms:long) %{ mdelay(STAP_ARG_ms); %}\nprobe begin { d(1) }';
    assert.equal(findUnsafeStap(p)?.construct, 'embedded C (%{ %})');
    assert.throws(() => renderCustomStap(p, ctx, { guruRequested: false, guruAllowed: true }), /params\.guru/);
  });
  it('params.guru without the operator grant is refused (GuruDenied)', () => {
    assert.throws(
      () => renderCustomStap('probe begin { exit() }', ctx, { guruRequested: true, guruAllowed: false }),
      (e: Error) => e instanceof GuruDenied && /systemtapGuruNamespaces/.test(e.message),
    );
  });
  it('guru requested and allowed → -g on the command line; never otherwise', () => {
    const r = renderCustomStap('probe begin { exit() }', ctx, { guruRequested: true, guruAllowed: true });
    assert.equal(r.guru, true);
    assert.ok(stapArgs('/tmp/x.stp', { guru: r.guru, runtime: 'module' }).includes('-g'));
    assert.ok(!stapArgs('/tmp/x.stp', { guru: false, runtime: 'module' }).includes('-g'));
    assert.ok(stapArgs('/tmp/x.stp', { guru: false, runtime: 'bpf' }).includes('--runtime=bpf'));
  });
  it('comments and strings mentioning %{ do not count as embedded C', () => {
    assert.equal(findUnsafeStap('# %{ not code\nprobe begin { printf("%%{") }'), undefined);
  });
});
