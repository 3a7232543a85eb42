// `kubectl tracejob run` flags → a TraceJob object, validated locally with the
// same code the operator runs (the zod API schema, the catalog's per-probe
// params, probe scope) so a bad flag exits 2 before anything is created.
import { API_VERSION, KIND, type TraceJob, type TraceJobSpecInput } from '../api/tracejob.js';
import { isCustomProbe, PROBE_TYPES } from '../api/probe-names.js';
import { parseDuration } from '../api/duration.js';
import { validateSpec } from '../controller/validate.js';
import { checkParams, parseParams, splitKeyValue } from './probes.js';

export interface RunFlags {
  pod?: string;
  selector?: string;
  node?: string;
  container?: string;
  targetNamespace?: string;
  probe?: string;
  duration?: string;
  param?: string[];
  /** Contents of --program-file. */
  program?: string;
  backend?: string;
  topN?: number;
  maxEvents?: number;
  ttl?: number;
}

export type BuildResult = { ok: true; traceJob: TraceJob; durationMs: number } | { ok: false; errors: string[] };

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `a=b,c=d` → { a: 'b', c: 'd' }. */
export function parseSelector(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [k, v] = splitKeyValue(part, '--selector');
    out[k] = v.trim();
  }
  if (Object.keys(out).length === 0) throw new Error('--selector must have at least one key=value');
  return out;
}

/** Builds and validates the TraceJob; every problem found is listed, none is thrown. */
export function buildTraceJob(name: string, namespace: string, f: RunFlags): BuildResult {
  const errors: string[] = [];
  if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) errors.push(`NAME "${name}" must be a DNS-1123 subdomain (lowercase alphanumerics, '-' and '.')`);
  const targets = [f.pod, f.selector, f.node].filter((t) => t !== undefined).length;
  if (targets !== 1) errors.push('exactly one of --pod, --selector or --node is required');
  if (f.node !== undefined && (f.container !== undefined || f.targetNamespace !== undefined)) errors.push('--container and --target-namespace do not apply to --node');
  const probe = f.probe ?? (f.program !== undefined ? 'bpftrace' : undefined);
  if (probe === undefined) errors.push('--probe is required (see `kubectl tracejob probes`)');
  else if (!(PROBE_TYPES as readonly string[]).includes(probe)) errors.push(`unknown probe "${probe}" (see \`kubectl tracejob probes\`)`);
  if (probe !== undefined && isCustomProbe(probe) && f.program === undefined) errors.push(`--probe ${probe} needs --program-file`);
  if (probe !== undefined && !isCustomProbe(probe) && f.program !== undefined) errors.push('--program-file is only for --probe bpftrace or systemtap');

  let selector: Record<string, string> | undefined;
  if (f.selector !== undefined) {
    try {
      selector = parseSelector(f.selector);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  let params: Record<string, unknown> = {};
  try {
    params = probe !== undefined ? parseParams(probe, f.param ?? []) : {};
  } catch (e) {
    errors.push((e as Error).message);
  }
  if (probe !== undefined && isCustomProbe(probe) && Object.keys(params).length > 0) errors.push('--param does not apply to custom programs');
  if (errors.length > 0) return { ok: false, errors };

  const spec: TraceJobSpecInput = {
    target: f.pod !== undefined
      ? { pod: { name: f.pod, ...(f.targetNamespace ? { namespace: f.targetNamespace } : {}), ...(f.container ? { container: f.container } : {}) } }
      : f.selector !== undefined
        ? { selector: { matchLabels: selector, ...(f.targetNamespace ? { namespace: f.targetNamespace } : {}), ...(f.container ? { container: f.container } : {}) } }
        : { node: { name: f.node as string } },
    probe: { type: probe as TraceJobSpecInput['probe']['type'], ...(Object.keys(params).length > 0 ? { params } : {}), ...(f.program !== undefined ? { program: f.program } : {}) },
    duration: f.duration ?? '30s',
  };
  if (f.backend !== undefined) spec.backend = f.backend as TraceJobSpecInput['backend'];
  if (f.topN !== undefined || f.maxEvents !== undefined) spec.output = { ...(f.topN !== undefined ? { topN: f.topN } : {}), ...(f.maxEvents !== undefined ? { maxEvents: f.maxEvents } : {}) };
  if (f.ttl !== undefined) spec.ttlSecondsAfterFinished = f.ttl;

  const v = validateSpec(spec);
  if (!v.ok) {
    // Param issues one per line (validateSpec joins them with "; ").
    const paramLines = probe !== undefined && !isCustomProbe(probe) ? checkParams(probe, params) : [];
    return { ok: false, errors: paramLines.length > 0 ? paramLines : v.message.split('; ') };
  }
  const traceJob: TraceJob = {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace, uid: '' },
    spec,
  };
  return { ok: true, traceJob, durationMs: parseDuration(String(spec.duration)) ?? 30_000 };
}

/** The object to send (no empty uid). */
export function toManifest(tj: TraceJob): Record<string, unknown> {
  const { uid: _uid, ...metadata } = tj.metadata;
  return { apiVersion: tj.apiVersion, kind: tj.kind, metadata, spec: tj.spec };
}
