// dnsLatency — getaddrinfo/gethostbyname latency (gethostlatency) via uprobes
// on the target's own libc, reached as /proc/<main pid>/root/<libc path>.
// Go binaries using the pure-Go resolver never call libc and are invisible.
import { z } from 'zod';
import { block, defineProbe, endBlock } from './define.js';
import { absPath } from './params.js';
import { latencyHeadline, type EventSpec } from './shape.js';
import { targetFilePath } from './uprobe-path.js';

export const DNS_FUNCTIONS = ['getaddrinfo', 'gethostbyname', 'gethostbyname2'] as const;
export const DEFAULT_LIBC = '/lib/x86_64-linux-gnu/libc.so.6';

export const DNS_EVENT: EventSpec = {
  kind: 'dns',
  fields: [
    { name: 'pid', type: 'n' },
    { name: 'latencyUs', type: 'n' },
    { name: 'fn', type: 'n' },
    { name: 'ret', type: 'n' },
    { name: 'comm', type: 's' },
    { name: 'host', type: 's' },
  ],
};

const params = z
  .object({
    libc: absPath().optional().describe(`libc path inside the target (default: found by the agent, else ${DEFAULT_LIBC})`),
    functions: z
      .array(z.enum(DNS_FUNCTIONS, { error: `must be one of ${DNS_FUNCTIONS.join(', ')}` }))
      .min(1, { error: 'must list at least one function' })
      .refine((a) => new Set(a).size === a.length, { error: 'must not repeat a function' })
      .default(['getaddrinfo', 'gethostbyname', 'gethostbyname2'])
      .describe('resolver functions to time'),
  })
  .strict();

export const dnsLatency = defineProbe({
  name: 'dnsLatency',
  summary: 'Name-resolution latency (µs) of libc getaddrinfo/gethostbyname* in the target: histogram, per-host stats, failures, events.',
  covers: 'gethostlatency (bcc/bpftrace)',
  scope: 'both',
  params,
  hooks: ['uprobe:<libc>:getaddrinfo', 'uretprobe:<libc>:getaddrinfo', 'uprobe/uretprobe:<libc>:gethostbyname, gethostbyname2'],
  unsupported: (caps) => (caps.uprobes ? undefined : 'uprobes'),
  render: (k) => {
    const lib = targetFilePath(k.ctx as never, k.ctx.params.libc ?? k.ctx.libcPath ?? DEFAULT_LIBC, 'params.libc');
    const fns = k.ctx.params.functions;
    return [
      ...fns.map((f, i) =>
        block(`uprobe:"${lib}":${f}`, k.target, ['  @start[tid] = nsecs;', '  @host[tid] = arg0;', `  @fn[tid] = ${i};`]),
      ),
      ...fns.map((f, i) =>
        block(`uretprobe:"${lib}":${f}`, `@start[tid] && @fn[tid] == ${i}`, [
          '  $us = (nsecs - @start[tid]) / 1000;',
          '  $host = str(@host[tid]);',
          '  @count = count();',
          '  @latency_us = hist($us);',
          '  @by_host[$host] = stats($us);',
          // getaddrinfo returns 0 on success; gethostbyname* return NULL on failure.
          f === 'getaddrinfo' ? '  if ((int32)retval != 0) { @failed = count(); }' : '  if (retval == 0) { @failed = count(); }',
          ...k.emit(DNS_EVENT, ['pid', '$us', String(i), '(int32)retval', 'comm', '$host']),
          '  delete(@start[tid]);',
          '  delete(@host[tid]);',
          '  delete(@fn[tid]);',
        ]),
      ),
      endBlock(['@start', '@host', '@fn']),
    ];
  },
  shape: {
    counters: [
      { map: '@count', name: 'lookups' },
      { map: '@failed', name: 'failed' },
    ],
    histograms: [{ map: '@latency_us', name: 'dns latency', unit: 'us' }],
    tables: [{ map: '@by_host', name: 'by host', keyColumns: ['host'], value: { kind: 'stats', unit: 'us' }, sortBy: 'total_us' }],
    events: [DNS_EVENT],
    headline: (r) => latencyHeadline(r, 'dns latency', 'lookups') ?? 'lookups=0',
  },
  post: (r, _p, ctx) => {
    for (const e of r.events) e['fn'] = ctx.params.functions[Number(e['fn'])] ?? String(e['fn']);
  },
  notes: () => ['only libc resolvers are seen; Go programs using the pure-Go resolver and static binaries with their own libc are invisible'],
});
