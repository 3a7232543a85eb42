import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { TraceJobSpec } from './tracejob.js';
import { formatIssues } from './issues.js';
import { INVALID_CASES } from './invalid-cases.js';
import { parseDuration, formatDuration } from './duration.js';
import { generatedFiles } from '../tools/generated-files.js';

test('a minimal spec gets the documented defaults', () => {
  const spec = TraceJobSpec.parse({ target: { pod: { name: 'checkout-7d9f-abc', container: 'app' } }, probe: { type: 'tcpRetransmits' } });
  assert.equal(spec.backend, 'auto');
  assert.equal(spec.duration, '30s');
  assert.deepEqual(spec.output, { topN: 20, maxEvents: 1000 });
});

test('a custom bpftrace program is accepted with its program', () => {
  const r = TraceJobSpec.safeParse({ target: { node: { name: 'n1' } }, probe: { type: 'bpftrace', program: 'BEGIN { exit(); }' } });
  assert.ok(r.success, r.success ? '' : formatIssues(r.error.issues));
});

for (const c of INVALID_CASES.filter((c) => c.rejectedBy === 'crd')) {
  test(`schema rejects: ${c.name}`, () => {
    const r = TraceJobSpec.safeParse(c.spec);
    assert.equal(r.success, false, 'expected rejection');
    if (!r.success) {
      const message = formatIssues(r.error.issues);
      assert.ok(message.includes(c.expect), `message ${JSON.stringify(message)} should mention ${JSON.stringify(c.expect)}`);
    }
  });
}

test('at least 25 invalid cases are covered', () => {
  assert.ok(INVALID_CASES.length >= 25, `only ${INVALID_CASES.length}`);
});

test('durations parse like Go durations', () => {
  const table: Array<[string, number | undefined]> = [
    ['30s', 30_000], ['1m30s', 90_000], ['1h', 3_600_000], ['500ms', 500], ['2h', 7_200_000],
    ['0s', 0], ['-5s', undefined], ['abc', undefined], ['', undefined], ['10', undefined], ['1.5s', undefined],
  ];
  for (const [text, ms] of table) assert.equal(parseDuration(text), ms, text);
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(3_600_000), '1h');
  assert.equal(formatDuration(0), '0s');
});

test('committed generated files match the zod schema (run `npm run generate`)', () => {
  for (const [path, content] of Object.entries(generatedFiles())) {
    const onDisk = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
    assert.equal(onDisk, content, `${path} drifted from src/api; run npm run generate`);
  }
});

test('the CRD carries the CEL rules, status subresource and printer columns', () => {
  const crd = readFileSync(new URL('../../crds/tracing.tracejob.dev_tracejobs.yaml', import.meta.url), 'utf8');
  for (const needle of [
    'exactly one of target.pod',
    'probe.program is required',
    "duration(self) >= duration('1s')",
    'status: {}',
    'jsonPath: .status.summary.headline',
    '- tj',
  ]) {
    assert.ok(crd.includes(needle), `CRD lacks ${needle}`);
  }
});
