import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ARCH, KERNEL_RELEASE, NODE_NAME, OS_VERSION_ID, OS_WORD, SAFE_PATH, TOOL_VERSION, parseCapabilityReport } from './node-capabilities.js';

describe('capability report patterns', () => {
  const table: Array<[string, RegExp, string[], string[]]> = [
    [
      'kernel release',
      KERNEL_RELEASE,
      ['6.1.0-18-amd64', '5.14.0-362.8.1.el9_3.x86_64', '6.12.38+deb13-amd64', '6.18.44-fc-v769', '5.14.0-284.11.1.el9_2.x86_64+debug', 'unknown'],
      ['', '..', '-rc1', '6.1.0 x', '6.1.0\n', '6.1.0/../x', '6.1.0$(id)', '6.1.0`id`', "6.1'", 'x'.repeat(101)],
    ],
    ['os-release word', OS_WORD, ['debian', 'bookworm', 'rhel', 'opensuse-leap', 'ol', 'amzn'], ['', 'Debian', 'book worm', 'bookworm\ndeb http://evil/ x', '$(touch /x)', '-x', '.hidden', 'a/b', 'x'.repeat(41)]],
    ['os-release VERSION_ID', OS_VERSION_ID, ['12', '22.04', '9.3', '2023', '3815.2.0', 'rolling'], ['', '12 ', '12/x', '.12', '-12', '12~1', '1;id']],
    ['machine', ARCH, ['x86_64', 'aarch64', 'ppc64le'], ['', 'x86 64', 'X86_64', 'x'.repeat(21)]],
    ['tool version', TOOL_VERSION, ['0.23.2', 'v0.17.0', '0.20.0-rc1', '4.8', '0.24.1-12-gabc'], ['', 'latest', '0.23 2', '0.23;id']],
    ['path', SAFE_PATH, ['/usr/lib/debug/boot/vmlinux-6.1.0-18-amd64', '/proc/1/root/usr/lib/debug/lib/modules/5.14.0/vmlinux', '/sys/kernel/tracing'], ['', 'usr/lib', '/a/../etc', '/..', '/a b', '/a\nb', '/a$(id)']],
    ['node name', NODE_NAME, ['tracejob-node', 'ip-10-0-0-1.ec2.internal', 'n1'], ['', 'N1', 'n1;', '-n1', 'n1-']],
  ];
  for (const [what, re, good, bad] of table) {
    it(what, () => {
      for (const v of good) assert.ok(re.test(v), `${what} refuses ${JSON.stringify(v)}`);
      for (const v of bad) assert.ok(!re.test(v), `${what} accepts ${JSON.stringify(v)}`);
    });
  }
});

describe('parseCapabilityReport', () => {
  it('undefined for absent, unparseable or invalid text', () => {
    assert.equal(parseCapabilityReport(undefined), undefined);
    assert.equal(parseCapabilityReport('{'), undefined);
    assert.equal(parseCapabilityReport('{"node":"n","reportedAt":"2026-01-01T00:00:00Z"}'), undefined, 'no kernel');
    assert.equal(parseCapabilityReport('{"node":"n","reportedAt":"2026-01-01T00:00:00Z","kernel":"6.1.0","osRelease":{"id":"debian","codename":"x y"}}'), undefined);
  });
  it('unknown fields are dropped, missing facts default to "cannot"', () => {
    const r = parseCapabilityReport('{"node":"n","reportedAt":"2026-01-01T00:00:00Z","kernel":"6.1.0","extra":"$(id)"}');
    assert.ok(r);
    assert.equal((r as unknown as Record<string, unknown>)['extra'], undefined);
    assert.deepEqual([r.modules, r.stapModuleRuntime, r.lockdown, r.backends], [false, false, 'unknown', []]);
  });
});
