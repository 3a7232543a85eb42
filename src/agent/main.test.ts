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

describe('runAgent with debuginfo fetched for the run', () => {
  it('an unpacked build tree and debug root count as the node having them (in the report it sends)', async () => {
    const { runAgent } = await import('./main.js');
    const { CAPS_017 } = await import('../probes/test-support.js');
    const out: string[] = [];
    const config = {
      traceJob: { namespace: 'ns', name: 'tj', uid: 'u', generation: 1 },
      nodeName: 'n1',
      probe: { type: 'tcpRetransmits', params: {} },
      backend: 'systemtap',
      durationSeconds: 1,
      targets: [],
      mode: 'preflight',
      debuginfo: { buildTree: '/debuginfo/6.1.0-18-amd64/root/usr/src/linux-headers-6.1.0-18-amd64', debugRoot: '/debuginfo/6.1.0-18-amd64/root' },
    };
    const host = { cgroup: { version: 'v2' as const, unifiedRoot: '/sys/fs/cgroup', v1: {} }, modules: true, kernelBuildTree: false, canRaiseMemlock: false, bpftracePath: 'bpftrace', stap: true, kernelConfig: 'proc' as const, warnings: [] };
    const code = await runAgent({
      env: { TRACEJOB_AGENT_CONFIG: JSON.stringify(config) },
      stdout: (l) => out.push(l),
      stderr: () => undefined,
      preflight: () => ({ ...CAPS_017, host }),
      exists: (p) => p === `${config.debuginfo.buildTree}/Makefile`,
    });
    assert.equal(code, 0);
    const caps = (JSON.parse(out[0] ?? '{}') as { caps: { host: { kernelBuildTree: boolean; debuginfo: { present: boolean; debuginfod: boolean } } } }).caps;
    assert.equal(caps.host.kernelBuildTree, true);
    assert.deepEqual(caps.host.debuginfo, { present: true, debuginfod: false });
  });
});
