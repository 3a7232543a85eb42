/**
 * A small JSON reader for tracer output that `JSON.parse` gets wrong or rejects.
 *
 * Why not `JSON.parse`:
 * - **Duplicate keys.** bpftrace v0.17 prints one object member per map entry,
 *   and distinct entries can print the same key: `@[ustack, comm]` keyed by
 *   per-process stack ids symbolises two processes' stacks to the same text
 *   (seen in testdata/v017-ustack-profile.ndjson). `JSON.parse` keeps only the
 *   last one and silently loses samples; here objects keep every member in order.
 * - **Big integers.** v0.17 prints u64 values as bare digits; `JSON.parse` rounds
 *   them. Integers a double cannot hold are returned as {@link JBigNumber} with
 *   the exact digits.
 * - **Lenient repairs** (only with `lenient: true`), each reported in `repairs`:
 *   a bare word where a value belongs (v0.17 `{"@ts": 04:04:04}` from a strftime
 *   stored in a map) is read as a string up to the next `,` `}` `]`; a missing
 *   comma between array elements or object members (an older v0.2x `tseries`
 *   emitter forgot them) is accepted.
 *
 * Strings, `true`/`false`/`null` and nesting follow RFC 8259.
 */

/** A JSON object with its members in source order, duplicates kept. */
export class JObject {
  constructor(
    readonly keys: string[],
    readonly values: JValue[],
  ) {}

  get size(): number {
    return this.keys.length;
  }

  /** Value of the last member named `key` (what `JSON.parse` would keep). */
  get(key: string): JValue | undefined {
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] === key) return this.values[i];
    }
    return undefined;
  }
}

/** An integer literal outside ±(2^53 − 1); `raw` holds the exact digits. */
export class JBigNumber {
  constructor(readonly raw: string) {}
  /** Nearest double. */
  get value(): number {
    return Number(this.raw);
  }
}

export type JValue = null | boolean | number | string | JValue[] | JObject | JBigNumber;

export interface LooseParseResult {
  value: JValue;
  /** Human-readable notes about lenient repairs made; empty for valid JSON. */
  repairs: string[];
}

export class LooseJsonError extends SyntaxError {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
    this.name = 'LooseJsonError';
  }
}

const WS_SPACE = 0x20;
const WS_TAB = 0x09;
const WS_LF = 0x0a;
const WS_CR = 0x0d;

/** Parses one JSON text. Throws {@link LooseJsonError} when it cannot. */
export function parseLoose(text: string, options: { lenient?: boolean } = {}): LooseParseResult {
  const p = new Reader(text, options.lenient ?? false);
  p.skipWs();
  const value = p.readValue(0);
  p.skipWs();
  if (p.pos < text.length) throw new LooseJsonError('unexpected trailing characters', p.pos);
  return { value, repairs: p.repairs };
}

