// Builds the CustomResourceDefinition from the zod schema. Pure: the generator
// script writes its output to crds/ and the chart, and a test fails if the
// committed YAML drifts from what this returns.
import { z } from 'zod';
import { GROUP, KIND, PLURAL, SHORT_NAMES, SINGULAR, TraceJobSpec, TraceJobStatus, VERSION } from './tracejob.js';

type JsonSchema = { [key: string]: unknown };

const SAFE_INT = 9007199254740991;

/** Turns zod's OpenAPI output into a Kubernetes structural schema. */
export function toStructural(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toStructural);
  if (node === null || typeof node !== 'object') return node;
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node as JsonSchema)) {
    if (key === '$schema' || key === 'id') continue;
    // Kubernetes prunes unknown fields itself; additionalProperties:false is not allowed.
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'propertyNames') continue;
    // zod's safe-integer bounds are noise in the CRD.
    if ((key === 'minimum' && value === -SAFE_INT) || (key === 'maximum' && value === SAFE_INT)) continue;
    out[key] = toStructural(value);
  }
  if (out['x-kubernetes-preserve-unknown-fields'] === true) {
    // An empty additionalProperties next to preserve-unknown-fields is redundant and non-structural.
    const ap = out['additionalProperties'];
    if (ap && typeof ap === 'object' && Object.keys(ap).length === 0) delete out['additionalProperties'];
    if (out['type'] === undefined) out['type'] = 'object';
  }
  return out;
}

function schemaOf(s: z.ZodType): JsonSchema {
  return toStructural(z.toJSONSchema(s, { target: 'openapi-3.0', io: 'input', unrepresentable: 'any' })) as JsonSchema;
}

export function buildCrd(): JsonSchema {
  const spec = schemaOf(TraceJobSpec);
  const status = schemaOf(TraceJobStatus);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${PLURAL}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'tracejob', 'app.kubernetes.io/part-of': 'tracejob' },
    },
    spec: {
      group: GROUP,
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: SINGULAR, shortNames: SHORT_NAMES, categories: ['tracing'] },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [
            { name: 'Target', type: 'string', jsonPath: '.status.target' },
            { name: 'Probe', type: 'string', jsonPath: '.spec.probe.type' },
            { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
            { name: 'Node', type: 'string', jsonPath: '.status.node' },
            { name: 'Result', type: 'string', jsonPath: '.status.summary.headline' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: 'TraceJob runs one kernel trace (bpftrace or SystemTap) against a pod, a label selector or a node.',
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: spec,
                status: status,
              },
            },
          },
        },
      ],
    },
  };
}
