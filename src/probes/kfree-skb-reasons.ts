// Decodes skb:kfree_skb's `reason` (an enum bpftrace prints as a number) with
// the node's own table: the tracepoint format file's print fmt carries
// __print_symbolic(REC->reason, { 2, "NOT_SPECIFIED" }, { 3, "NO_SOCKET" }, ...).
// The numbering changes between kernels, so the agent reads
// /sys/kernel/tracing/events/skb/kfree_skb/format on the node and passes the
// table as RenderContext.dropReasons.

/** Pure: format-file text → reason number → name. Empty map when there is no table. */
export function parseKfreeSkbReasons(formatFileText: string): Map<number, string> {
  const out = new Map<number, string>();
  const fmt = formatFileText.split('\n').find((l) => l.startsWith('print fmt:'));
  if (!fmt) return out;
  const start = fmt.indexOf('__print_symbolic(REC->reason');
  if (start < 0) return out;
  // The symbolic table ends at the first "})" after the start.
  const rest = fmt.slice(start);
  const end = rest.indexOf('})');
  const table = end < 0 ? rest : rest.slice(0, end + 1);
  for (const m of table.matchAll(/\{\s*(-?\d+|0x[0-9a-fA-F]+)\s*,\s*"([^"]*)"\s*\}/g)) {
    const n = Number(m[1]);
    if (Number.isSafeInteger(n)) out.set(n, m[2] ?? '');
  }
  return out;
}

export function dropReasonName(reasons: ReadonlyMap<number, string> | undefined, n: number | string): string {
  const num = Number(n);
  return reasons?.get(num) ?? `reason_${String(n)}`;
}
