import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOG_PROBES } from '../api/probe-names.js';
import { checkParams, parseParams, probeCatalog, probesTable, splitKeyValue } from './probes.js';
import { buildTraceJob, parseSelector, toManifest } from './spec.js';

describe('probe catalog for the plugin', () => {
  test('lists every catalog probe with scope, summary and params', () => {
    const all = probeCatalog();
    assert.deepEqual(all.map((p) => p.name), [...CATALOG_PROBES]);
    assert.equal(all.length, 28);
    for (const p of all) {
      assert.ok(p.summary.length > 10, p.name);
      assert.ok(['pod', 'node', 'both'].includes(p.scope), p.name);
    }
    assert.equal(all.find((p) => p.name === 'interrupts')?.scope, 'node');
  });

  test('param types, defaults, enums and required flags come from the zod schemas', () => {
    const by = new Map(probeCatalog().map((p) => [p.name, p]));
    const hz = by.get('cpuProfile')?.params.find((x) => x.name === 'hz');
    assert.deepEqual(hz && { type: hz.type, default: hz.default, required: hz.required }, { type: 'number', default: 49, required: false });
    const fn = by.get('funcLatency')?.params.find((x) => x.name === 'function');
    assert.equal(fn?.required, true);
    assert.equal(fn?.type, 'string');
    const ops = by.get('slowFileOps')?.params.find((x) => x.name === 'ops');
    assert.equal(ops?.type, 'enum[]');
    assert.ok(ops?.values?.includes('fsync'));
    const level = by.get('fsLatency')?.params.find((x) => x.name === 'level');
    assert.deepEqual(level?.values, ['auto', 'syscall', 'vfs']);
    assert.equal(by.get('syscallLatency')?.params[0]?.type, 'string[]');
    assert.deepEqual(by.get('execs')?.params, []);
  });

  test('table shows name=default, required params and "-" for none', () => {
    const t = probesTable(probeCatalog());
    assert.match(t, /^NAME +SCOPE +PARAMS +SUMMARY$/m);
    assert.match(t, /^cpuProfile +both +hz=49 kernelStacks=true userStacks=true +Sampled/m);
    assert.match(t, /^funcLatency +both +function=<string> \[binary\] kernel=false thresholdUs=10000 /m);
    assert.match(t, /^execs +both +- +Process execs/m);
    assert.equal(t.trimEnd().split('\n').length, 29);
  });
});

describe('--param parsing', () => {
  test('splitKeyValue keeps "=" in values and refuses a missing key', () => {
    assert.deepEqual(splitKeyValue('a=b=c', 'x'), ['a', 'b=c']);
    assert.throws(() => splitKeyValue('novalue', '--param'), /--param must look like key=value/);
    assert.throws(() => splitKeyValue('=v', '--param'), /key=value/);
  });

  test('values are typed by the probe schema', () => {
    assert.deepEqual(parseParams('cpuProfile', ['hz=99', 'kernelStacks=false']), { hz: 99, kernelStacks: false });
    assert.deepEqual(parseParams('slowFileOps', ['thresholdMs=5', 'ops=read,fsync']), { thresholdMs: 5, ops: ['read', 'fsync'] });
    assert.deepEqual(parseParams('syscallLatency', ['syscalls=read', 'syscalls=write']), { syscalls: ['read', 'write'] });
    assert.deepEqual(parseParams('syscallLatency', ['syscalls=["futex"]']), { syscalls: ['futex'] });
    assert.deepEqual(parseParams('funcLatency', ['function=malloc', 'binary=/lib/libc.so.6']), { function: 'malloc', binary: '/lib/libc.so.6' });
    // Not coercible: left as text for validation to name the rule.
    assert.deepEqual(parseParams('cpuProfile', ['hz=fast']), { hz: 'fast' });
    // Unknown params are kept (JSON when they parse) for validation to refuse.
    assert.deepEqual(parseParams('execs', ['bogus=1']), { bogus: 1 });
  });

  test('checkParams uses the catalog rules and names the field', () => {
    assert.deepEqual(checkParams('cpuProfile', { hz: 99 }), []);
    const bad = checkParams('cpuProfile', { hz: 'fast', bogus: 1 });
    assert.equal(bad.length, 2);
    assert.match(bad.join('\n'), /spec\.probe\.params\.hz: /);
    assert.match(bad.join('\n'), /unknown parameter "bogus"/);
  });
});

