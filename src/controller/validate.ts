// Full validation of a TraceJob spec: the zod schema (same rules as the CRD,
// for objects admitted before a CRD upgrade) plus what the CRD cannot express:
// per-probe params and probe scope.
import { TraceJobSpec } from '../api/tracejob.js';
import { formatIssues } from '../api/issues.js';
import { isCustomProbe } from '../api/probe-names.js';
import { getProbe, validateParams } from '../probes/catalog.js';

export type SpecValidation = { ok: true; spec: TraceJobSpec } | { ok: false; message: string };

export function validateSpec(raw: unknown): SpecValidation {
  const parsed = TraceJobSpec.safeParse(raw);
  if (!parsed.success) return { ok: false, message: formatIssues(parsed.error.issues) };
  const spec = parsed.data;
  if (isCustomProbe(spec.probe.type)) return { ok: true, spec };
  const probe = getProbe(spec.probe.type);
  if (!probe) return { ok: false, message: `spec.probe.type: unknown probe ${spec.probe.type}` };
  const params = validateParams(spec.probe.type, spec.probe.params ?? {});
  if (!params.ok) return { ok: false, message: params.issues.map((i: { path: string; message: string }) => `${i.path}: ${i.message}`).join('; ') };
  if (probe.scope === 'node' && !spec.target.node) {
    return { ok: false, message: `spec.target: probe ${probe.name} is node-wide and needs a node target` };
  }
  if (probe.scope === 'pod' && spec.target.node) {
    return { ok: false, message: `spec.target: probe ${probe.name} traces pods and needs a pod or selector target` };
  }
  return { ok: true, spec };
}
