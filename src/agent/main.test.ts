import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stapEnv, terminationMessage } from './main.js';
import { TERMINATION_MESSAGE_LIMIT } from './protocol.js';

describe('terminationMessage', () => {
  it('small summaries pass through', () => {
    assert.equal(terminationMessage({ reason: 'Completed', headline: 'execs=6' }), '{"reason":"Completed","headline":"execs=6"}');
  });
  it('long messages are shortened, the JSON stays valid and under the limit', () => {
    const msg = `stdin:1:1: ERROR: ${'x"é\n'.repeat(3000)}`;
    const s = terminationMessage({ reason: 'CompileError', message: msg, partial: true });
    assert.ok(Buffer.byteLength(s) < TERMINATION_MESSAGE_LIMIT);
    const parsed = JSON.parse(s) as { reason: string; message: string; partial: boolean };
    assert.equal(parsed.reason, 'CompileError');
    assert.equal(parsed.partial, true);
    assert.match(parsed.message, /^stdin:1:1: ERROR: /);
    assert.match(parsed.message, /truncated\]$/);
  });
});

describe('stapEnv', () => {
  it('fetched debuginfo first on the search path; debuginfod passed through; nothing otherwise', () => {
    assert.deepEqual(stapEnv(undefined), {});
    assert.deepEqual(stapEnv({ debugRoot: '/debuginfo/6.1.0-18-amd64/root', debuginfodUrls: 'https://d.example' }), {
      SYSTEMTAP_DEBUGINFO_PATH: '+:.debug:/debuginfo/6.1.0-18-amd64/root/usr/lib/debug:/usr/lib/debug:build',
      DEBUGINFOD_URLS: 'https://d.example',
    });
  });
});