describe('run flags → TraceJob', () => {
  test('a pod target with params', () => {
    const r = buildTraceJob('web-cpu', 'shop', { pod: 'checkout', container: 'app', probe: 'cpuProfile', duration: '10s', param: ['hz=99'] });
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.durationMs, 10_000);
    assert.deepEqual(toManifest(r.traceJob), {
      apiVersion: 'tracing.tracejob.dev/v1alpha1',
      kind: 'TraceJob',
      metadata: { name: 'web-cpu', namespace: 'shop' },
      spec: { target: { pod: { name: 'checkout', container: 'app' } }, probe: { type: 'cpuProfile', params: { hz: 99 } }, duration: '10s' },
    });
  });

  test('selector, node and custom program targets', () => {
    const sel = buildTraceJob('s', 'shop', { selector: 'app=web,tier=fe', probe: 'execs', targetNamespace: 'other' });
    assert.ok(sel.ok);
    assert.deepEqual(sel.traceJob.spec.target, { selector: { matchLabels: { app: 'web', tier: 'fe' }, namespace: 'other' } });
    const node = buildTraceJob('n', 'ops', { node: 'worker-1', probe: 'interrupts', duration: '5s' });
    assert.ok(node.ok);
    const custom = buildTraceJob('c', 'ops', { pod: 'x', program: 'BEGIN { exit(); }', backend: 'bpftrace', ttl: 60, topN: 5 });
    assert.ok(custom.ok);
    assert.deepEqual(custom.traceJob.spec.probe, { type: 'bpftrace', program: 'BEGIN { exit(); }' });
    assert.equal(custom.traceJob.spec.ttlSecondsAfterFinished, 60);
    assert.deepEqual(custom.traceJob.spec.output, { topN: 5 });
    assert.deepEqual(parseSelector(' a=b , c=d '), { a: 'b', c: 'd' });
  });

  test('every problem is reported, nothing thrown', () => {
    const r = buildTraceJob('Bad_Name', 'shop', { pod: 'a', node: 'b', param: ['oops'] });
    assert.equal(r.ok, false);
    const text = r.ok ? '' : r.errors.join('\n');
    assert.match(text, /NAME "Bad_Name" must be a DNS-1123 subdomain/);
    assert.match(text, /exactly one of --pod, --selector or --node/);
    assert.match(text, /--probe is required/);
  });

  test('bad params, bad durations, wrong scope and misplaced programs are refused locally', () => {
    const cases: Array<[Parameters<typeof buildTraceJob>[2], RegExp]> = [
      [{ pod: 'a', probe: 'cpuProfile', param: ['hz=0'] }, /spec\.probe\.params\.hz: hz must be >= 1/],
      [{ pod: 'a', probe: 'execs', param: ['bogus=1'] }, /unknown parameter "bogus" \(allowed: none\)/],
      [{ pod: 'a', probe: 'funcLatency' }, /spec\.probe\.params\.function: function is required/],
      [{ pod: 'a', probe: 'execs', duration: '2h' }, /duration must be between 1s and 1h/],
      [{ pod: 'a', probe: 'execs', duration: 'soon' }, /duration must look like 30s/],
      [{ pod: 'a', probe: 'interrupts' }, /node-wide and needs a node target/],
      [{ pod: 'a', probe: 'nosuch' }, /unknown probe "nosuch"/],
      [{ pod: 'a', probe: 'bpftrace' }, /needs --program-file/],
      [{ pod: 'a', probe: 'execs', program: 'x' }, /--program-file is only for/],
      [{ selector: ',', probe: 'execs' }, /--selector must have at least one key=value/],
      [{ pod: 'Not A Pod', probe: 'execs' }, /pod name must be a DNS-1123 subdomain/],
    ];
    for (const [flags, re] of cases) {
      const r = buildTraceJob('ok', 'shop', flags);
      assert.equal(r.ok, false, JSON.stringify(flags));
      assert.match(r.ok ? '' : r.errors.join('\n'), re, JSON.stringify(flags));
    }
  });
});
