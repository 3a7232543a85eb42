import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { debuginfoInitContainer, distroFamily, parseOsRelease, parseRhelRelease, resolveDebuginfo, type DebuginfoPlan } from './debuginfo.js';

const OS = {
  debian12: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\nID=debian\n',
  debian13: 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_ID="13"\nVERSION_CODENAME=trixie\nID=debian\n',
  ubuntu: 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\nVERSION_CODENAME=noble\nUBUNTU_CODENAME=noble\n',
  rhel9: 'NAME="Red Hat Enterprise Linux"\nID="rhel"\nID_LIKE="fedora"\nVERSION_ID="9.3"\nPRETTY_NAME="Red Hat Enterprise Linux 9.3 (Plow)"\n',
  rocky8: 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="8.9"\n',
  alma9: 'NAME="AlmaLinux"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n',
  centos7: 'NAME="CentOS Linux"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\n',
  fedora: 'NAME="Fedora Linux"\nID=fedora\nVERSION_ID=39\n',
  amzn2023: 'NAME="Amazon Linux"\nID="amzn"\nID_LIKE="fedora"\nVERSION_ID="2023"\n',
  amzn2: 'NAME="Amazon Linux"\nID="amzn"\nID_LIKE="centos rhel fedora"\nVERSION_ID="2"\n',
  alpine: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.0\n',
  flatcar: 'NAME="Flatcar Container Linux by Kinvolk"\nID=flatcar\nID_LIKE=coreos\nVERSION_ID=3815.2.0\n',
};

const none = { host: {} };
type Want = { kind: 'unavailable'; match: RegExp } | { kind: 'packages'; manager: string; packages: string[][]; image?: RegExp } | { kind: 'host' };

