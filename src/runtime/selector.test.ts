import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSelector, matchesSelector } from './selector.js';
import { objectKey, splitKey } from './store.js';

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'fe' };
  const table: Array<[string, Parameters<typeof matchesSelector>[1], boolean]> = [
    ['empty selector matches all', {}, true],
    ['matchLabels hit', { matchLabels: { app: 'web' } }, true],
    ['matchLabels miss', { matchLabels: { app: 'db' } }, false],
    ['In hit', { matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, true],
    ['In on a missing key', { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }, false],
    ['NotIn on a missing key', { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }, true],
    ['NotIn hit', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, false],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    ['all terms ANDed', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['be'] }] }, false],
    ['unknown operator matches nothing', { matchExpressions: [{ key: 'app', operator: 'Like', values: ['w'] }] }, false],
  ];
  for (const [name, sel, want] of table) {
    it(name, () => assert.equal(matchesSelector(labels, sel), want));
  }

  it('formats the query syntax', () => {
    assert.equal(
      formatSelector({
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['fe', 'be'] },
          { key: 'zone', operator: 'NotIn', values: ['a'] },
          { key: 'canary', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
      'app=web,tier in (fe,be),zone notin (a),canary,!legacy',
    );
    assert.throws(() => formatSelector({ matchExpressions: [{ key: 'a', operator: 'Like' }] }));
  });

  it('object keys round-trip', () => {
    assert.equal(objectKey({ metadata: { name: 'a', namespace: 'ns' } }), 'ns/a');
    assert.equal(objectKey({ metadata: { name: 'node1' } }), 'node1');
    assert.deepEqual(splitKey('ns/a'), { namespace: 'ns', name: 'a' });
    assert.deepEqual(splitKey('node1'), { name: 'node1' });
  });
});
