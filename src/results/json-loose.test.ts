import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JBigNumber, JObject, LooseJsonError, parseLoose, toPlain } from './json-loose.js';

test('valid JSON reads like JSON.parse', () => {
  const cases = [
    '{}',
    '[]',
    '0',
    '-12.5e3',
    '"a\\"b\\\\c\\n\\u00e9\\/"',
    'true',
    'false',
    'null',
    '{"type": "map", "data": {"@x": {"a": 1, "b": [1, 2, {"c": null}]}}}',
    ' [ 1 , 2 ,3 ] ',
    '{"k":-0.5,"e":1E2}',
  ];
  for (const c of cases) {
    const r = parseLoose(c);
    assert.deepEqual(toPlain(r.value), JSON.parse(c), c);
    assert.deepEqual(r.repairs, [], c);
  }
});

test('objects keep duplicate keys in order; get() returns the last', () => {
  const { value } = parseLoose('{"a": 1, "b": 2, "a": 3}');
  assert.ok(value instanceof JObject);
  assert.deepEqual(value.keys, ['a', 'b', 'a']);
  assert.deepEqual(value.values, [1, 2, 3]);
  assert.equal(value.get('a'), 3);
  assert.equal(value.size, 3);
});

test('integers beyond 2^53 keep their digits', () => {
  const { value } = parseLoose('[18446744073709551615, 9007199254740991, -9007199254740993, 12345678901234567.5]');
  assert.ok(Array.isArray(value));
  const [big, safe, neg, frac] = value;
  assert.ok(big instanceof JBigNumber);
  assert.equal(big.raw, '18446744073709551615');
  assert.equal(big.value, Number('18446744073709551615'));
  assert.equal(safe, 9007199254740991);
  assert.ok(neg instanceof JBigNumber);
  assert.equal(neg.raw, '-9007199254740993');
  assert.equal(typeof frac, 'number'); // not an integer literal: a double
});

test('lenient: the v0.17 strftime bare word is read as a string and reported', () => {
  const line = '{"type": "map", "data": {"@ts": 04:04:04}}';
  assert.throws(() => parseLoose(line), LooseJsonError);
  const r = parseLoose(line, { lenient: true });
  assert.deepEqual(toPlain(r.value), { type: 'map', data: { '@ts': '04:04:04' } });
  assert.equal(r.repairs.length, 1);
  assert.match(r.repairs[0] as string, /bare word "04:04:04"/);
});

test('lenient: keyed bare words and missing commas', () => {
  const r = parseLoose('{"@ts": {"bash": 10:00:01, "sh": 10:00:02}}', { lenient: true });
  assert.deepEqual(toPlain(r.value), { '@ts': { bash: '10:00:01', sh: '10:00:02' } });
  assert.equal(r.repairs.length, 2);
  const t = parseLoose('[{"v":1}{"v":2}]', { lenient: true });
  assert.deepEqual(toPlain(t.value), [{ v: 1 }, { v: 2 }]);
  assert.deepEqual(t.repairs, ['missing comma in array at 8']);
});

test('leading zeros are not numbers', () => {
  assert.throws(() => parseLoose('01'), /invalid number at position 0/);
  assert.equal(parseLoose('01', { lenient: true }).value, '01');
});

test('errors carry a position', () => {
  assert.throws(() => parseLoose('{"a": "open'), /unterminated string at position 6/);
  assert.throws(() => parseLoose('{"a": 1} x'), /unexpected trailing characters at position 9/);
  assert.throws(() => parseLoose('{"a" 1}'), /expected ':' at position 5/);
  assert.throws(() => parseLoose('"\\x1b"'), /bad escape at position 1/);
  assert.throws(() => parseLoose('{"a": }', { lenient: true }), /missing value at position 6/);
});

test('toPlain does not let "__proto__" change the prototype', () => {
  const plain = toPlain(parseLoose('{"__proto__": {"polluted": 1}}').value) as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(plain), Object.prototype);
  assert.deepEqual(Object.keys(plain), ['__proto__']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
});
