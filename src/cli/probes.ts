// The probe catalog as the plugin shows it (`kubectl tracejob probes`), and
// `--param k=v` parsing: values are coerced by the probe's params schema
// (numbers, booleans, comma-separated or repeated lists), then the catalog's
// own validateParams decides, so the CLI and the operator cannot disagree.
import { CATALOG_PROBES } from '../api/probe-names.js';
import { CATALOG, paramNames, validateParams, type ParamIssue } from '../probes/catalog.js';
import type { ProbeDefinition } from '../probes/types.js';
import { renderColumns } from './format.js';

export interface ParamInfo {
  name: string;
  /** "number", "boolean", "string", "string[]", "enum", "enum[]". */
  type: string;
  /** Allowed values of an enum (or of an enum list's elements). */
  values?: string[];
  default?: unknown;
  required: boolean;
  description: string;
}

export interface ProbeInfo {
  name: string;
  scope: 'pod' | 'node' | 'both';
  summary: string;
  covers: string;
  backends: string[];
  hooks: string[];
  params: ParamInfo[];
}

interface Def {
  type?: string;
  innerType?: unknown;
  defaultValue?: unknown;
  element?: unknown;
  entries?: Record<string, unknown>;
  in?: unknown;
}
const defOf = (s: unknown): Def => (s as { def?: Def }).def ?? (s as { _zod?: { def?: Def } })._zod?.def ?? {};

/** Unwraps default/optional/nullable/readonly/pipe to the schema that says what the value is. */
function core(s: unknown): { def: Def; optional: boolean; default?: unknown } {
  let cur = s;
  let optional = false;
  let dflt: unknown;
  for (let i = 0; i < 10; i++) {
    const d = defOf(cur);
    if (d.type === 'default' || d.type === 'prefault') {
      optional = true;
      if (dflt === undefined) dflt = typeof d.defaultValue === 'function' ? (d.defaultValue as () => unknown)() : d.defaultValue;
      cur = d.innerType;
    } else if (d.type === 'optional' || d.type === 'nullable' || d.type === 'readonly') {
      optional = true;
      cur = d.innerType;
    } else if (d.type === 'pipe') {
      cur = d.in;
    } else {
      return { def: d, optional, ...(dflt !== undefined ? { default: dflt } : {}) };
    }
  }
  return { def: defOf(cur), optional, ...(dflt !== undefined ? { default: dflt } : {}) };
}

function kindOf(def: Def): { type: string; values?: string[] } {
  switch (def.type) {
    case 'enum':
      return { type: 'enum', values: Object.keys(def.entries ?? {}) };
    case 'array': {
      const el = kindOf(core(def.element).def);
      return { type: `${el.type}[]`, ...(el.values ? { values: el.values } : {}) };
    }
    case 'number':
    case 'int':
      return { type: 'number' };
    case 'boolean':
    case 'string':
      return { type: def.type };
    default:
      return { type: def.type ?? 'unknown' };
  }
}

function shapeOf(d: ProbeDefinition<unknown>): Record<string, unknown> {
  return (d.params as unknown as { shape?: Record<string, unknown> }).shape ?? {};
}

export function paramInfo(d: ProbeDefinition<unknown>): ParamInfo[] {
  const shape = shapeOf(d);
  return paramNames(d).map((name) => {
    const s = shape[name];
    const c = core(s);
    const k = kindOf(c.def);
    const info: ParamInfo = { name, type: k.type, required: !c.optional, description: (s as { description?: string } | undefined)?.description ?? '' };
    if (k.values) info.values = k.values;
    if (c.default !== undefined) info.default = c.default;
    return info;
  });
}

/** Every catalog probe (not the custom bpftrace/systemtap types), in catalog order. */
export function probeCatalog(): ProbeInfo[] {
  return CATALOG_PROBES.map((name) => {
    const d = CATALOG[name] as ProbeDefinition<unknown>;
    return { name, scope: d.scope, summary: d.summary, covers: d.covers, backends: [...d.backends], hooks: [...d.hooks], params: paramInfo(d) };
  });
}

function paramText(p: ParamInfo): string {
  if (p.required) return `${p.name}=<${p.values ? p.values.join('|') : p.type}>`;
  if (p.default === undefined) return `[${p.name}]`;
  const v = Array.isArray(p.default) ? p.default.join(',') : String(p.default);
  return `${p.name}=${v}`;
}

/** The `probes` table: NAME, SCOPE, PARAMS (name=default), SUMMARY. */
export function probesTable(probes: readonly ProbeInfo[]): string {
  return renderColumns(
    ['NAME', 'SCOPE', 'PARAMS', 'SUMMARY'],
    probes.map((p) => [p.name, p.scope, p.params.length === 0 ? '-' : p.params.map(paramText).join(' '), p.summary]),
  );
}

/** Splits `k=v` (the value may contain "="). */
export function splitKeyValue(text: string, what: string): [string, string] {
  const i = text.indexOf('=');
  if (i <= 0) throw new Error(`${what} must look like key=value, got "${text}"`);
  return [text.slice(0, i).trim(), text.slice(i + 1)];
}

function coerceScalar(raw: string, type: string): unknown {
  const v = raw.trim();
  if (type === 'number') return v !== '' && Number.isFinite(Number(v)) ? Number(v) : raw;
  if (type === 'boolean') return v === 'true' ? true : v === 'false' ? false : raw;
  if (type === 'string' || type === 'enum') return raw;
  // Unknown type (or unknown param): JSON if it parses, else the string.
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return raw;
  }
}

/**
 * `--param` values → a params object for `probe`. Typed by the probe's schema:
 * `hz=99` → 99, `kernel=true` → true, `syscalls=read,write` (or repeated
 * `--param syscalls=read --param syscalls=write`, or a JSON array) → a list.
 * Unknown names are kept (as JSON if they parse) for validateParams to refuse.
 */
export function parseParams(probe: string, pairs: readonly string[]): Record<string, unknown> {
  const def = (CATALOG as Record<string, ProbeDefinition<unknown> | undefined>)[probe];
  const types = new Map((def ? paramInfo(def) : []).map((p) => [p.name, p.type]));
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const [key, raw] = splitKeyValue(pair, '--param');
    const type = types.get(key) ?? 'unknown';
    if (type.endsWith('[]')) {
      const el = type.slice(0, -2);
      const trimmed = raw.trim();
      let values: unknown[];
      if (trimmed.startsWith('[')) {
        try {
          const parsed = JSON.parse(trimmed) as unknown;
          values = Array.isArray(parsed) ? parsed : [parsed];
        } catch {
          values = [raw];
        }
      } else {
        values = trimmed === '' ? [] : trimmed.split(',').map((x) => coerceScalar(x.trim(), el));
      }
      const prev = out[key];
      out[key] = Array.isArray(prev) ? [...(prev as unknown[]), ...values] : values;
    } else {
      out[key] = coerceScalar(raw, type);
    }
  }
  return out;
}

/** validateParams with the issues as lines ("spec.probe.params.hz: hz must be <= 999"). */
export function checkParams(probe: string, params: Record<string, unknown>): string[] {
  const r = validateParams(probe, params);
  return r.ok ? [] : r.issues.map((i: ParamIssue) => `${i.path}: ${i.message}`);
}
