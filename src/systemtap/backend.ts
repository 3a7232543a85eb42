// Which engine runs a TraceJob on this node. Pure; table-tested.
//
//   bpftrace  requested, or auto when bpftrace is installed and the probe's hooks exist here
//   systemtap requested (custom `systemtap` programs always), or auto when the probe
//             cannot run on bpftrace here but has a SystemTap script and stap can run
//   otherwise Unsupported, naming the missing capability (and why stap cannot help)
import type { AgentCapabilities } from '../agent/preflight.js';
import { systemtapBlockers } from '../agent/preflight.js';
import type { ProbeDefinition } from '../probes/types.js';
import { SYSTEMTAP_NEEDS, hasSystemtapScript } from './catalog.js';

export type Requested = 'auto' | 'bpftrace' | 'systemtap';

export type BackendChoice =
  | { backend: 'bpftrace' | 'systemtap'; why: string; runtime?: 'module' | 'bpf' }
  | { unsupported: string };

export interface BackendProbe {
  /** Catalog probe type, or "bpftrace"/"systemtap" for custom programs. */
  type: string;
  /** The catalog definition (undefined for custom programs). */
  definition?: Pick<ProbeDefinition<unknown>, 'name' | 'unsupported'>;
  params: unknown;
}

const list = (xs: string[]): string => xs.join('; ');

export function chooseBackend(probe: BackendProbe, caps: AgentCapabilities, requested: Requested): BackendChoice {
  const node = `node (kernel ${caps.kernel})`;
  const bpftraceOk = caps.bpftrace !== undefined;
  const bpftraceMissing = bpftraceOk ? undefined : caps.host.bpftraceError ?? 'bpftrace is not available';

  // Custom programs name their engine.
  if (probe.type === 'systemtap') {
    if (requested === 'bpftrace') return { unsupported: 'a SystemTap program cannot run on the bpftrace backend' };
    const blockers = systemtapBlockers(caps, 'any');
    if (blockers.length > 0) return { unsupported: `SystemTap cannot run on this ${node}: ${list(blockers)}` };
    const rt = systemtapBlockers(caps, 'module').length === 0 ? 'module' : 'bpf';
    return { backend: 'systemtap', why: 'custom SystemTap program', runtime: rt };
  }
  if (probe.type === 'bpftrace') {
    if (requested === 'systemtap') return { unsupported: 'a bpftrace program cannot run on the SystemTap backend' };
    if (!bpftraceOk) return { unsupported: `bpftrace cannot run on this ${node}: ${bpftraceMissing}` };
    return { backend: 'bpftrace', why: 'custom bpftrace program' };
  }

  const def = probe.definition;
  if (!def) return { unsupported: `unknown probe type "${probe.type}"` };
  const stapScript = hasSystemtapScript(def.name);
  const stapMissing = (): string | undefined => {
    if (!stapScript) return `probe ${def.name} has no SystemTap script`;
    const blockers = systemtapBlockers(caps, 'module');
    if (blockers.length > 0) return `SystemTap cannot run on this ${node}: ${list(blockers)}`;
    const need = SYSTEMTAP_NEEDS[def.name]?.(caps, (probe.params ?? {}) as Record<string, unknown>);
    return need === undefined ? undefined : `the SystemTap script of ${def.name} needs ${need}, which this ${node} does not provide`;
  };

  if (requested === 'systemtap') {
    const m = stapMissing();
    return m === undefined ? { backend: 'systemtap', why: 'requested', runtime: 'module' } : { unsupported: m };
  }
  const hookMissing = def.unsupported(caps as never, probe.params as never);
  if (requested === 'bpftrace') {
    if (!bpftraceOk) return { unsupported: `bpftrace cannot run on this ${node}: ${bpftraceMissing}` };
    if (hookMissing !== undefined) return { unsupported: `probe ${def.name} needs ${hookMissing}, which this ${node} does not provide` };
    return { backend: 'bpftrace', why: 'requested' };
  }
  // auto
  if (bpftraceOk && hookMissing === undefined) return { backend: 'bpftrace', why: `auto: the hooks of ${def.name} exist on this node` };
  const m = stapMissing();
  if (m === undefined) {
    const reason = bpftraceOk ? `bpftrace lacks ${hookMissing ?? '?'}` : 'bpftrace is not available';
    return { backend: 'systemtap', why: `auto: ${reason}; SystemTap can run the probe here`, runtime: 'module' };
  }
  const first = bpftraceOk ? `probe ${def.name} needs ${hookMissing ?? '?'}, which this ${node} does not provide` : `bpftrace cannot run: ${bpftraceMissing}`;
  return { unsupported: `${first}; SystemTap fallback impossible: ${m}` };
}
