import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseNodeReport } from './nodes.js';

const REPORT = { node: 'n1', reportedAt: '2026-01-01T00:00:00.000Z', kernel: '6.1.0-18-amd64', btf: true, tracefs: true, kprobes: true, kfunc: false, uprobes: true, perfEvents: true, cgroupVersion: 'v2', backends: ['bpftrace'], bpftrace: '0.23.2' };

describe('parseNodeReport', () => {
  it('reads a report through the shared schema', () => {
    const r = parseNodeReport(JSON.stringify(REPORT));
    assert.equal(r?.caps.kernel, '6.1.0-18-amd64');
    assert.deepEqual(r?.caps.bpftrace, { version: '0.23.2', major: 0, minor: 23 });
  });
  it('a report with a field that does not validate is not shown (no escape sequences reach the terminal)', () => {
    for (const bad of [{ kernel: '6.1.0\u001b]0;pwned\u0007' }, { node: 'N1; rm' }, { backends: ['bpftrace', 'evil'] }, { reportedAt: 'yesterday' }]) {
      assert.equal(parseNodeReport(JSON.stringify({ ...REPORT, ...bad })), undefined, JSON.stringify(bad));
    }
    assert.equal(parseNodeReport('not json'), undefined);
  });
});
