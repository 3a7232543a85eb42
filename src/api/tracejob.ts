// The TraceJob API, tracing.tracejob.dev/v1alpha1. This zod schema is the one
// source of truth: `npm run generate` turns it into the CRD's OpenAPI schema
// (src/api/crd.ts), and the operator validates with the very same objects, so
// what the API server admits and what the operator accepts cannot disagree.
import { z } from 'zod';
import { DURATION_PATTERN, MAX_DURATION_MS, MIN_DURATION_MS, parseDuration } from './duration.js';
import { PROBE_TYPES } from './probe-names.js';

export const GROUP = 'tracing.tracejob.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'TraceJob';
export const PLURAL = 'tracejobs';
export const SINGULAR = 'tracejob';
export const SHORT_NAMES = ['tj'];

const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
const LABEL_KEY = '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$';

const label = (what: string) =>
  z
    .string()
    .min(1)
    .max(63)
    .regex(new RegExp(DNS1123_LABEL), `${what} must be a DNS-1123 label (lowercase alphanumerics and '-')`);
const subdomain = (what: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(new RegExp(DNS1123_SUBDOMAIN), `${what} must be a DNS-1123 subdomain (lowercase alphanumerics, '-' and '.')`);

export const PodTarget = z
  .object({
    name: subdomain('pod name').describe('Name of the pod to trace.'),
    namespace: label('namespace')
      .optional()
      .describe("Pod namespace; defaults to the TraceJob's. Another namespace must consent via annotation."),
    container: label('container name').optional().describe('Container to trace; defaults to the first container.'),
  })
  .describe('Trace one pod.');

export const LabelSelectorRequirement = z.object({
  key: z.string().min(1).max(317).regex(new RegExp(LABEL_KEY), 'label key is not a valid qualified name'),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string().max(63).regex(new RegExp(LABEL_VALUE), 'label value is invalid')).max(64).optional(),
});

export const SelectorTarget = z
  .object({
    matchLabels: z
      .record(z.string(), z.string().max(63).regex(new RegExp(LABEL_VALUE), 'label value is invalid'))
      .optional()
      .meta({
        'x-kubernetes-validations': [
          { rule: 'self.all(k, k.size() <= 317)', message: 'label keys must be at most 317 characters' },
        ],
      }),
    matchExpressions: z.array(LabelSelectorRequirement).max(32).optional(),
    namespace: label('namespace').optional(),
    container: label('container name').optional(),
  })
  .describe('Trace every pod matching a label selector (fan-out: one node job per node).')
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '(has(self.matchLabels) && size(self.matchLabels) > 0) || (has(self.matchExpressions) && size(self.matchExpressions) > 0)',
        message: 'selector must have at least one matchLabels entry or matchExpressions requirement',
      },
    ],
  });

export const NodeTarget = z
  .object({ name: subdomain('node name').describe('Node to trace node-wide (policy-gated).') })
  .describe('Trace a whole node (requires cluster policy).');

export const Target = z
  .object({
    pod: PodTarget.optional(),
    selector: SelectorTarget.optional(),
    node: NodeTarget.optional(),
  })
  .describe('What to trace: exactly one of pod, selector or node.')
  .meta({
    'x-kubernetes-validations': [
      {
        rule: '[has(self.pod), has(self.selector), has(self.node)].filter(x, x).size() == 1',
        message: 'exactly one of target.pod, target.selector or target.node must be set',
      },
    ],
  });

export const MAX_PROGRAM_BYTES = 65536;

export const Probe = z
  .object({
    type: z
      .enum(PROBE_TYPES)
      .describe('A catalog probe name, or "bpftrace"/"systemtap" for a custom program (policy-gated).'),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe('Probe parameters, validated per probe type by the operator.')
      .meta({ 'x-kubernetes-preserve-unknown-fields': true }),
    program: z
      .string()
      .min(1)
      .max(MAX_PROGRAM_BYTES)
      .optional()
      .describe('The tracer program for custom probe types only.'),
  })
  .meta({
    'x-kubernetes-validations': [
      {
        rule: "!(self.type in ['bpftrace', 'systemtap']) || has(self.program)",
        message: 'probe.program is required when probe.type is bpftrace or systemtap',
      },
      {
        rule: "self.type in ['bpftrace', 'systemtap'] || !has(self.program)",
        message: 'probe.program is only allowed for custom probe types (bpftrace, systemtap)',
      },
    ],
  });

export const Output = z.object({
  configMapName: subdomain('configMapName')
    .optional()
    .describe('ConfigMap for the full result; defaults to <tracejob>-result.'),
  topN: z.number().int().min(1).max(1000).default(20).describe('Rows kept in top-N tables.'),
  maxEvents: z.number().int().min(0).max(100000).default(1000).describe('Events kept in the result.'),
});

