// Operator side of SystemTap guru mode: the agent gets `guruAllowed: true` only for a
// custom SystemTap program that asks for it (params.guru === true) from a namespace in
// policy.systemtapGuruNamespaces ("*" = all). checkSpecPolicy (src/controller/policy.ts)
// already rejects params.guru from other namespaces with PolicyDenied; this is the
// positive grant the agent requires before it passes `-g` to stap.
import type { TraceJobSpec } from '../api/tracejob.js';
import type { OperatorConfig } from '../controller/config.js';
import type { PolicyDecision } from '../controller/policy.js';
import { findUnsafeStap, unsafeStapMessage } from './safety.js';

export function guruAllowedFor(namespace: string, spec: Pick<TraceJobSpec, 'probe'>, policy: Pick<OperatorConfig['policy'], 'systemtapGuruNamespaces'>): boolean {
  if (spec.probe.type !== 'systemtap') return false;
  if (spec.probe.params?.['guru'] !== true) return false;
  const list = policy.systemtapGuruNamespaces;
  return list.includes('*') || list.includes(namespace);
}

/**
 * A custom SystemTap program that would act on the node (system(), writes, guru-only
 * constructs: findUnsafeStap) is refused at acceptance unless this run is a guru run,
 * so no node job ever exists for it. The agent checks again before it runs stap.
 */
export function checkCustomStapSafety(namespace: string, spec: Pick<TraceJobSpec, 'probe'>, policy: Pick<OperatorConfig['policy'], 'systemtapGuruNamespaces'>): PolicyDecision {
  if (spec.probe.type !== 'systemtap' || typeof spec.probe.program !== 'string') return { allowed: true };
  if (guruAllowedFor(namespace, spec, policy)) return { allowed: true };
  const finding = findUnsafeStap(spec.probe.program);
  return finding ? { allowed: false, message: unsafeStapMessage(finding, namespace) } : { allowed: true };
}