const CASES: Array<{ name: string; os: string | undefined; rel: string; host?: { vmlinux?: string; buildTree?: string }; debuginfod?: string; arch?: string; want: Want }> = [
  { name: 'this host: Debian 12 with a custom kernel → nothing matches', os: OS.debian12, rel: '6.18.44-fc-v769', want: { kind: 'unavailable', match: /6\.18\.44-fc-v769 is not a Debian GNU\/Linux 12 \(bookworm\) distribution kernel/ } },
  { name: 'Debian 12 distro kernel → -dbg first + headers', os: OS.debian12, rel: '6.1.0-18-amd64', want: { kind: 'packages', manager: 'apt', packages: [['linux-image-6.1.0-18-amd64-dbg', 'linux-image-6.1.0-18-amd64-dbgsym'], ['linux-headers-6.1.0-18-amd64']], image: /debian:bookworm/ } },
  { name: 'Debian 13 → -dbgsym first', os: OS.debian13, rel: '6.12.38+deb13-amd64', want: { kind: 'packages', manager: 'apt', packages: [['linux-image-6.12.38+deb13-amd64-dbgsym', 'linux-image-6.12.38+deb13-amd64-dbg'], ['linux-headers-6.12.38+deb13-amd64']] } },
  { name: 'Debian cloud kernel', os: OS.debian12, rel: '6.1.0-25-cloud-amd64', want: { kind: 'packages', manager: 'apt', packages: [['linux-image-6.1.0-25-cloud-amd64-dbg', 'linux-image-6.1.0-25-cloud-amd64-dbgsym'], ['linux-headers-6.1.0-25-cloud-amd64']] } },
  { name: 'Ubuntu generic → unsigned dbgsym from ddebs', os: OS.ubuntu, rel: '6.8.0-45-generic', want: { kind: 'packages', manager: 'apt', packages: [['linux-image-unsigned-6.8.0-45-generic-dbgsym', 'linux-image-6.8.0-45-generic-dbgsym'], ['linux-headers-6.8.0-45-generic']], image: /ubuntu:noble/ } },
  { name: 'Ubuntu aws flavour', os: OS.ubuntu, rel: '6.8.0-1015-aws', want: { kind: 'packages', manager: 'apt', packages: [['linux-image-unsigned-6.8.0-1015-aws-dbgsym', 'linux-image-6.8.0-1015-aws-dbgsym'], ['linux-headers-6.8.0-1015-aws']] } },
  { name: 'RHEL 9 with arch suffix', os: OS.rhel9, rel: '5.14.0-362.8.1.el9_3.x86_64', want: { kind: 'packages', manager: 'dnf', packages: [['kernel-debuginfo-5.14.0-362.8.1.el9_3.x86_64'], ['kernel-debuginfo-common-x86_64-5.14.0-362.8.1.el9_3.x86_64'], ['kernel-devel-5.14.0-362.8.1.el9_3.x86_64']], image: /ubi9/ } },
  { name: 'Rocky 8', os: OS.rocky8, rel: '4.18.0-513.el8.x86_64', want: { kind: 'packages', manager: 'dnf', packages: [['kernel-debuginfo-4.18.0-513.el8.x86_64'], ['kernel-debuginfo-common-x86_64-4.18.0-513.el8.x86_64'], ['kernel-devel-4.18.0-513.el8.x86_64']], image: /rockylinux:8/ } },
  { name: 'Alma 9 without the arch suffix → node arch appended', os: OS.alma9, rel: '5.14.0-362.8.1.el9_3', arch: 'aarch64', want: { kind: 'packages', manager: 'dnf', packages: [['kernel-debuginfo-5.14.0-362.8.1.el9_3.aarch64'], ['kernel-debuginfo-common-aarch64-5.14.0-362.8.1.el9_3.aarch64'], ['kernel-devel-5.14.0-362.8.1.el9_3.aarch64']] } },
  { name: 'CentOS 7 → yum', os: OS.centos7, rel: '3.10.0-1160.el7.x86_64', want: { kind: 'packages', manager: 'yum', packages: [['kernel-debuginfo-3.10.0-1160.el7.x86_64'], ['kernel-debuginfo-common-x86_64-3.10.0-1160.el7.x86_64'], ['kernel-devel-3.10.0-1160.el7.x86_64']] } },
  { name: 'Fedora', os: OS.fedora, rel: '6.5.6-300.fc39.x86_64', want: { kind: 'packages', manager: 'dnf', packages: [['kernel-debuginfo-6.5.6-300.fc39.x86_64'], ['kernel-debuginfo-common-x86_64-6.5.6-300.fc39.x86_64'], ['kernel-devel-6.5.6-300.fc39.x86_64']], image: /fedora:39/ } },
  { name: 'Amazon Linux 2023', os: OS.amzn2023, rel: '6.1.56-82.125.amzn2023.x86_64', want: { kind: 'packages', manager: 'dnf', packages: [['kernel-debuginfo-6.1.56-82.125.amzn2023.x86_64'], ['kernel-debuginfo-common-x86_64-6.1.56-82.125.amzn2023.x86_64'], ['kernel-devel-6.1.56-82.125.amzn2023.x86_64']] } },
  { name: 'Amazon Linux 2 → yum', os: OS.amzn2, rel: '5.10.199-190.747.amzn2.x86_64', want: { kind: 'packages', manager: 'yum', packages: [['kernel-debuginfo-5.10.199-190.747.amzn2.x86_64'], ['kernel-debuginfo-common-x86_64-5.10.199-190.747.amzn2.x86_64'], ['kernel-devel-5.10.199-190.747.amzn2.x86_64']] } },
  { name: 'RHEL debug kernel variant', os: OS.rhel9, rel: '5.14.0-284.11.1.el9_2.x86_64+debug', want: { kind: 'packages', manager: 'dnf', packages: [['kernel-debug-debuginfo-5.14.0-284.11.1.el9_2.x86_64'], ['kernel-debuginfo-common-x86_64-5.14.0-284.11.1.el9_2.x86_64'], ['kernel-debug-devel-5.14.0-284.11.1.el9_2.x86_64']] } },
  { name: 'RHEL with a Debian-style release → nothing matches', os: OS.rhel9, rel: '6.1.0-18-amd64', want: { kind: 'unavailable', match: /not a Red Hat Enterprise Linux 9\.3 \(Plow\) distribution kernel/ } },
  { name: 'Ubuntu with an RHEL release → nothing matches', os: OS.ubuntu, rel: '5.14.0-362.8.1.el9_3.x86_64', want: { kind: 'unavailable', match: /dbgsym/ } },
  { name: 'unknown distro (Alpine) → nothing matches, mentions DEBUGINFOD_URLS', os: OS.alpine, rel: '6.6.14-0-lts', want: { kind: 'unavailable', match: /not RHEL-like, Debian or Ubuntu, and DEBUGINFOD_URLS is not configured/ } },
  { name: 'ID_LIKE=coreos (Flatcar) is unknown', os: OS.flatcar, rel: '6.1.73-flatcar', want: { kind: 'unavailable', match: /no debuginfo source/ } },
  { name: 'no os-release', os: undefined, rel: '6.1.0-18-amd64', want: { kind: 'unavailable', match: /no \/etc\/os-release/ } },
  { name: 'host has both → host', os: OS.debian12, rel: '6.18.44-fc-v769', host: { vmlinux: '/usr/lib/debug/boot/vmlinux-6.18.44-fc-v769', buildTree: '/lib/modules/6.18.44-fc-v769/build' }, want: { kind: 'host' } },
  { name: 'debuginfod + host headers → host (debuginfod replaces debuginfo)', os: OS.alpine, rel: '6.6.14-0-lts', host: { buildTree: '/lib/modules/6.6.14-0-lts/build' }, debuginfod: 'https://debuginfod.elfutils.org/', want: { kind: 'host' } },
  { name: 'debuginfod without headers still needs the headers package', os: OS.debian12, rel: '6.1.0-18-amd64', debuginfod: 'https://debuginfod.debian.net', want: { kind: 'packages', manager: 'apt', packages: [['linux-headers-6.1.0-18-amd64']] } },
  { name: 'debuginfod cannot replace headers on an unknown distro', os: OS.alpine, rel: '6.6.14-0-lts', debuginfod: 'https://debuginfod.elfutils.org/', want: { kind: 'unavailable', match: /headers/ } },
  { name: 'host debuginfo, headers from packages', os: OS.rhel9, rel: '5.14.0-362.8.1.el9_3.x86_64', host: { vmlinux: '/usr/lib/debug/lib/modules/5.14.0-362.8.1.el9_3.x86_64/vmlinux' }, want: { kind: 'packages', manager: 'dnf', packages: [['kernel-devel-5.14.0-362.8.1.el9_3.x86_64']] } },
  { name: 'garbage release', os: OS.debian12, rel: '../../etc', want: { kind: 'unavailable', match: /not a valid release/ } },
];

