import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeKeyed, topN, topNMerged } from './topn.js';

test('topN: duplicates summed, sorted desc with key tie-break, capped with others', () => {
  const r = topN(
    [
      { key: ['a'], value: 5 },
      { key: ['c'], value: 10 },
      { key: ['b'], value: 10 },
      { key: ['d'], value: 1 },
      { key: ['a'], value: 2 },
    ],
    2,
  );
  assert.deepEqual(r, {
    rows: [
      { key: ['b'], value: 10 },
      { key: ['c'], value: 10 },
    ],
    others: 8,
    othersCount: 2,
    total: 28,
    totalRows: 4,
    truncated: true,
  });
});

test('topN: n <= 0 or n >= rows keeps everything', () => {
  const entries = [
    { key: ['x'], value: 1 },
    { key: ['y'], value: 3 },
  ];
  for (const n of [0, -1, 2, 10, Infinity]) {
    const r = topN(entries, n);
    assert.deepEqual(
      r.rows.map((x) => x.key[0]),
      ['y', 'x'],
      String(n),
    );
    assert.equal(r.others, 0);
    assert.equal(r.truncated, false);
  }
  assert.deepEqual(topN([], 5), { rows: [], others: 0, othersCount: 0, total: 0, totalRows: 0, truncated: false });
});

test('multi-part keys: equal only when all parts are equal; ties ordered part by part', () => {
  const r = topN(
    [
      { key: ['2', 'sh'], value: 4 },
      { key: ['1', 'sh'], value: 4 },
      { key: ['1', 'bash'], value: 4 },
      { key: ['1', 'sh'], value: 1 },
    ],
    0,
  );
  assert.deepEqual(r.rows, [
    { key: ['1', 'sh'], value: 5 },
    { key: ['1', 'bash'], value: 4 },
    { key: ['2', 'sh'], value: 4 },
  ]);
});

test('merging across sources (nodes)', () => {
  const node1 = [
    { key: ['curl'], value: 30 },
    { key: ['sh'], value: 2 },
  ];
  const node2 = [
    { key: ['sh'], value: 9 },
    { key: ['wget'], value: 1 },
  ];
  assert.deepEqual(mergeKeyed([node1, node2]), [
    { key: ['curl'], value: 30 },
    { key: ['sh'], value: 11 },
    { key: ['wget'], value: 1 },
  ]);
  const r = topNMerged([node1, node2], 1);
  assert.deepEqual([r.rows, r.others, r.othersCount, r.total], [[{ key: ['curl'], value: 30 }], 12, 2, 42]);
  // Inputs untouched.
  assert.deepEqual(node1[1], { key: ['sh'], value: 2 });
});