const durationSchema = z
  .string()
  .max(32)
  .regex(new RegExp(DURATION_PATTERN), 'duration must look like 30s, 5m or 1m30s (units ms, s, m, h)')
  .refine((d) => {
    const ms = parseDuration(d);
    return ms !== undefined && ms >= MIN_DURATION_MS && ms <= MAX_DURATION_MS;
  }, 'duration must be between 1s and 1h')
  .meta({
    'x-kubernetes-validations': [
      {
        rule: "duration(self) >= duration('1s') && duration(self) <= duration('1h')",
        message: 'duration must be between 1s and 1h',
      },
    ],
  });

export const TraceJobSpec = z
  .object({
    target: Target,
    probe: Probe,
    backend: z.enum(['auto', 'bpftrace', 'systemtap']).default('auto').describe('Tracing engine.'),
    duration: durationSchema.default('30s').describe('How long to trace, 1s to 1h.'),
    output: Output.default({ topN: 20, maxEvents: 1000 }),
    ttlSecondsAfterFinished: z
      .number()
      .int()
      .min(0)
      .max(31_536_000)
      .optional()
      .describe('Delete the TraceJob this long after it finishes.'),
  })
  .superRefine((spec, ctx) => {
    // Same rule as the CRD's CEL, repeated so unit tests and the operator agree.
    const set = [spec.target.pod, spec.target.selector, spec.target.node].filter((t) => t !== undefined).length;
    if (set !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: 'exactly one of target.pod, target.selector or target.node must be set',
      });
    }
    const sel = spec.target.selector;
    if (sel && Object.keys(sel.matchLabels ?? {}).length === 0 && (sel.matchExpressions ?? []).length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['target', 'selector'],
        message: 'selector must have at least one matchLabels entry or matchExpressions requirement',
      });
    }
    const custom = spec.probe.type === 'bpftrace' || spec.probe.type === 'systemtap';
    if (custom && spec.probe.program === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['probe', 'program'],
        message: 'probe.program is required when probe.type is bpftrace or systemtap',
      });
    }
    if (!custom && spec.probe.program !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['probe', 'program'],
        message: 'probe.program is only allowed for custom probe types (bpftrace, systemtap)',
      });
    }
    if (spec.backend === 'systemtap' && spec.probe.type === 'bpftrace') {
      ctx.addIssue({ code: 'custom', path: ['backend'], message: 'a bpftrace program cannot run on the systemtap backend' });
    }
    if (spec.backend === 'bpftrace' && spec.probe.type === 'systemtap') {
      ctx.addIssue({ code: 'custom', path: ['backend'], message: 'a systemtap program cannot run on the bpftrace backend' });
    }
  });

export type TraceJobSpec = z.output<typeof TraceJobSpec>;
export type TraceJobSpecInput = z.input<typeof TraceJobSpec>;

export const PHASES = ['Pending', 'Running', 'Succeeded', 'Failed'] as const;
export type Phase = (typeof PHASES)[number];

export const Condition = z.object({
  type: z.string().max(316),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string().min(1).max(1024).regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/),
  message: z.string().max(32768).optional(),
  lastTransitionTime: z.string(),
  observedGeneration: z.number().int().min(0).optional(),
});
export type Condition = z.infer<typeof Condition>;

export const TargetStatus = z.object({
  pod: z.string().optional(),
  namespace: z.string().optional(),
  container: z.string().optional(),
  containerID: z.string().optional(),
  node: z.string().optional(),
  hostPIDs: z.array(z.number().int()).optional(),
  cgroupPath: z.string().optional(),
  cgroupID: z.string().optional().describe('cgroup v2 id (inode) as a decimal string'),
});
export type TargetStatus = z.infer<typeof TargetStatus>;

export const TraceJobStatus = z.object({
  phase: z.enum(PHASES).optional(),
  observedGeneration: z.number().int().optional(),
  conditions: z.array(Condition).optional().meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  target: z.string().optional().describe('Human-readable target, e.g. pod/checkout-7d9f.'),
  node: z.string().optional().describe('Node(s) the trace runs on.'),
  targets: z.array(TargetStatus).optional(),
  tracer: z.object({ name: z.string().optional(), version: z.string().optional(), kernel: z.string().optional() }).optional(),
  timing: z
    .object({
      accepted: z.string().optional(),
      nodeJobCreated: z.string().optional(),
      attached: z.string().optional(),
      finished: z.string().optional(),
    })
    .optional(),
  summary: z
    .object({ headline: z.string().optional() })
    .catchall(z.unknown())
    .optional()
    .meta({ 'x-kubernetes-preserve-unknown-fields': true }),
  resultRef: z.object({ configMap: z.string().optional(), keys: z.array(z.string()).optional() }).optional(),
  nodeJobs: z.array(z.object({ name: z.string(), node: z.string() })).optional(),
  message: z.string().optional(),
});
export type TraceJobStatus = z.infer<typeof TraceJobStatus>;

export interface TraceJob {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number;
    resourceVersion?: string;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: TraceJobSpecInput;
  status?: TraceJobStatus;
}
