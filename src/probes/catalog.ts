// The probe catalog: exactly the names in src/api/probe-names.ts, each backed
// by one module. getProbe / validateParams are what the operator and agent use.
import type { z } from 'zod';
import { CATALOG_PROBES, type CatalogProbeName } from '../api/probe-names.js';
import { blockIOLatency } from './blockIOLatency.js';
import { blockIOTop } from './blockIOTop.js';
import { cpuProfile } from './cpuProfile.js';
import { dnsLatency } from './dnsLatency.js';
import { execs } from './execs.js';
import { fileOpens } from './fileOpens.js';
import { fsLatency } from './fsLatency.js';
import { funcLatency } from './funcLatency.js';
import { futexContention } from './futexContention.js';
import { interrupts } from './interrupts.js';
import { offCpu } from './offCpu.js';
import { oomKills } from './oomKills.js';
import { packetDrops } from './packetDrops.js';
import { packetSizes } from './packetSizes.js';
import { pageCache } from './pageCache.js';
import { portBinds } from './portBinds.js';
import { runqLatency } from './runqLatency.js';
import { slowFileOps } from './slowFileOps.js';
import { synBacklog } from './synBacklog.js';
import { syscallCounts } from './syscallCounts.js';
import { syscallLatency } from './syscallLatency.js';
import { tcpAccepts } from './tcpAccepts.js';
import { tcpConnectLatency } from './tcpConnectLatency.js';
import { tcpLife } from './tcpLife.js';
import { tcpRetransmits } from './tcpRetransmits.js';
import { tcpSendSizes } from './tcpSendSizes.js';
import { threadTimes } from './threadTimes.js';
import { trafficByProcess } from './trafficByProcess.js';
import type { ProbeDefinition } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const CATALOG: Record<CatalogProbeName, ProbeDefinition<any>> = {
  execs,
  fileOpens,
  syscallCounts,
  syscallLatency,
  slowFileOps,
  fsLatency,
  blockIOLatency,
  blockIOTop,
  pageCache,
  tcpRetransmits,
  tcpConnectLatency,
  tcpAccepts,
  synBacklog,
  tcpLife,
  packetSizes,
  tcpSendSizes,
  trafficByProcess,
  packetDrops,
  portBinds,
  dnsLatency,
  funcLatency,
  cpuProfile,
  threadTimes,
  offCpu,
  runqLatency,
  futexContention,
  oomKills,
  interrupts,
};

export function isCatalogProbe(name: string): name is CatalogProbeName {
  return (CATALOG_PROBES as readonly string[]).includes(name);
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export function getProbe(name: CatalogProbeName): ProbeDefinition<any>;
export function getProbe(name: string): ProbeDefinition<any> | undefined;
export function getProbe(name: string): ProbeDefinition<any> | undefined {
  return isCatalogProbe(name) ? CATALOG[name] : undefined;
}
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface ParamIssue {
  /** e.g. 'spec.probe.params.thresholdMs' */
  path: string;
  message: string;
}

export type ValidateResult<T = unknown> = { ok: true; value: T } | { ok: false; issues: ParamIssue[] };

export const PARAMS_PATH = 'spec.probe.params';

function pathOf(segments: ReadonlyArray<PropertyKey>): string {
  let p = PARAMS_PATH;
  for (const s of segments) p += typeof s === 'number' ? `[${s}]` : `.${String(s)}`;
  return p;
}

/** Turns zod issues into { path: 'spec.probe.params.x', message: 'x must be <= 10' } (field named, rule stated). */
export function paramIssues(error: z.ZodError, allowed: string[]): ParamIssue[] {
  const out: ParamIssue[] = [];
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') {
      for (const key of i.keys) {
        out.push({
          path: pathOf([...i.path, key]),
          message: `unknown parameter "${key}" (allowed: ${allowed.length > 0 ? allowed.join(', ') : 'none'})`,
        });
      }
      continue;
    }
    let rule = i.message;
    if (i.code === 'invalid_type' && i.input === undefined) rule = 'is required';
    else if (i.code === 'invalid_type' && /^Invalid input/.test(i.message)) rule = `has the wrong type (expected ${String(i.expected)})`;
    const field = i.path.length > 0 ? i.path.map((s) => (typeof s === 'number' ? `[${s}]` : String(s))).join('.').replace(/\.\[/g, '[') : 'params';
    out.push({ path: pathOf(i.path), message: `${field} ${rule}` });
  }
  return out;
}

export function paramNames(def: ProbeDefinition<unknown>): string[] {
  const shape = (def.params as unknown as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : [];
}

/** Validates (and defaults) a probe's params. */
export function validateParams(name: string, params: unknown): ValidateResult {
  const def = getProbe(name);
  if (!def) {
    return { ok: false, issues: [{ path: 'spec.probe.type', message: `unknown probe "${name}" (known: ${CATALOG_PROBES.join(', ')})` }] };
  }
  if (params !== undefined && params !== null && (typeof params !== 'object' || Array.isArray(params))) {
    return { ok: false, issues: [{ path: PARAMS_PATH, message: 'params must be an object' }] };
  }
  const r = def.params.safeParse(params ?? {}, { reportInput: true });
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, issues: paramIssues(r.error, paramNames(def)) };
}
