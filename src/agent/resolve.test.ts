import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { ResolvedTarget } from './protocol.js';
import {
  cgroupDir,
  cgroupMentions,
  chooseFilter,
  chooseMainPid,
  findCgroupDirsById,
  findLibc,
  libcCandidates,
  parseStatPpid,
  parseStatState,
  parseContainerId,
  parseNsLink,
  parseProcCgroup,
  pidsOfContainer,
  resolveTarget,
} from './resolve.js';

const fixture = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const ID = '3b8f0c2d9e1a4f5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b';

describe('parseContainerId', () => {
  const ok: Array<[string, string]> = [
    [`containerd://${ID}`, 'containerd'],
    [`cri-o://${ID}`, 'cri-o'],
    [`docker://${ID}`, 'docker'],
    [ID, 'unknown'],
    [`containerd://${ID.toUpperCase()}`, 'containerd'],
  ];
  for (const [raw, runtime] of ok) {
    it(`accepts ${raw.slice(0, 20)}…`, () => assert.deepEqual(parseContainerId(raw), { ok: true, runtime, id: ID }));
  }
  const bad = [`rkt://${ID}`, `containerd://${ID.slice(1)}`, 'containerd://', '', `containerd://${ID}0`, `containerd://../../${ID.slice(6)}`];
  for (const raw of bad) {
    it(`rejects ${JSON.stringify(raw.slice(0, 24))}`, () => assert.equal(parseContainerId(raw).ok, false));
  }
});

describe('parseProcCgroup', () => {
  it('hybrid runc (cgroupfs): unified line carries the id', () => {
    const cg = parseProcCgroup(fixture('cgroup-hybrid-runc.txt'));
    assert.equal(cg.unified, `/kubepods/besteffort/pod7f3c1a2e-1111-4c2b-9d7a-0a1b2c3d4e5f/${ID}`);
    assert.ok(cg.v1['cpu,cpuacct']?.endsWith(ID));
    assert.ok(cgroupMentions(cg, ID));
  });
  it('v2 systemd driver scope', () => {
    const cg = parseProcCgroup(fixture('cgroup-v2-systemd.txt'));
    assert.match(cg.unified ?? '', /cri-containerd-3b8f.*\.scope$/);
    assert.deepEqual(cg.v1, {});
    assert.ok(cgroupMentions(cg, ID));
  });
  it('v1-only container: unified is "/"', () => {
    const cg = parseProcCgroup(fixture('cgroup-v1-only.txt'));
    assert.equal(cg.unified, '/');
    assert.ok(cgroupMentions(cg, ID));
  });
  it('host process does not match', () => {
    const cg = parseProcCgroup(fixture('cgroup-host-process.txt'));
    assert.equal(cg.unified, '/');
    assert.ok(!cgroupMentions(cg, ID));
  });
  it('paths containing ":" survive', () => {
    assert.equal(parseProcCgroup('0::/a:b/c\n').unified, '/a:b/c');
  });
});

describe('namespaces and paths', () => {
  it('parseNsLink', () => {
    assert.equal(parseNsLink('mnt:[4026531840]'), 4026531840);
    assert.equal(parseNsLink('net:[4026532008]\n'), 4026532008);
    assert.equal(parseNsLink('pid_for_children:[4026531836]'), 4026531836);
    assert.equal(parseNsLink('garbage'), undefined);
  });
  it('cgroupDir', () => {
    assert.equal(cgroupDir('/sys/fs/cgroup/unified', '/kubepods/x'), '/sys/fs/cgroup/unified/kubepods/x');
    assert.equal(cgroupDir('/sys/fs/cgroup/', '/'), '/sys/fs/cgroup');
  });
  it('pidsOfContainer over a fake scan', () => {
    const scan = [
      { pid: 10, cgroup: parseProcCgroup(fixture('cgroup-hybrid-runc.txt')) },
      { pid: 11, cgroup: parseProcCgroup(fixture('cgroup-host-process.txt')) },
      { pid: 12, cgroup: parseProcCgroup(fixture('cgroup-v1-only.txt')) },
    ];
    assert.deepEqual(pidsOfContainer(ID, scan).map((e) => e.pid), [10, 12]);
  });
  it('resolveTarget: not found names the container id', () => {
    const r = resolveTarget(
      { pod: 'p', namespace: 'n', container: 'c', containerID: `containerd://${ID}` },
      { version: 'hybrid', unifiedRoot: '/nonexistent', v1: {} },
      { scan: [{ pid: 11, cgroup: parseProcCgroup(fixture('cgroup-host-process.txt')) }] },
    );
    assert.equal(r.ok, false);
    if (!r.ok) {
      assert.equal(r.reason, 'notFound');
      assert.match(r.error, new RegExp(ID));
    }
  });
  it('resolveTarget: invalid id', () => {
    const r = resolveTarget({ pod: 'p', namespace: 'n', container: 'c', containerID: 'containerd://xyz' }, { version: 'v2', unifiedRoot: '/', v1: {} }, { scan: [] });
    assert.equal(r.ok, false);
    if (!r.ok) assert.equal(r.reason, 'invalid');
  });
});