describe('resolveDebuginfo', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const plan = resolveDebuginfo({ osRelease: c.os, kernelRelease: c.rel, host: c.host ?? none.host, ...(c.debuginfod ? { debuginfodUrls: c.debuginfod } : {}), ...(c.arch ? { arch: c.arch } : {}) });
      assert.equal(plan.kind, c.want.kind, JSON.stringify(plan));
      if (c.want.kind === 'unavailable' && plan.kind === 'unavailable') {
        assert.equal(plan.reason, 'DebuginfoUnavailable');
        assert.match(plan.message, c.want.match);
      }
      if (c.want.kind === 'packages' && plan.kind === 'packages') {
        assert.equal(plan.manager, c.want.manager);
        assert.deepEqual(plan.packages.map((p) => p.candidates), c.want.packages);
        if (c.want.image) assert.match(plan.image, c.want.image);
      }
    });
  }
});

describe('os-release and release parsing', () => {
  it('parses quotes and ID_LIKE', () => {
    const os = parseOsRelease(OS.rocky8);
    assert.equal(os.id, 'rocky');
    assert.deepEqual(os.idLike, ['rhel', 'centos', 'fedora']);
    assert.equal(distroFamily(os), 'rhel');
    assert.equal(distroFamily(parseOsRelease(OS.ubuntu)), 'ubuntu');
    assert.equal(distroFamily(parseOsRelease(OS.alpine)), undefined);
  });
  it('RHEL release forms', () => {
    assert.deepEqual(parseRhelRelease('4.18.0-513.el8.x86_64'), { version: '4.18.0', release: '513.el8', arch: 'x86_64', dist: 'el8', variant: '' });
    assert.equal(parseRhelRelease('6.18.44-fc-v769'), undefined);
    assert.equal(parseRhelRelease('6.1.0-18-amd64'), undefined);
  });
});

describe('debuginfoInitContainer', () => {
  const plan = resolveDebuginfo({ osRelease: OS.debian12, kernelRelease: '6.1.0-18-amd64', host: {} }) as Extract<DebuginfoPlan, { kind: 'packages' }>;
  it('downloads + unpacks into the cache with a bounded timeout and a cache-hit shortcut', () => {
    const c = debuginfoInitContainer(plan, '/var/cache/tracejob/debuginfo', { timeoutSeconds: 300 });
    assert.ok(c);
    assert.equal(c.image, 'docker.io/library/debian:bookworm');
    assert.deepEqual(c.command?.slice(0, 4), ['timeout', '--kill-after=10', '300', 'sh']);
    const script = c.command?.[5] ?? '';
    assert.match(script, /\[ -f "\$D\/\.complete" \] && .*exit 0/);
    assert.match(script, /apt-get download 'linux-image-6\.1\.0-18-amd64-dbg' \|\| apt-get download 'linux-image-6\.1\.0-18-amd64-dbgsym'/);
    assert.match(script, /dpkg-deb -x/);
    assert.match(script, /DebuginfoUnavailable/);
    assert.match(script, /exit 42/);
    // A failed or killed fetch removes its half-unpacked directory from the node.
    assert.match(script, /trap '\[ -f "\$D\/\.complete" \] \|\| rm -rf "\$D"' EXIT/);
    assert.deepEqual(c.volumeMounts, [{ name: 'debuginfo-cache', mountPath: '/cache' }]);
    assert.ok(c.env?.some((e) => e.value === '/var/cache/tracejob/debuginfo/6.1.0-18-amd64'));
  });
  it('RHEL: dnf download with the debuginfo repos enabled, rpm2cpio', () => {
    const p = resolveDebuginfo({ osRelease: OS.rhel9, kernelRelease: '5.14.0-362.8.1.el9_3.x86_64', host: {} });
    const script = debuginfoInitContainer(p, '/c')?.command?.[5] ?? '';
    assert.match(script, /dnf download --enablerepo='\*debuginfo\*'/);
    assert.match(script, /rpm2cpio/);
  });
  it('nothing to fetch → no init container', () => {
    assert.equal(debuginfoInitContainer({ kind: 'unavailable', reason: 'DebuginfoUnavailable', message: 'x' }, '/c'), undefined);
    assert.equal(debuginfoInitContainer({ kind: 'host', buildTree: '/b', notes: [] }, '/c'), undefined);
  });
});

