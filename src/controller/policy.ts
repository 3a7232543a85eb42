// Who may trace what. A privileged tracer is a security boundary: a
// namespaced user traces only pods of their own namespace (or of a namespace
// that consents by annotation); anything that sees beyond a pod needs a
// cluster-level grant in the operator's policy, which only admins configure.
import type { TraceJobSpec } from '../api/tracejob.js';
import { checkCustomStapSafety } from '../systemtap/policy.js';
import type { OperatorConfig } from './config.js';

export type PolicyDecision = { allowed: true } | { allowed: false; message: string };

function listed(list: readonly string[], namespace: string): boolean {
  return list.includes('*') || list.includes(namespace);
}

/** Checks what can be decided from the spec alone (no target namespace yet). */
export function checkSpecPolicy(namespace: string, spec: TraceJobSpec, policy: OperatorConfig['policy']): PolicyDecision {
  if (spec.target.node && !listed(policy.nodeTargetNamespaces, namespace)) {
    return {
      allowed: false,
      message: `node targets are not allowed for namespace ${namespace}: a cluster admin must add it to policy.nodeTargetNamespaces`,
    };
  }
  const custom = spec.probe.type === 'bpftrace' || spec.probe.type === 'systemtap';
  if (custom && !listed(policy.customProgramNamespaces, namespace)) {
    return {
      allowed: false,
      message: `custom ${spec.probe.type} programs are not allowed for namespace ${namespace}: a cluster admin must add it to policy.customProgramNamespaces`,
    };
  }
  if (spec.probe.params?.['guru'] === true && !listed(policy.systemtapGuruNamespaces, namespace)) {
    return {
      allowed: false,
      message: `SystemTap guru mode is not allowed for namespace ${namespace}: a cluster admin must add it to policy.systemtapGuruNamespaces`,
    };
  }
  // customProgramNamespaces grants reading the node, not acting on it.
  const stap = checkCustomStapSafety(namespace, spec, policy);
  if (!stap.allowed) return stap;
  return { allowed: true };
}

/**
 * A TraceJob may target pods of another namespace only when that namespace
 * carries the consent annotation naming the TraceJob's namespace ("a,b" or "*").
 */
export function checkNamespaceConsent(
  traceJobNamespace: string,
  targetNamespace: string,
  targetNamespaceAnnotations: Record<string, string> | undefined,
  consentAnnotation: string,
): PolicyDecision {
  if (traceJobNamespace === targetNamespace) return { allowed: true };
  const value = targetNamespaceAnnotations?.[consentAnnotation];
  const allowedFrom = (value ?? '').split(',').map((s) => s.trim());
  if (allowedFrom.includes(traceJobNamespace) || allowedFrom.includes('*')) return { allowed: true };
  return {
    allowed: false,
    message: `namespace ${targetNamespace} does not consent to tracing from ${traceJobNamespace}: it needs the annotation ${consentAnnotation}: ${traceJobNamespace}`,
  };
}
