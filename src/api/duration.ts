// Go-style durations ("30s", "1m30s", "1h", "500ms") — the same grammar the
// CRD's CEL `duration()` accepts, so the schema and the operator agree.
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';
const PART = /([0-9]+)(ms|s|m|h)/g;

export const MIN_DURATION_MS = 1000;
export const MAX_DURATION_MS = 3_600_000;

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  if (!new RegExp(DURATION_PATTERN).test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(PART)) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
  }
  return total;
}

/** Compact rendering: 90000 → "1m30s". */
export function formatDuration(ms: number): string {
  if (ms % 1000 !== 0) return `${ms}ms`;
  let s = ms / 1000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s || (!h && !m) ? `${s}s` : ''}`;
}
