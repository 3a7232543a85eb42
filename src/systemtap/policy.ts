// Operator side of SystemTap guru mode: the agent gets `guruAllowed: true` only for a
// custom SystemTap program that asks for it (params.guru === true) from a namespace in
// policy.systemtapGuruNamespaces ("*" = all). checkSpecPolicy (src/controller/policy.ts)
// already rejects params.guru from other namespaces with PolicyDenied; this is the
// positive grant the agent requires before it passes `-g` to stap.
import type { TraceJobSpec } from '../api/tracejob.js';
import type { OperatorConfig } from '../controller/config.js';

export function guruAllowedFor(namespace: string, spec: Pick<TraceJobSpec, 'probe'>, policy: Pick<OperatorConfig['policy'], 'systemtapGuruNamespaces'>): boolean {
  if (spec.probe.type !== 'systemtap') return false;
  if (spec.probe.params?.['guru'] !== true) return false;
  const list = policy.systemtapGuruNamespaces;
  return list.includes('*') || list.includes(namespace);
}
