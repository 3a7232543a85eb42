// Catalog-wide tests: names match the API list, every probe renders in every
// filter mode with the filter placed exactly where it belongs, params are
// validated strictly (injection attempts rejected with field-named messages),
// and docs/probes.md matches the catalog.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CATALOG_PROBES } from '../api/probe-names.js';
import { CATALOG, getProbe, validateParams } from './catalog.js';
import { renderProbeDocs } from './docs.js';
import { FilterError, netnsPredicate, processPredicate, skbDevNetnsExpr, sockNetnsExpr } from './filter.js';
import { ALL_PROBES, CAPS_017, CAPS_023, FILTERS, SAMPLE_PARAMS, ctxFor } from './test-support.js';
import type { TargetFilter } from './types.js';

const MODES = ['cgroup', 'pids', 'namespace', 'node'] as const;

function render(name: (typeof ALL_PROBES)[number], filter: TargetFilter, caps = CAPS_017): string {
  const def = CATALOG[name];
  return def.renderBpftrace(ctxFor(def.params.parse(SAMPLE_PARAMS[name] ?? {}), filter, caps));
}

/** Top-level probe blocks: "attach\n/pred/\n{ … }" split at blank lines between blocks. */
function blocks(program: string): string[] {
  return program.split('\n\n').filter((b) => !b.startsWith('//'));
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const c of s.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
    if (c === '{' || c === '(') depth++;
    if (c === '}' || c === ')') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

describe('catalog', () => {
  it('registers exactly the API probe names', () => {
    assert.deepEqual(Object.keys(CATALOG).sort(), [...CATALOG_PROBES].sort());
    for (const n of CATALOG_PROBES) assert.equal(CATALOG[n].name, n);
  });

  it('every probe has metadata', () => {
    for (const n of ALL_PROBES) {
      const d = CATALOG[n];
      assert.ok(d.summary.length > 10, n);
      assert.ok(d.covers.length > 3, n);
      assert.ok(d.hooks.length > 0, n);
      assert.ok(d.backends.includes('bpftrace'), n);
    }
    assert.equal(CATALOG.interrupts.scope, 'node');
    assert.equal(getProbe('nope'), undefined);
  });

  for (const name of ALL_PROBES) {
    for (const mode of MODES) {
      const filter = FILTERS[mode];
      it(`${name} renders for filter mode ${mode}`, () => {
        if (CATALOG[name].scope === 'node' && mode !== 'node') {
          assert.throws(() => render(name, filter), FilterError);
          return;
        }
        for (const caps of [CAPS_017, CAPS_023]) {
          const p = render(name, filter, caps);
          assert.doesNotMatch(p, /undefined|NaN|\[object Object\]/, p);
          assert.ok(balanced(p), `unbalanced braces/parens:\n${p}`);
          if (caps === CAPS_023) assert.doesNotMatch(p, /args->/, 'bpftrace >= 0.19 uses args.field');
          else assert.doesNotMatch(p, /args\.[a-z]/, 'bpftrace 0.17 needs args->field');
          const proc = processPredicate(filter);
          const bs = blocks(p);
          if (mode === 'node') {
            assert.doesNotMatch(p, /cgroup ==|pid == 4242|mnt_ns->ns\.inum ==|ns\.inum == 4026532001/, 'node mode has no target filter');
          } else {
            // The filter appears once in every block that carries it, and some block carries it.
            let carriers = 0;
            for (const b of bs) {
              const nProc = b.split(proc ?? '\u0000').length - 1;
              const nNet = (b.match(/ns\.inum == 4026532001/g) ?? []).length;
              assert.ok(nProc <= 1, `process filter repeated in a block:\n${b}`);
              assert.ok(nNet <= 1, `netns filter repeated in a block:\n${b}`);
              carriers += nProc + nNet;
            }
            assert.ok(carriers >= 1, `no block carries the target filter:\n${p}`);
          }
        }
      });
    }
  }

  it('renders no program text that comes from an unvalidated string', () => {
    // Every probe with a string param sees it only after the schema checks it.
    assert.equal(validateParams('funcLatency', { binary: '/bin/x', function: 'f"; system("id")' }).ok, false);
  });
});

describe('filter predicates', () => {
  it('renders each mode', () => {
    assert.equal(processPredicate(FILTERS.cgroup), '(cgroup == 1234 || cgroup == 5678)');
    assert.equal(processPredicate(FILTERS.pids), '(pid == 4242 || pid == 4343)');
    assert.equal(processPredicate(FILTERS.namespace), '(curtask->nsproxy->mnt_ns->ns.inum == 4026532002)');
    assert.equal(processPredicate(FILTERS.node), undefined);
    assert.equal(
      netnsPredicate(FILTERS.cgroup, sockNetnsExpr('args->skaddr')),
      '(((struct sock *)args->skaddr)->__sk_common.skc_net.net->ns.inum == 4026532001)',
    );
    assert.equal(netnsPredicate(FILTERS.pids, skbDevNetnsExpr('args.skbaddr')), '(((struct sk_buff *)args.skbaddr)->dev->nd_net.net->ns.inum == 4026532001)');
    assert.equal(netnsPredicate(FILTERS.node, 'x'), undefined);
  });

  it('rejects ids that are not plain numbers', () => {
    const bad: TargetFilter[] = [
      { mode: 'cgroup', cgroupIds: ['12 || 1'], netNs: [], pids: [], mntNs: [] },
      { mode: 'cgroup', cgroupIds: ['0x10'], netNs: [], pids: [], mntNs: [] },
      { mode: 'cgroup', cgroupIds: ['99999999999999999999'], netNs: [], pids: [], mntNs: [] },
      { mode: 'cgroup', cgroupIds: [], netNs: [], pids: [], mntNs: [] },
      { mode: 'pids', pids: [1.5], netNs: [], mntNs: [] },
      { mode: 'pids', pids: [-1], netNs: [], mntNs: [] },
      { mode: 'pids', pids: [], netNs: [], mntNs: [] },
      { mode: 'namespace', mntNs: [Number.NaN], netNs: [], pids: [] },
    ];
    for (const f of bad) assert.throws(() => processPredicate(f), FilterError, JSON.stringify(f));
    assert.throws(() => netnsPredicate({ mode: 'pids', pids: [1], netNs: [], mntNs: [] }, 'x'), /netNs/);
  });

  it('parenthesises the filter next to probe predicates', () => {
    const p = render('tcpAccepts', FILTERS.pids);
    assert.match(p, /\/args->ret >= 0 && \(pid == 4242 \|\| pid == 4343\)\//);
    const q = render('futexContention', FILTERS.cgroup);
    assert.match(q, /\/\(\(args->op & 0x7f\) == 0 \|\| .*\) && \(cgroup == 1234 \|\| cgroup == 5678\)\//);
  });
});

describe('params validation', () => {
  it('applies documented defaults', () => {
    const r = validateParams('syscallLatency', {});
    assert.deepEqual(r, { ok: true, value: { syscalls: ['read', 'write', 'pread64', 'pwrite64', 'fsync', 'fdatasync'] } });
    const s = validateParams('slowFileOps', undefined);
    assert.ok(s.ok && (s.value as { thresholdMs: number }).thresholdMs === 10);
  });

  const rejects: Array<[string, unknown, string, RegExp]> = [
    ['funcLatency', { binary: '/usr/bin/app', function: 'foo); system("x")' }, 'spec.probe.params.function', /function must be a symbol name/],
    ['funcLatency', { binary: '../../etc/passwd', function: 'main' }, 'spec.probe.params.binary', /binary must be an absolute path/],
    ['funcLatency', { binary: '/usr/../etc/passwd', function: 'main' }, 'spec.probe.params.binary', /binary must not contain "\.\." segments/],
    ['funcLatency', { binary: '/usr/bin/app\n{ system("x") }', function: 'main' }, 'spec.probe.params.binary', /binary must contain only/],
    ['funcLatency', { binary: '/usr/bin/a"b', function: 'main' }, 'spec.probe.params.binary', /binary must contain only/],
    ['funcLatency', { binary: '/usr/bin/app', function: 'main\n' }, 'spec.probe.params.function', /function must be a symbol name/],
    ['funcLatency', { function: 'main' }, 'spec.probe.params.binary', /binary is required unless kernel is true/],
    ['funcLatency', { binary: '/usr/bin/app' }, 'spec.probe.params.function', /^function is required$/],
    ['funcLatency', { kernel: true, function: 'mod:fn' }, 'spec.probe.params.function', /function must not contain ":" for a kernel function/],
    ['funcLatency', { binary: '/usr/bin/app', function: 'a:::b' }, 'spec.probe.params.function', /function must not contain ":::"/],
    ['funcLatency', { binary: '/usr/bin/app', function: "x' }" }, 'spec.probe.params.function', /function must be a symbol name/],
    ['funcLatency', { binary: '/usr/bin/app', function: 'main', thresholdUs: -1 }, 'spec.probe.params.thresholdUs', /thresholdUs must be >= 0/],
    ['funcLatency', { binary: '/usr/bin/app', function: 'main', thresholdUs: 1.5 }, 'spec.probe.params.thresholdUs', /thresholdUs must be an integer/],
    ['dnsLatency', { libc: 'lib/libc.so.6' }, 'spec.probe.params.libc', /libc must be an absolute path/],
    ['dnsLatency', { functions: ['system'] }, 'spec.probe.params.functions[0]', /functions\[0\] must be one of getaddrinfo/],
    ['syscallLatency', { syscalls: ['read"] = 1; system("x'] }, 'spec.probe.params.syscalls[0]', /syscalls\[0\] must be a syscall name/],
    ['syscallLatency', { syscalls: [] }, 'spec.probe.params.syscalls', /syscalls must list at least one syscall/],
    ['syscallLatency', { syscalls: 'read' }, 'spec.probe.params.syscalls', /syscalls must be a list of syscall names/],
    ['slowFileOps', { thresholdMs: 10_000_000 }, 'spec.probe.params.thresholdMs', /thresholdMs must be <= 600000/],
    ['slowFileOps', { thresholdMs: '5' }, 'spec.probe.params.thresholdMs', /thresholdMs must be a number/],
    ['cpuProfile', { hz: 0 }, 'spec.probe.params.hz', /hz must be >= 1/],
    ['cpuProfile', { kernelStacks: false, userStacks: false }, 'spec.probe.params.userStacks', /must not both be false/],
    ['execs', { evil: 1 }, 'spec.probe.params.evil', /unknown parameter "evil" \(allowed: none\)/],
    ['tcpConnectLatency', { event: true }, 'spec.probe.params.event', /unknown parameter "event" \(allowed: events\)/],
    ['synBacklog', { fallback: 'shell' }, 'spec.probe.params.fallback', /fallback must be one of netstat, none/],
    ['tcpSendSizes', { eventMinBytes: 2 ** 40 }, 'spec.probe.params.eventMinBytes', /eventMinBytes must be <=/],
  ];
  for (const [probe, params, path, msg] of rejects) {
    it(`${probe} rejects ${JSON.stringify(params)}`, () => {
      const r = validateParams(probe, params);
      assert.equal(r.ok, false);
      if (r.ok) return;
      const issue = r.issues.find((i) => i.path === path);
      assert.ok(issue, `no issue at ${path}: ${JSON.stringify(r.issues)}`);
      assert.match(issue.message, msg);
    });
  }

  it('rejects unknown probes and non-object params', () => {
    const r = validateParams('rmRf', {});
    assert.ok(!r.ok && r.issues[0]?.path === 'spec.probe.type');
    const s = validateParams('execs', 'x');
    assert.ok(!s.ok && s.issues[0]?.message === 'params must be an object');
  });

  it('accepts C++-style and dotted symbol names, rendering :: quoted', () => {
    const r = validateParams('funcLatency', { binary: '/usr/sbin/mysqld', function: 'row_ins::clust_index.entry_low' });
    assert.ok(r.ok);
    const p = CATALOG.funcLatency.renderBpftrace(ctxFor(r.value, FILTERS.pids));
    assert.match(p, /uprobe:"\/proc\/4242\/root\/usr\/sbin\/mysqld":"row_ins::clust_index\.entry_low"/);
  });
});

describe('docs/probes.md', () => {
  it('matches the catalog (regenerate: npx tsx src/probes/docs.ts > docs/probes.md)', () => {
    const committed = readFileSync(new URL('../../docs/probes.md', import.meta.url), 'utf8');
    assert.equal(committed, renderProbeDocs());
  });

  it('lists every probe and its params with defaults', () => {
    const d = renderProbeDocs();
    for (const n of CATALOG_PROBES) assert.match(d, new RegExp(`## ${n}\\n`));
    assert.match(d, /\| `thresholdMs` \| number \| `10` \|/);
    assert.match(d, /\| `function` \| string \| \*\*required\*\* \|/);
  });
});