/** Converts a loose value to plain JS (objects keep the last duplicate, big numbers become doubles). */
export function toPlain(v: JValue): unknown {
  if (v instanceof JObject) {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < v.keys.length; i++) {
      Object.defineProperty(out, v.keys[i] as string, {
        value: toPlain(v.values[i] as JValue),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  if (v instanceof JBigNumber) return v.value;
  if (Array.isArray(v)) return v.map(toPlain);
  return v;
}

const MAX_DEPTH = 64;

class Reader {
  pos = 0;
  readonly repairs: string[] = [];

  constructor(
    private readonly s: string,
    private readonly lenient: boolean,
  ) {}

  skipWs(): void {
    const s = this.s;
    let i = this.pos;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === WS_SPACE || c === WS_TAB || c === WS_LF || c === WS_CR) i++;
      else break;
    }
    this.pos = i;
  }

  readValue(depth: number): JValue {
    if (depth > MAX_DEPTH) throw new LooseJsonError('nesting too deep', this.pos);
    const c = this.s.charCodeAt(this.pos);
    switch (c) {
      case 0x7b /* { */:
        return this.readObject(depth);
      case 0x5b /* [ */:
        return this.readArray(depth);
      case 0x22 /* " */:
        return this.readString();
      case 0x74 /* t */:
        return this.readLiteral('true', true);
      case 0x66 /* f */:
        return this.readLiteral('false', false);
      case 0x6e /* n */:
        return this.readLiteral('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.readNumber();
        return this.readBareword('unexpected character');
    }
  }

  private readLiteral<T extends JValue>(word: string, value: T): JValue {
    if (this.s.startsWith(word, this.pos)) {
      const next = this.s.charCodeAt(this.pos + word.length);
      if (!isWordChar(next)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.readBareword('invalid literal');
  }

  /** Lenient: reads everything up to the next `,` `}` `]` (or end) as a string. */
  private readBareword(why: string): string {
    const start = this.pos;
    if (!this.lenient) throw new LooseJsonError(why, start);
    const s = this.s;
    let i = start;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 0x2c || c === 0x7d || c === 0x5d) break;
      i++;
    }
    const word = s.slice(start, i).trim();
    if (word.length === 0) throw new LooseJsonError('missing value', start);
    this.pos = start + s.slice(start, i).trimEnd().length;
    this.repairs.push(`bare word ${JSON.stringify(word)} at ${start} read as a string`);
    return word;
  }

  private readNumber(): JValue {
    const s = this.s;
    const start = this.pos;
    let i = start;
    let integer = true;
    if (s.charCodeAt(i) === 0x2d) i++;
    const digitsStart = i;
    while (isDigit(s.charCodeAt(i))) i++;
    const intDigits = i - digitsStart;
    let ok = intDigits > 0 && !(intDigits > 1 && s.charCodeAt(digitsStart) === 0x30);
    if (s.charCodeAt(i) === 0x2e /* . */) {
      integer = false;
      i++;
      const f = i;
      while (isDigit(s.charCodeAt(i))) i++;
      if (i === f) ok = false;
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      i++;
      const sign = s.charCodeAt(i);
      if (sign === 0x2b || sign === 0x2d) i++;
      const f = i;
      while (isDigit(s.charCodeAt(i))) i++;
      if (i === f) ok = false;
    }
    // A number must end at a delimiter; `04:04:04` or `01` is not a number.
    if (!ok || isValueContinuation(s.charCodeAt(i))) {
      this.pos = start;
      return this.readBareword('invalid number');
    }
    this.pos = i;
    const raw = s.slice(start, i);
    const n = Number(raw);
    if (integer && intDigits > 15 && !Number.isSafeInteger(n)) return new JBigNumber(raw);
    return n;
  }

  readString(): string {
    const s = this.s;
    let i = this.pos + 1; // after the opening quote
    let out = '';
    let chunk = i;
    for (;;) {
      if (i >= s.length) throw new LooseJsonError('unterminated string', this.pos);
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c /* \ */) {
        out += s.slice(chunk, i);
        const esc = s.charCodeAt(i + 1);
        switch (esc) {
          case 0x22:
            out += '"';
            break;
          case 0x5c:
            out += '\\';
            break;
          case 0x2f:
            out += '/';
            break;
          case 0x62:
            out += '\b';
            break;
          case 0x66:
            out += '\f';
            break;
          case 0x6e:
            out += '\n';
            break;
          case 0x72:
            out += '\r';
            break;
          case 0x74:
            out += '\t';
            break;
          case 0x75 /* u */: {
            const hex = s.slice(i + 2, i + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new LooseJsonError('bad \\u escape', i);
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            throw new LooseJsonError('bad escape', i);
        }
        i += 2;
        chunk = i;
        continue;
      }
      if (c < 0x20) throw new LooseJsonError('control character in string', i);
      i++;
    }
    out += s.slice(chunk, i);
    this.pos = i + 1;
    return out;
  }

  private readArray(depth: number): JValue[] {
    const out: JValue[] = [];
    this.pos++; // [
    this.skipWs();
    if (this.s.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWs();
      out.push(this.readValue(depth + 1));
      this.skipWs();
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x5d) {
        this.pos++;
        return out;
      }
      if (this.lenient && (c === 0x7b || c === 0x5b || c === 0x22 || isDigit(c) || c === 0x2d)) {
        this.repairs.push(`missing comma in array at ${this.pos}`);
        continue;
      }
      throw new LooseJsonError("expected ',' or ']'", this.pos);
    }
  }

  private readObject(depth: number): JObject {
    const keys: string[] = [];
    const values: JValue[] = [];
    this.pos++; // {
    this.skipWs();
    if (this.s.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return new JObject(keys, values);
    }
    for (;;) {
      this.skipWs();
      if (this.s.charCodeAt(this.pos) !== 0x22) throw new LooseJsonError('expected a string key', this.pos);
      keys.push(this.readString());
      this.skipWs();
      if (this.s.charCodeAt(this.pos) !== 0x3a) throw new LooseJsonError("expected ':'", this.pos);
      this.pos++;
      this.skipWs();
      values.push(this.readValue(depth + 1));
      this.skipWs();
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x2c) {
        this.pos++;
        continue;
      }
      if (c === 0x7d) {
        this.pos++;
        return new JObject(keys, values);
      }
      if (this.lenient && c === 0x22) {
        this.repairs.push(`missing comma in object at ${this.pos}`);
        continue;
      }
      throw new LooseJsonError("expected ',' or '}'", this.pos);
    }
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** A character that may not directly follow a number (so the token is a bare word). */
function isValueContinuation(c: number): boolean {
  if (Number.isNaN(c)) return false; // end of text
  return !(c === 0x2c || c === 0x7d || c === 0x5d || c === WS_SPACE || c === WS_TAB || c === WS_LF || c === WS_CR);
}
