/**
 * Cost of the custom SystemTap program check the operator runs at acceptance
 * (findUnsafeStap, src/systemtap/safety.ts) on hostile 64 KiB programs — the CRD's
 * limit — built to make a naive scanner quadratic or recurse deeply.
 *
 *   node --import tsx bench/stap-safety.ts
 *
 * Prints the best of 5 runs per input in milliseconds.
 */
import { MAX_PROGRAM_BYTES } from '../src/api/tracejob.js';
import { findUnsafeStap } from '../src/systemtap/safety.js';

const cap = (s: string): string => s.slice(0, MAX_PROGRAM_BYTES);
const inputs: Record<string, string> = {
  'unclosed @cast( × 12k': cap(`probe syscall.open { ${'@cast('.repeat(12000)}`),
  'nested macro calls @m( × 20k': cap(`probe syscall.open { ${'@m('.repeat(20000)}`),
  'alias chain of 5000, defined backwards': cap(`${Array.from({ length: 5000 }, (_, i) => `probe a${5000 - i} = a${4999 - i} {}`).join('\n')}\nprobe a0 = syscall.open {}`),
  'nested foreach headers': cap(`probe syscall.open { ${'foreach ( x in y ) '.repeat(4000)}`),
  '60k open parens': cap(`probe syscall.open { ${'('.repeat(60000)}`),
  '60k open braces in a probe point': cap(`probe ${'{'.repeat(60000)}`),
  '4000 syscall probes': cap('probe syscall.x { n = 1 } '.repeat(4000)),
  '30k comments': cap('# c\n/* c */ '.repeat(6000)),
  'a realistic 2 KiB program': `global n\n${'probe syscall.openat { if (pid() > 0) n[execname(), filename]++ }\n'.repeat(25)}probe end { foreach ([c, f] in n) printf("%s %s %d\\n", c, f, n[c, f]) }`,
};
for (const [name, program] of Object.entries(inputs)) {
  let best = Infinity;
  let verdict = '';
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    verdict = findUnsafeStap(program)?.construct ?? 'allowed';
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e6);
  }
  console.log(`${name.padEnd(42)} ${String(program.length).padStart(6)} B  ${best.toFixed(1).padStart(6)} ms  ${verdict}`);
}
