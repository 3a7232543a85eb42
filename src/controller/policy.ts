// Who may trace what. A privileged tracer is a security boundary: a
// namespaced user traces only pods of their own namespace (or of a namespace
// that consents by annotation); anything that sees beyond a pod needs a
// cluster-level grant in the operator's policy, which only admins configure.
import type { TraceJobSpec } from '../api/tracejob.js';
import { checkCustomStapSafety } from '../systemtap/policy.js';
import type { OperatorConfig } from './config.js';
import type { ResolvedPodTarget } from './targets.js';

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

/**
 * A pod sharing the node's network, pid or IPC namespace is not a container
 * boundary: a filter by its network namespace matches all of the node's
 * traffic, and its processes see the node's. Tracing it is a node-scope
 * decision, so it needs the same grant as a node target.
 */
export function checkHostNamespaces(namespace: string, targets: readonly ResolvedPodTarget[], policy: OperatorConfig['policy']): PolicyDecision {
  if (listed(policy.nodeTargetNamespaces, namespace)) return { allowed: true };
  const shared = targets.find((t) => (t.hostNamespaces ?? []).length > 0);
  if (!shared) return { allowed: true };
  const fields = (shared.hostNamespaces ?? []).map((f) => `spec.${f}`).join(', ');
  return {
    allowed: false,
    message: `pod ${shared.namespace}/${shared.pod} shares the node's namespaces (${fields}), so tracing it is node scope: a cluster admin must add namespace ${namespace} to policy.nodeTargetNamespaces`,
  };
}
