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