describe('chooseFilter', () => {
  const base: ResolvedTarget = { pod: 'p', namespace: 'n', container: 'c', containerID: `containerd://${ID}`, hostPIDs: [30, 20] };
  it('node', () => assert.deepEqual(chooseFilter([], { nodeWide: true }), { mode: 'node' }));
  it('cgroup when every target has ids', () => {
    const f = chooseFilter(
      [
        { ...base, cgroupID: '111', cgroupIDs: ['111', '112'], mntNs: 5, netNs: 6 },
        { ...base, hostPIDs: [40], cgroupID: '222', mntNs: 7, netNs: 6 },
      ],
      { nodeWide: false },
    );
    assert.deepEqual(f, { mode: 'cgroup', cgroupIds: ['111', '112', '222'], netNs: [6], pids: [20, 30, 40], mntNs: [5, 7] });
  });
  it('namespace when a cgroup id is missing (v1)', () => {
    const f = chooseFilter([{ ...base, mntNs: 5, netNs: 6 }], { nodeWide: false, hostMntNs: 1 });
    assert.deepEqual(f, { mode: 'namespace', mntNs: [5], netNs: [6], pids: [20, 30] });
  });
  it('pids when the container shares the host mount namespace', () => {
    const f = chooseFilter([{ ...base, mntNs: 1, netNs: 6 }], { nodeWide: false, hostMntNs: 1 });
    assert.deepEqual(f, { mode: 'pids', pids: [20, 30], netNs: [6], mntNs: [1] });
  });
  it('pids when namespaces are unknown', () => {
    assert.equal(chooseFilter([base], { nodeWide: false }).mode, 'pids');
  });
});

describe('resolveTarget against a fake cgroup tree', () => {
  const root = mkdtempSync(join(tmpdir(), 'tracejob-cg-'));
  const rel = `/kubepods/besteffort/podx/${ID}`;
  mkdirSync(join(root, rel), { recursive: true });
  mkdirSync(join(root, rel, 'nested'), { recursive: true });
  after(() => rmSync(root, { recursive: true, force: true }));
  const t = { pod: 'p', namespace: 'n', container: 'c', containerID: `cri-o://${ID}` };
  const layout = { version: 'v2' as const, unifiedRoot: root, v1: {} };

  it('cgroup id = inode of <root>/<path>; nested cgroups add ids', () => {
    const scan = [
      { pid: 7, cgroup: parseProcCgroup(`0::${rel}\n`) },
      { pid: 9, cgroup: parseProcCgroup(`0::${rel}/nested\n`) },
      { pid: 8, cgroup: parseProcCgroup('0::/\n') },
    ];
    const r = resolveTarget(t, layout, { scan, procRoot: '/nonexistent' });
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.deepEqual(r.target.hostPIDs, [7, 9]);
    assert.equal(r.target.cgroupPath, rel);
    assert.equal(r.target.cgroupID, String(statSync(join(root, rel), { bigint: true }).ino));
    assert.equal(r.target.cgroupIDs?.length, 2);
    assert.deepEqual(r.cgroupDirs, [join(root, rel), join(root, rel, 'nested')]);
  });

  it('paths from another cgroup namespace ("/../..") are found by name', () => {
    const scan = [{ pid: 7, cgroup: parseProcCgroup(`0::/../../${ID}\n`) }];
    const r = resolveTarget(t, layout, { scan, procRoot: '/nonexistent' });
    assert.ok(r.ok);
    if (!r.ok) return;
    assert.equal(r.target.cgroupPath, rel);
    assert.equal(r.target.cgroupID, String(statSync(join(root, rel), { bigint: true }).ino));
  });

  it('v1-only container (unified "/"): no cgroup id, so namespace/pid filters', () => {
    const scan = [{ pid: 7, cgroup: parseProcCgroup(fixture('cgroup-v1-only.txt')) }];
    const r = resolveTarget(t, layout, { scan, procRoot: '/nonexistent' });
    assert.ok(r.ok);
    if (r.ok) assert.equal(r.target.cgroupID, undefined);
  });

  it('findCgroupDirsById', () => {
    assert.deepEqual(findCgroupDirsById(root, ID), [join(root, rel)]);
    assert.deepEqual(findCgroupDirsById(root, 'f'.repeat(64)), []);
  });
});

describe('main pid, libc', () => {
  it('parseStatState', () => {
    assert.equal(parseStatState('1234 (sh) Z 42 1234 1234 0 -1'), 'Z');
    assert.equal(parseStatState('1234 (a) b) S 42'), 'S');
    assert.equal(parseStatState('x'), undefined);
  });
  it('parseStatPpid handles comm with spaces and parens', () => {
    assert.equal(parseStatPpid('1234 (my (weird) comm) S 42 1234 1234 0 -1 4194560'), 42);
    assert.equal(parseStatPpid('garbage'), undefined);
  });
  it('chooseMainPid: the process whose parent is outside the container', () => {
    const parents: Record<number, number> = { 100: 90, 120: 100, 130: 120 };
    assert.equal(chooseMainPid([130, 120, 100], (p) => parents[p]), 100);
    assert.equal(chooseMainPid([5, 3], () => undefined), 3);
    assert.equal(chooseMainPid([], () => undefined), undefined);
  });
  it('libcCandidates / findLibc', () => {
    assert.equal(libcCandidates('x86_64')[0], '/lib/x86_64-linux-gnu/libc.so.6');
    assert.ok(libcCandidates('aarch64').includes('/lib/ld-musl-aarch64.so.1'));
    assert.equal(findLibc('/nonexistent-root', 'x86_64'), undefined);
  });
});
