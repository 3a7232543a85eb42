import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineSplitter } from './lines.js';

function split(chunks: Array<string | Buffer>, complete: boolean): string[] {
  const out: string[] = [];
  const s = new LineSplitter((l) => out.push(l));
  for (const c of chunks) s.push(Buffer.isBuffer(c) ? c : Buffer.from(c));
  s.end(complete);
  return out;
}

describe('LineSplitter', () => {
  it('lines across chunk boundaries, empty lines kept, the last line without a newline too', () => {
    assert.deepEqual(split(['ab', 'c\nd', '\n\nef'], true), ['abc', 'd', '', 'ef']);
  });
  it('a stream cut short drops its unfinished last line (never half a record)', () => {
    assert.deepEqual(split(['{"tracejob":"a"}\n{"tracejob":"res'], false), ['{"tracejob":"a"}']);
  });
  it('a multi-byte character split between chunks is decoded whole', () => {
    const b = Buffer.from('é\n');
    assert.deepEqual(split([b.subarray(0, 1), b.subarray(1)], true), ['é']);
  });
  it('counts bytes', () => {
    const s = new LineSplitter(() => undefined);
    s.push(Buffer.from('abc\n'));
    s.push(Buffer.from('de'));
    assert.equal(s.bytes, 6);
  });
});
