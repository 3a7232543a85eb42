import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { TraceJob, TraceJobStatus } from '../api/tracejob.js';
import {
  ageOf,
  clip,
  describeTraceJob,
  eventsTable,
  formatAge,
  formatShortDuration,
  progressBar,
  progressKey,
  progressLine,
  progressState,
  renderColumns,
  summaryOf,
  targetOf,
  traceJobTable,
} from './format.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (ms: number): string => new Date(T0 + ms).toISOString();
const cond = (type: string, status: 'True' | 'False' | 'Unknown' = 'True', reason = type, message = '') => ({ type, status, reason, message, lastTransitionTime: iso(0) });

function tj(status: TraceJobStatus | undefined, generation = 1, extra: Partial<TraceJob['spec']> = {}): TraceJob {
  return {
    apiVersion: 'tracing.tracejob.dev/v1alpha1',
    kind: 'TraceJob',
    metadata: { name: 'web', namespace: 'shop', uid: 'u1', generation, creationTimestamp: iso(0) },
    spec: { target: { pod: { name: 'checkout', container: 'app' } }, probe: { type: 'execs' }, duration: '20s', ...extra },
    ...(status ? { status } : {}),
  };
}

const running = (attachedAt: number): TraceJobStatus => ({
  phase: 'Running',
  observedGeneration: 1,
  conditions: [cond('Accepted'), cond('TargetResolved'), cond('NodeJobCreated'), cond('Attached')],
  timing: { accepted: iso(0), nodeJobCreated: iso(500), attached: iso(attachedAt) },
});

describe('durations and ages', () => {
  test('formatShortDuration', () => {
    assert.equal(formatShortDuration(-5), '0ms');
    assert.equal(formatShortDuration(850), '850ms');
    assert.equal(formatShortDuration(12_400), '12s');
    assert.equal(formatShortDuration(65_000), '1m05s');
    assert.equal(formatShortDuration(3_720_000), '1h02m');
  });
  test('formatAge follows kubectl', () => {
    assert.equal(formatAge(45_000), '45s');
    assert.equal(formatAge(130_000), '2m10s');
    assert.equal(formatAge(180_000), '3m');
    assert.equal(formatAge(37 * 60_000), '37m');
    assert.equal(formatAge(5 * 3_600_000), '5h');
    assert.equal(formatAge(3 * 86_400_000), '3d');
    assert.equal(ageOf(undefined, T0), '<unknown>');
    assert.equal(ageOf(new Date(T0 - 5000), T0), '5s');
    assert.equal(ageOf('not a date', T0), '<unknown>');
  });
});

