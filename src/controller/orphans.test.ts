import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { OperatorConfig } from './config.js';
import { desiredNodeJob } from './node-job.js';
import { OrphanSweeper, classifyNodeJob, confirmedOrphan, type SweptObject } from './orphans.js';

const config = OperatorConfig.parse({});
const ref = { namespace: 'shop', name: 'checkout', uid: '0f3c2a9e-1111-2222-3333-444455556666', generation: 1 };
/** The operator's own job specs: a node job and a preflight-only job. */
const nodeJob = desiredNodeJob({ traceJob: ref, node: 'n1', durationSeconds: 300, config, agentConfig: { traceJob: ref, nodeName: 'n1', probe: { type: 'execs', params: {} }, durationSeconds: 300, targets: [] } });
const preflightJob = desiredNodeJob({ traceJob: ref, node: 'n1', durationSeconds: 0, config, agentConfig: { traceJob: ref, nodeName: 'n1', probe: { type: 'execs', params: {} }, durationSeconds: 1, targets: [], mode: 'preflight' } });
const tj = (uid: string): SweptObject => ({ metadata: { name: 'checkout', uid } });

describe('classifyNodeJob', () => {
  it('a job is suspect when the cache has no TraceJob of its owner and uid', () => {
    const table: Array<[string, SweptObject, SweptObject | undefined, string]> = [
      ['its TraceJob is cached', nodeJob, tj(ref.uid), 'owned'],
      ['TraceJob gone', nodeJob, undefined, 'suspect TraceJobGone'],
      ['re-created under the same name (other uid)', nodeJob, tj('99999999-0000-0000-0000-000000000000'), 'suspect UidMismatch'],
      ['preflight job, TraceJob gone', preflightJob, undefined, 'suspect TraceJobGone'],
      ['already being deleted', { metadata: { ...nodeJob.metadata, deletionTimestamp: '2026-12-01T10:00:00Z' } }, undefined, 'deleting'],
      ['no owner annotation', { metadata: { name: 'x', labels: nodeJob.metadata?.labels ?? {} } }, undefined, 'orphan NoOwner'],
      ['no uid label', { metadata: { name: 'x', annotations: nodeJob.metadata?.annotations ?? {} } }, tj(ref.uid), 'orphan NoOwner'],
    ];
    for (const [what, job, cached, want] of table) {
      const seen: string[] = [];
      const v = classifyNodeJob(job, (ns, name) => (seen.push(`${ns}/${name}`), cached));
      const got = v.kind === 'suspect' || v.kind === 'orphan' ? `${v.kind} ${v.reason}` : v.kind;
      assert.equal(got, want, what);
      if (v.kind === 'suspect') assert.deepEqual(seen, ['shop/checkout'], `${what}: looked up by the owner annotation`);
    }
  });

  it('the live read confirms: absent or another uid', () => {
    assert.equal(confirmedOrphan(ref.uid, undefined), true);
    assert.equal(confirmedOrphan(ref.uid, tj('other')), true);
    assert.equal(confirmedOrphan(ref.uid, tj(ref.uid)), false);
  });
});

describe('OrphanSweeper', () => {
  function sweeper(jobs: SweptObject[], cached: Map<string, SweptObject>, live: Map<string, SweptObject>, failGet = false) {
    const deleted: string[] = [];
    const reasons: string[] = [];
    const gets: string[] = [];
    const s = new OrphanSweeper({
      listJobs: () => jobs,
      cachedTraceJob: (ns, name) => cached.get(`${ns}/${name}`),
      liveTraceJob: async (ns, name) => {
        gets.push(`${ns}/${name}`);
        if (failGet) throw new Error('apiserver unavailable');
        return live.get(`${ns}/${name}`);
      },
      deleteJob: async (name) => void deleted.push(name),
      log: pino({ level: 'silent' }),
      onDeleted: (r) => reasons.push(r),
    });
    return { s, deleted, reasons, gets };
  }

  it('deletes the node and preflight jobs of a TraceJob that is gone, after a live read', async () => {
    const { s, deleted, reasons, gets } = sweeper([nodeJob, preflightJob], new Map(), new Map());
    assert.deepEqual(await s.sweep(), [nodeJob.metadata?.name, preflightJob.metadata?.name]);
    assert.deepEqual(deleted, [nodeJob.metadata?.name, preflightJob.metadata?.name]);
    assert.deepEqual(reasons, ['TraceJobGone', 'TraceJobGone']);
    assert.deepEqual(gets, ['shop/checkout', 'shop/checkout']);
  });

  it('a lagging cache never kills a healthy run: the live TraceJob keeps its job', async () => {
    const { s, deleted } = sweeper([nodeJob], new Map(), new Map([['shop/checkout', tj(ref.uid)]]));
    assert.deepEqual(await s.sweep(), []);
    assert.deepEqual(deleted, []);
  });

  it('a cached owner needs no API call; a re-created TraceJob does not keep the old one\'s job', async () => {
    const owned = sweeper([nodeJob], new Map([['shop/checkout', tj(ref.uid)]]), new Map());
    assert.deepEqual(await owned.s.sweep(), []);
    assert.deepEqual(owned.gets, []);
    const other = tj('99999999-0000-0000-0000-000000000000');
    const recreated = sweeper([nodeJob], new Map([['shop/checkout', other]]), new Map([['shop/checkout', other]]));
    assert.deepEqual(await recreated.s.sweep(), [nodeJob.metadata?.name]);
    assert.deepEqual(recreated.reasons, ['UidMismatch']);
  });

  it('an API error keeps the job for the next pass and does not stop the sweep', async () => {
    const stray = { metadata: { name: 'stray', labels: { 'app.kubernetes.io/managed-by': 'tracejob-operator' } } };
    const { s, deleted } = sweeper([nodeJob, stray], new Map(), new Map(), true);
    assert.deepEqual(await s.sweep(), ['stray']);
    assert.deepEqual(deleted, ['stray']);
  });
});
