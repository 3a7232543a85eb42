import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cleanStderr, injectAttachMarker, isAttachMarker, isCompileError, parseAttachedLine } from './run.js';

const MEMLOCK =
  'ERROR: Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem';

describe('parseAttachedLine', () => {
  const cases: Array<[string, number | null | undefined]> = [
    ['{"type": "attached_probes", "data": {"probes": 3}}', 3],
    ['{"type":"attached_probes","data":{"probes":1},"count":1}', 1],
    ['{"type":"attached_probes","count":2}', 2],
    ['{"type":"attached_probes"}', null],
    ['{"type": "map", "data": {"@attached_probes": 1}}', undefined],
    ['{"type": "printf", "data": "attached_probes"}', undefined],
    ['Attaching 1 probe...', undefined],
    ['', undefined],
    ['{"type": "attached_probes", "data": {"probes": ', undefined],
  ];
  for (const [line, want] of cases) it(JSON.stringify(line), () => assert.equal(parseAttachedLine(line), want));
});

describe('stderr classification', () => {
  const unknownFn = `${MEMLOCK}\nstdin:1:45-53: ERROR: Unknown function: nosuchfn\ntracepoint:syscalls:sys_enter_execve { @x = nosuchfn(); }\n                                            ~~~~~~~~\n`;
  const noTp = `${MEMLOCK}\n/tmp/tracejob-x/program.bt:1:1-24: ERROR: tracepoint not found: nosuch:thing\n`;
  const syntax = '/tmp/p.bt:2:3-4: ERROR: syntax error, unexpected }\n';
  it('compile errors (0.17 formats)', () => {
    assert.ok(isCompileError(unknownFn));
    assert.ok(isCompileError(noTp));
    assert.ok(isCompileError(syntax));
  });
  it('not compile errors', () => {
    assert.ok(!isCompileError(MEMLOCK));
    assert.ok(!isCompileError('ERROR: Could not resolve symbol: /proc/self/exe:BEGIN_trigger\n'));
    assert.ok(!isCompileError(''));
  });
  it('cleanStderr drops the RLIMIT_MEMLOCK noise and trims', () => {
    assert.equal(cleanStderr(noTp), '/tmp/tracejob-x/program.bt:1:1-24: ERROR: tracepoint not found: nosuch:thing');
    const long = cleanStderr(`${'é'.repeat(3000)}`, 2048);
    assert.ok(Buffer.byteLength(long) <= 2048);
    assert.match(long, /truncated\]$/);
  });
});

describe('injectAttachMarker', () => {
  const M = 'printf("__tracejob_attached__\\n");';
  it('appends a BEGIN when there is none (after #include lines)', () => {
    const r = injectAttachMarker('#include <linux/sched.h>\ntracepoint:a:b { @x = count(); }\n');
    assert.equal(r.injected, 'new');
    assert.ok(r.program.startsWith('#include <linux/sched.h>\n'));
    assert.ok(r.program.endsWith(`BEGIN { ${M} }\n`));
  });
  it('adds to an existing BEGIN (0.17 allows only one)', () => {
    const r = injectAttachMarker('// BEGIN in a comment\ntracepoint:a:b /comm == "BEGIN {"/ { @x = count(); }\nBEGIN\n{\n  @start = nsecs;\n}\n');
    assert.equal(r.injected, 'existing');
    assert.match(r.program, /BEGIN\n\{ printf\("__tracejob_attached__\\n"\);\n {2}@start = nsecs;/);
    assert.match(r.program, /comm == "BEGIN \{"/);
  });
  it('ignores BEGIN inside blocks and strings', () => {
    const r = injectAttachMarker('tracepoint:a:b { printf("BEGIN { x }"); @BEGIN = 1; }');
    assert.equal(r.injected, 'new');
  });
  it('leaves "BEGIN, interval" style lists alone', () => {
    const p = 'BEGIN, interval:s:1 { @x = count(); }';
    assert.deepEqual(injectAttachMarker(p), { program: p, injected: 'none' });
  });
  it('recognises the marker record (0.17 and 0.24+ spacing) and nothing else', () => {
    assert.ok(isAttachMarker('{"type": "printf", "data": "__tracejob_attached__\\n"}'));
    assert.ok(isAttachMarker('{"type":"printf","data":"__tracejob_attached__\\n"}'));
    assert.ok(!isAttachMarker('{"type": "printf", "data": "x __tracejob_attached__\\n"}'));
    assert.ok(!isAttachMarker('{"type": "map", "data": {"@__tracejob_attached__": 1}}'));
  });
});
