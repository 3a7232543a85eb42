import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable, printableJson, printableText } from './safe-text.js';

/** A file name a hostile workload opens: OSC retitles the terminal, CSI clears it. */
const HOSTILE_NAME = '\x1b]0;pwned\x07\x1b[2J evil';

test('printable: every control, format and separator character is escaped visibly', () => {
  const cases: Array<[string, string, string]> = [
    ['plain ASCII stays', '/var/lib/app/data.db', '/var/lib/app/data.db'],
    ['UTF-8 letters stay', 'café/日本語', 'café/日本語'],
    ['emoji stays', 'log-🔥.txt', 'log-🔥.txt'],
    ['OSC title + CSI clear', HOSTILE_NAME, '\\x1b]0;pwned\\x07\\x1b[2J evil'],
    ['newline, CR, tab', 'a\nb\rc\td', 'a\\nb\\rc\\td'],
    ['NUL and DEL', 'a\x00b\x7f', 'a\\x00b\\x7f'],
    ['C1 CSI (U+009B) and NEL (U+0085)', 'a\u009b2Jb\u0085', 'a\\x9b2Jb\\x85'],
    ['bidi override (Trojan Source)', 'file\u202Etxt.exe', 'file\\u202etxt.exe'],
    ['bidi isolates', '\u2066a\u2067b\u2068c\u2069', '\\u2066a\\u2067b\\u2068c\\u2069'],
    ['LRM, RLM, ALM', '\u200E\u200F\u061C', '\\u200e\\u200f\\u061c'],
    ['line and paragraph separators', 'a\u2028b\u2029c', 'a\\u2028b\\u2029c'],
    ['zero-width space and BOM', 'a\u200Bb\uFEFF', 'a\\u200bb\\ufeff'],
    ['tag characters (invisible text)', 'x\u{E0041}\u{E0042}', 'x\\u{e0041}\\u{e0042}'],
    ['lone surrogate', 'a\uD800b', 'a\\ud800b'],
  ];
  for (const [what, input, want] of cases) assert.equal(printable(input), want, what);
});

test('printableText keeps LF and TAB as line structure, escapes the rest', () => {
  assert.equal(printableText('line 1\n\tline 2\n'), 'line 1\n\tline 2\n');
  assert.equal(printableText(`open ${HOSTILE_NAME}\r\nnext`), 'open \\x1b]0;pwned\\x07\\x1b[2J evil\\r\nnext');
  assert.equal(printableText('rtl\u202Eevil'), 'rtl\\u202eevil');
});

test('escaping is idempotent and leaves only printable characters', () => {
  let all = '';
  for (let cp = 0; cp < 0x3000; cp++) all += String.fromCodePoint(cp);
  all += '\u{E0001}\u{E007F}\uFEFF\uD800';
  const once = printable(all);
  assert.equal(printable(once), once);
  assert.equal(printableText(printableText(all)), printableText(all));
  assert.doesNotMatch(once, /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
  assert.doesNotMatch(printableText(all), /(?![\n\t])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
});

test('printableJson: the same data read back, nothing a terminal acts on left raw', () => {
  const value = { [`k${HOSTILE_NAME}`]: [`a\u009b\u202E\u2028\x7f\u{E0041}b`, 'plain'], n: 1 };
  const json = printableJson(JSON.stringify(value, null, 2));
  assert.deepEqual(JSON.parse(json), value);
  assert.doesNotMatch(json, /(?![\n])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
  assert.ok(json.includes('\\u202e') && json.includes('\\udb40\\udc41'), json);
});