describe('poisoned os-release fields never reach the init container script', () => {
  const EVIL_CODENAMES = ['bookworm main\ndeb [trusted=yes] http://evil/ x', '$(touch /x)', "noble' ; touch /x ; '", 'noble`id`', 'trixie\r\ndeb http://evil/ y'];
  it('resolveDebuginfo: an unusable codename, id or version id is DebuginfoUnavailable naming the field', () => {
    for (const codename of EVIL_CODENAMES) {
      for (const id of ['debian', 'ubuntu']) {
        const p = resolveDebuginfo({ osRelease: undefined, os: { id, idLike: [], versionId: '13', codename }, kernelRelease: id === 'ubuntu' ? '6.8.0-45-generic' : '6.12.38+deb13-amd64', host: {} });
        assert.equal(p.kind, 'unavailable', `${id} ${JSON.stringify(codename)}`);
        assert.match(p.kind === 'unavailable' ? p.message : '', /VERSION_CODENAME .* is not valid/);
      }
    }
    const badId = resolveDebuginfo({ osRelease: undefined, os: { id: 'fedora', idLike: [], versionId: '39; touch /x' }, kernelRelease: '6.5.6-300.fc39.x86_64', host: {} });
    assert.match(badId.kind === 'unavailable' ? badId.message : '', /VERSION_ID/);
  });
  it('debuginfoInitContainer: a plan carrying such a value is refused, whoever built it', () => {
    const good = resolveDebuginfo({ osRelease: OS.ubuntu, kernelRelease: '6.8.0-45-generic', host: {} }) as Extract<DebuginfoPlan, { kind: 'packages' }>;
    assert.ok(debuginfoInitContainer(good, '/c'));
    for (const codename of EVIL_CODENAMES) {
      const repos = [`deb http://ddebs.ubuntu.com ${codename} main restricted universe multiverse`];
      assert.throws(() => debuginfoInitContainer({ ...good, repos }, '/c'), /refusing to build the debuginfo script: invalid repository/, JSON.stringify(codename));
      assert.throws(() => debuginfoInitContainer({ ...good, image: `docker.io/library/ubuntu:${codename}` }, '/c'), /invalid image/);
    }
    assert.throws(() => debuginfoInitContainer({ ...good, release: '6.8.0$(id)' }, '/c'), /invalid kernel release/);
    assert.throws(() => debuginfoInitContainer({ ...good, packages: [{ purpose: 'headers', candidates: ["linux-headers-x' ; touch /x ; '"] }] }, '/c'), /invalid package name/);
    assert.throws(() => debuginfoInitContainer({ ...good, buildTreeInCache: 'root/../../etc' }, '/c'), /invalid build tree path/);
  });
  it('the apt source lines the plans write pass the point-of-use check', () => {
    for (const os of [OS.ubuntu, OS.debian13]) {
      const p = resolveDebuginfo({ osRelease: os, kernelRelease: os === OS.ubuntu ? '6.8.0-45-generic' : '6.12.38+deb13-amd64', host: {} }) as Extract<DebuginfoPlan, { kind: 'packages' }>;
      assert.ok(p.repos.length > 0);
      const script = debuginfoInitContainer(p, '/c')?.command?.[5] ?? '';
      for (const r of p.repos) assert.ok(script.includes(`echo '${r}' >> /etc/apt/sources.list.d/tracejob-debug.list`));
    }
  });
});
