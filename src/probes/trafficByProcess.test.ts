// trafficByProcess: a recv(MSG_PEEK) is not received bytes (the data stays in the
// socket and the next read returns it again); found by the catalog-net e2e test,
// where a peeking receiver was counted twice.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPS_017, CAPS_023, FILTERS, ctxFor } from './test-support.js';
import { MSG_PEEK, trafficByProcess } from './trafficByProcess.js';

const blockOf = (program: string, attach: string): string => {
  const start = program.indexOf(`${attach}\n`);
  assert.ok(start >= 0, `${attach} in\n${program}`);
  return program.slice(start, program.indexOf('\n}\n', start));
};

describe('trafficByProcess program', () => {
  it('MSG_PEEK is 2 (<linux/socket.h>)', () => {
    assert.equal(MSG_PEEK, 2);
  });

  for (const [v, caps, a] of [['0.17', CAPS_017, 'args->'], ['0.23', CAPS_023, 'args.']] as const) {
    it(`counts received bytes only for reads that consume them [bpftrace ${v}]`, () => {
      const program = trafficByProcess.renderBpftrace(ctxFor({}, FILTERS.cgroup, caps));
      const rx = blockOf(program, 'tracepoint:sock:sock_recv_length');
      assert.match(rx.split('\n')[1] ?? '', new RegExp(`^/\\(${a.replace('.', '\\.')}ret > 0 && \\(${a.replace('.', '\\.')}flags & 2\\) == 0\\) && \\(cgroup == 1234 \\|\\| cgroup == 5678\\)/$`));
      // Sends have no peek: every accepted byte counts.
      const tx = blockOf(program, 'tracepoint:sock:sock_send_length');
      assert.equal(tx.split('\n')[1], `/${a}ret > 0 && (cgroup == 1234 || cgroup == 5678)/`);
    });
  }

  it('node mode keeps the peek filter', () => {
    const program = trafficByProcess.renderBpftrace(ctxFor({}, FILTERS.node, CAPS_017));
    assert.equal(blockOf(program, 'tracepoint:sock:sock_recv_length').split('\n')[1], '/args->ret > 0 && (args->flags & 2) == 0/');
  });
});