describe('progress', () => {
  test('bar is clamped and has a fixed width', () => {
    assert.equal(progressBar(0, 10), '[..........]');
    assert.equal(progressBar(0.5, 10), '[#####.....]');
    assert.equal(progressBar(7, 10), '[##########]');
    assert.equal(progressBar(Number.NaN, 4), '[....]');
  });

  test('no status yet: waiting for the operator, elapsed time shown', () => {
    const line = progressLine(tj(undefined), 20_000, T0 + 2000, { waitStartedMs: T0, barWidth: 10 });
    assert.equal(line, 'Pending    0/4 waiting         [..........]   0%  waiting for the operator  (2s)');
  });

  test('accepted, then node job created: what it waits for', () => {
    const pending = tj({ phase: 'Pending', observedGeneration: 1, conditions: [cond('Accepted')], timing: { accepted: iso(0) } });
    assert.match(progressLine(pending, 20_000, T0 + 100), /^Pending {4}1\/4 Accepted .*resolving the target$/);
    const created = tj({ phase: 'Running', observedGeneration: 1, conditions: [cond('Accepted'), cond('TargetResolved'), cond('NodeJobCreated'), cond('Attached', 'Unknown', 'Waiting')] });
    assert.match(progressLine(created, 20_000, T0 + 100), /3\/4 NodeJobCreated .*0% {2}waiting for the tracer to attach$/);
  });

  test('attached: bar, percent and remaining time from timing.attached + duration', () => {
    const x = tj(running(1000));
    const st = progressState(x, 20_000, T0 + 6000);
    assert.equal(st.fraction, 0.25);
    assert.equal(st.remainingMs, 15_000);
    assert.deepEqual(st.reached, ['Accepted', 'TargetResolved', 'NodeJobCreated', 'Attached']);
    assert.equal(progressLine(x, 20_000, T0 + 6000, { barWidth: 8 }), 'Running    4/4 Attached        [##......]  25%  15s left');
  });

  test('past the duration: collecting results', () => {
    const line = progressLine(tj(running(0)), 20_000, T0 + 25_000, { barWidth: 8 });
    assert.equal(line, 'Running    4/4 Attached        [########] 100%  collecting results');
  });

  test('succeeded and failed lines', () => {
    const ok = tj({ ...running(0), phase: 'Succeeded', timing: { accepted: iso(0), attached: iso(1000), finished: iso(24_500) } });
    assert.match(progressLine(ok, 20_000, T0 + 30_000, { barWidth: 4 }), /^Succeeded {2}4\/4 Attached +\[####\] 100% {2}done in 24s$/);
    const failed = tj({ phase: 'Failed', observedGeneration: 1, message: 'pod shop/checkout not found', conditions: [cond('Accepted'), cond('Failed', 'True', 'PodNotFound', 'pod shop/checkout not found')] });
    assert.equal(progressLine(failed, 20_000, T0), 'Failed     1/4 Accepted        PodNotFound: pod shop/checkout not found');
  });

  test('a status of an older generation does not count as progress', () => {
    const stale = tj({ ...running(0), phase: 'Succeeded' }, 2);
    const st = progressState(stale, 20_000, T0 + 1000);
    assert.equal(st.phase, 'Pending');
    assert.equal(st.terminal, false);
    assert.match(progressLine(stale, 20_000, T0 + 1000), /waiting for the operator/);
  });

  test('progressKey changes on phase/condition changes and when collection starts, not every tick', () => {
    const x = tj(running(0));
    assert.equal(progressKey(x, 20_000, T0 + 1000), progressKey(x, 20_000, T0 + 2000));
    assert.notEqual(progressKey(x, 20_000, T0 + 1000), progressKey(x, 20_000, T0 + 21_000));
    assert.notEqual(progressKey(tj(undefined), 20_000, T0), progressKey(x, 20_000, T0));
  });
});

describe('tables', () => {
  test('renderColumns aligns with three spaces and trims trailing blanks', () => {
    assert.equal(renderColumns(['A', 'LONGER', 'C'], [['xx', 'y', ''], ['x', 'yyyyyyy', 'zz']]), 'A    LONGER    C\nxx   y\nx    yyyyyyy   zz\n');
  });

  test('clip', () => {
    assert.equal(clip('abcdef', 10), 'abcdef');
    assert.equal(clip('abcdefghijkl', 8), 'abcde...');
  });

  test('targetOf covers pod, selector and node targets', () => {
    assert.equal(targetOf({ target: { pod: { name: 'a', container: 'c' } } }), 'pod/a:c');
    assert.equal(targetOf({ target: { pod: { name: 'a', namespace: 'other' } } }), 'pod/other/a');
    assert.equal(targetOf({ target: { selector: { matchLabels: { app: 'web', tier: 'fe' } } } }), 'selector/app=web,tier=fe');
    assert.equal(targetOf({ target: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['a', 'b'] }] } } }), 'selector/app In (a,b)');
    assert.equal(targetOf({ target: { node: { name: 'n1' } } }), 'node/n1');
    assert.equal(targetOf(undefined), '<none>');
  });

  test('summaryOf: headline, or reason and message of a failure', () => {
    assert.equal(summaryOf({ phase: 'Succeeded', summary: { headline: 'execs=7' } }), 'execs=7');
    assert.equal(summaryOf({ phase: 'Failed', message: 'nope', conditions: [cond('Failed', 'True', 'Invalid')] }), 'Invalid: nope');
    assert.equal(summaryOf(undefined), '');
  });

  test('get table, plain, all namespaces and wide', () => {
    const a = tj({ ...running(0), phase: 'Succeeded', summary: { headline: 'execs=7' }, node: 'n1', target: 'pod/checkout' });
    const plain = traceJobTable([a], { nowMs: T0 + 65_000 });
    assert.equal(plain, 'NAME   PROBE   TARGET         PHASE       SUMMARY   AGE\nweb    execs   pod/checkout   Succeeded   execs=7   65s\n');
    const all = traceJobTable([a], { nowMs: T0 + 65_000, allNamespaces: true, wide: true });
    const [head, row] = all.split('\n');
    assert.match(head ?? '', /^NAMESPACE\s+NAME\s+PROBE\s+TARGET\s+PHASE\s+SUMMARY\s+AGE\s+NODE\s+DURATION\s+REASON\s+MESSAGE$/);
    assert.match(row ?? '', /^shop\s+web\s+execs\s+pod\/checkout\s+Succeeded\s+execs=7\s+65s\s+n1\s+20s$/);
    const pending = traceJobTable([tj(undefined)], { nowMs: T0 });
    assert.match(pending, /web\s+execs\s+pod\/checkout:app\s+Pending\s+0s/);
  });

  test('events table', () => {
    assert.equal(eventsTable([], T0), '<none>\n');
    const t = eventsTable([{ type: 'Normal', reason: 'Accepted', message: 'ok', last: iso(-3000), count: 2 }], T0);
    assert.equal(t, 'LAST SEEN   TYPE     REASON     MESSAGE\n3s          Normal   Accepted   ok (x2)\n');
  });

  test('describe shows timing offsets, a conditions table, targets, result and events', () => {
    const status: TraceJobStatus = {
      ...running(1500),
      phase: 'Succeeded',
      message: 'execs=7',
      summary: { headline: 'execs=7' },
      node: 'n1',
      tracer: { name: 'bpftrace', version: '0.23.2', kernel: '6.1.0' },
      timing: { accepted: iso(0), nodeJobCreated: iso(500), attached: iso(1500), finished: iso(22_000) },
      targets: [{ pod: 'checkout', namespace: 'shop', container: 'app', node: 'n1', hostPIDs: [10, 11], cgroupID: '1234' }],
      resultRef: { configMap: 'web-result', keys: ['result.json', 'report.txt'] },
    };
    const text = describeTraceJob(tj(status, 1, { probe: { type: 'cpuProfile', params: { hz: 99 } } }), [{ type: 'Normal', reason: 'Succeeded', message: 'Trace finished: execs=7', last: iso(22_000) }], T0 + 30_000);
    assert.match(text, /^Name: {15}web$/m);
    assert.match(text, /^Params: {13}hz=99$/m);
    assert.match(text, /^Tracer: {13}bpftrace 0\.23\.2 \(kernel 6\.1\.0\)$/m);
    assert.match(text, /^ {2}Attached: {9}\S+ {2}\(\+1\.5s\)$/m);
    assert.match(text, /^ {2}Finished: {9}\S+ {2}\(\+22\.0s\)$/m);
    assert.match(text, /^ {2}TYPE +STATUS +REASON +AGE +MESSAGE$/m);
    assert.match(text, /^ {2}Attached +True +Attached +30s$/m);
    assert.match(text, /^ {2}shop\/checkout +app +n1 +10,11 +1234$/m);
    assert.match(text, /^Result: {13}configmap\/web-result \(result\.json, report\.txt\)$/m);
    assert.match(text, /^ {2}8s +Normal +Succeeded +Trace finished: execs=7$/m);
  });
});
