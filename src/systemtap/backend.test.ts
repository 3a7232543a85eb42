import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentCapabilities, HostFacts } from '../agent/preflight.js';
import { getProbe, validateParams } from '../probes/catalog.js';
import { CAPS_017 } from '../probes/test-support.js';
import { chooseBackend, type BackendChoice, type Requested } from './backend.js';

const HOST_HERE: HostFacts = {
  cgroup: { version: 'hybrid', unifiedRoot: '/sys/fs/cgroup/unified', v1: {} },
  modules: false,
  kernelBuildTree: false,
  canRaiseMemlock: false,
  bpftracePath: 'bpftrace',
  stap: true,
  kernelConfig: 'proc',
  warnings: [],
};
const HERE: AgentCapabilities = { ...CAPS_017, kernel: '6.18.44-fc-v769', tracepoints: new Set(['tcp:tcp_retransmit_skb', 'syscalls:sys_enter_futex', 'syscalls:sys_exit_futex']), host: HOST_HERE };
const STAP_NODE: AgentCapabilities = { ...HERE, kprobes: true, host: { ...HOST_HERE, modules: true, kernelBuildTree: true } };
const NO_BPFTRACE_STAP: AgentCapabilities = { ...STAP_NODE, bpftrace: undefined as never, host: { ...STAP_NODE.host, bpftraceError: 'cannot run bpftrace' } };
delete (NO_BPFTRACE_STAP as Partial<AgentCapabilities>).bpftrace;
const NO_BTF: AgentCapabilities = { ...HERE, btf: false };
const NO_BTF_STAP: AgentCapabilities = { ...STAP_NODE, btf: false };
const STAPBPF_ONLY: AgentCapabilities = { ...HERE, host: { ...HOST_HERE, canRaiseMemlock: true } };

const probe = (type: string, params: unknown = {}) => {
  const def = getProbe(type);
  const v = def ? validateParams(type, params) : { ok: true as const, value: params };
  assert.ok(v.ok);
  return { type, ...(def ? { definition: def } : {}), params: v.value };
};

const CASES: Array<[string, ReturnType<typeof probe>, AgentCapabilities, Requested, 'bpftrace' | 'systemtap' | RegExp]> = [
  ['auto, hooks exist → bpftrace', probe('tcpRetransmits'), HERE, 'auto', 'bpftrace'],
  ['systemtap here → Unsupported naming modules, build tree, memlock', probe('tcpRetransmits'), HERE, 'systemtap', /CONFIG_MODULES off.*\/lib\/modules\/6\.18\.44-fc-v769\/build.*RLIMIT_MEMLOCK/],
  ['systemtap on a stap node → systemtap', probe('tcpRetransmits'), STAP_NODE, 'systemtap', 'systemtap'],
  ['systemtap for a probe without a script', probe('execs'), STAP_NODE, 'systemtap', /execs has no SystemTap script/],
  ['auto, bpftrace lacks BTF, stap can → systemtap', probe('tcpRetransmits'), NO_BTF_STAP, 'auto', 'systemtap'],
  ['auto, bpftrace lacks BTF, stap cannot → Unsupported naming both', probe('tcpRetransmits'), NO_BTF, 'auto', /needs btf.*SystemTap fallback impossible: SystemTap cannot run/],
  ['auto, no bpftrace binary, stap node → systemtap', probe('futexContention'), NO_BPFTRACE_STAP, 'auto', 'systemtap'],
  ['auto, vfs fsLatency without kprobes → Unsupported kprobes (both engines need them)', probe('fsLatency', { level: 'vfs' }), { ...STAP_NODE, kprobes: false }, 'auto', /needs kprobes.*script of fsLatency needs kprobes/],
  ['stapbpf-only node: catalog scripts need the module runtime', probe('syscallLatency'), STAPBPF_ONLY, 'systemtap', /CONFIG_MODULES off/],
  ['stapbpf-only node: custom stap programs may use --runtime=bpf', probe('systemtap'), STAPBPF_ONLY, 'auto', 'systemtap'],
  ['custom systemtap here → Unsupported', probe('systemtap'), HERE, 'auto', /SystemTap cannot run.*RLIMIT_MEMLOCK/],
  ['custom bpftrace → bpftrace', probe('bpftrace'), HERE, 'auto', 'bpftrace'],
  ['custom bpftrace on systemtap → Unsupported', probe('bpftrace'), STAP_NODE, 'systemtap', /bpftrace program cannot run on the SystemTap backend/],
  ['requested bpftrace with a missing hook', probe('tcpRetransmits'), NO_BTF_STAP, 'bpftrace', /needs btf/],
];

describe('chooseBackend', () => {
  for (const [name, p, caps, req, want] of CASES) {
    it(name, () => {
      const c: BackendChoice = chooseBackend(p, caps, req);
      if (typeof want === 'string') assert.equal('backend' in c ? c.backend : c.unsupported, want);
      else {
        assert.ok('unsupported' in c, JSON.stringify(c));
        assert.match(c.unsupported, want);
      }
    });
  }
  it('stapbpf-only custom program runs with --runtime=bpf', () => {
    const c = chooseBackend(probe('systemtap'), STAPBPF_ONLY, 'systemtap');
    assert.ok('backend' in c && c.runtime === 'bpf');
  });
});
