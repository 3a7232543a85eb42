/**
 * Text that reaches a person (report.txt, the headline in `kubectl get`, condition
 * and Event messages, the plugin's terminal output, flame graph labels) carries
 * strings the traced workload chose: file names, comm, paths, stack frames, a
 * custom program's output. A terminal obeys control characters in them (ANSI CSI
 * and OSC sequences clear the screen, retitle the window, forge hyperlinks), and
 * bidirectional overrides reorder what is shown. So such text is escaped,
 * visibly and without losing what it held:
 *
 * - `\n`, `\r`, `\t` become those two-character escapes;
 * - other characters up to U+00FF become `\xHH` (ESC is `\x1b`, C1 CSI is `\x9b`);
 * - other characters become `\uHHHH`, or `\u{HHHHH}` above U+FFFF.
 *
 * Escaped are the Unicode categories Cc (C0, DEL, C1), Cf (format characters:
 * the bidi embeddings, overrides and isolates U+202A–U+202E and U+2066–U+2069,
 * LRM/RLM/ALM, zero-width characters, the BOM, tag characters), Zl/Zp (U+2028,
 * U+2029) and lone surrogates. The output holds printable characters and spaces
 * only, so escaping twice changes nothing. A backslash is not escaped: the text
 * `\x1b` may also have been in the input literally, which is harmless.
 */

// Categories per the comment above; the u flag makes a lone surrogate one code point.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;
// The same minus LF and TAB, for multi-line text whose line breaks are structural.
const UNSAFE_IN_TEXT = /(?![\n\t])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeChar(c: string): string {
  const short = SHORT[c];
  if (short) return short;
  const cp = c.codePointAt(0) as number;
  const hex = cp.toString(16);
  if (cp <= 0xff) return `\\x${hex.padStart(2, '0')}`;
  if (cp <= 0xffff) return `\\u${hex.padStart(4, '0')}`;
  return `\\u{${hex}}`;
}

/** One line of text for a person: every control, format or line-separator character escaped, newlines included. */
export function printable(s: string): string {
  return s.replace(UNSAFE, escapeChar);
}

/** Multi-line text for a person: as {@link printable}, but LF and TAB stay (CR does not: it would overwrite the line). */
export function printableText(s: string): string {
  return s.replace(UNSAFE_IN_TEXT, escapeChar);
}


/** True when {@link printable} would change `s`. */
export function needsEscape(s: string): boolean {
  return /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u.test(s);
}

const utf16Escape = (c: string): string => {
  let out = '';
  for (let i = 0; i < c.length; i++) out += `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
};

/**
 * `JSON.stringify` text made safe for a terminal without changing its data:
 * stringify escapes C0 inside strings but leaves DEL, C1, bidi and other format
 * characters raw; they become `\uXXXX` escapes (a surrogate pair above U+FFFF),
 * which JSON reads back as the same characters. Structural newlines stay.
 */
export function printableJson(json: string): string {
  return json.replace(UNSAFE_IN_TEXT, utf16Escape);
}

/**
 * YAML text whose scalars holding such characters are double-quoted (the caller
 * makes them so): the characters the emitter left raw become `\uXXXX` or
 * `\UXXXXXXXX`, escapes a double-quoted YAML scalar reads back unchanged.
 */
export function printableYamlText(yaml: string): string {
  return yaml.replace(UNSAFE_IN_TEXT, (c) => {
    const cp = c.codePointAt(0) as number;
    return cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  });
}
