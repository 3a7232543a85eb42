import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSpecPolicy } from '../controller/policy.js';
import { OperatorConfig } from '../controller/config.js';
import { TraceJobSpec } from '../api/tracejob.js';
import { guruAllowedFor } from './policy.js';

const spec = (guru: unknown, type = 'systemtap') =>
  TraceJobSpec.parse({ target: { pod: { name: 'p' } }, probe: { type, program: 'probe begin { exit() }', params: guru === undefined ? {} : { guru } }, duration: '5s' });
const policy = (guruNs: string[]) => OperatorConfig.parse({ policy: { customProgramNamespaces: ['*'], systemtapGuruNamespaces: guruNs } }).policy;

describe('SystemTap guru policy (operator side)', () => {
  it('params.guru from a namespace not in systemtapGuruNamespaces → PolicyDenied', () => {
    const d = checkSpecPolicy('team-a', spec(true), policy([]));
    assert.equal(d.allowed, false);
    assert.match(d.allowed ? '' : d.message, /systemtapGuruNamespaces/);
    assert.equal(guruAllowedFor('team-a', spec(true), policy([])), false);
  });
  it('listed namespace (or "*") → allowed, and the agent gets guruAllowed', () => {
    assert.equal(checkSpecPolicy('chaos', spec(true), policy(['chaos'])).allowed, true);
    assert.equal(guruAllowedFor('chaos', spec(true), policy(['chaos'])), true);
    assert.equal(guruAllowedFor('any', spec(true), policy(['*'])), true);
  });
  it('no guru unless params.guru is exactly true, and only for systemtap programs', () => {
    assert.equal(guruAllowedFor('chaos', spec(undefined), policy(['chaos'])), false);
    assert.equal(guruAllowedFor('chaos', spec('true'), policy(['chaos'])), false);
    assert.equal(guruAllowedFor('chaos', spec(true, 'bpftrace'), policy(['chaos'])), false);
  });
});

describe('custom SystemTap programs that act on the node (operator side)', () => {
  const prog = (program: string, params: Record<string, unknown> = {}, type = 'systemtap') =>
    TraceJobSpec.parse({ target: { pod: { name: 'p' } }, probe: { type, program, params }, duration: '5s' });
  const customOnly = policy([]);
  const attack = 'probe begin { system("touch /proc/1/root/tmp/x") exit() }';
  it('system() with custom-program policy but no guru policy → PolicyDenied naming the field, the call and the policy key', () => {
    const d = checkSpecPolicy('team-a', prog(attack), customOnly);
    assert.equal(d.allowed, false);
    const msg = d.allowed ? '' : d.message;
    assert.match(msg, /^spec\.probe\.program line 1: system\(\) is refused without SystemTap guru mode/);
    assert.match(msg, /namespace team-a in policy\.systemtapGuruNamespaces/);
  });
  it('a syscall argument write-back is refused the same way', () => {
    const d = checkSpecPolicy('team-a', prog('probe nd_syscall.openat { filename_unquoted = "/etc/shadow" }'), customOnly);
    assert.match(d.allowed ? '' : d.message, /assignment to filename_unquoted in a syscall probe/);
  });
  it('system( only in a comment or a string is not refused', () => {
    assert.equal(checkSpecPolicy('team-a', prog('# system("x")\nprobe begin { printf("system(\\n") exit() }'), customOnly).allowed, true);
  });
  it('a guru run (params.guru and the namespace in systemtapGuruNamespaces) may call it', () => {
    assert.equal(checkSpecPolicy('chaos', prog(attack, { guru: true }), policy(['chaos'])).allowed, true);
    // Guru policy without params.guru is not a guru run: the program still runs without -g.
    assert.equal(checkSpecPolicy('chaos', prog(attack), policy(['chaos'])).allowed, false);
  });
  it('bpftrace programs are left to bpftrace safe mode (the agent never passes --unsafe)', () => {
    assert.equal(checkSpecPolicy('team-a', prog('BEGIN { system("id"); exit(); }', {}, 'bpftrace'), customOnly).allowed, true);
  });
});
