/**
 * Folded stacks and a self-contained flame graph SVG (no scripts, no external
 * resources, deterministic output).
 *
 * bpftrace prints `kstack`/`ustack` innermost frame first (leaf at the top of
 * the key); the folded format (`root;…;leaf count`, as used by flamegraph.pl and
 * speedscope) is root first, so frames are reversed. Offsets (`vfs_read+123`)
 * are stripped by default so samples at different instructions of one function
 * merge; `;` inside a frame becomes `:` (it is the folded separator). An empty
 * stack (e.g. `kstack` sampled in user mode) becomes the single frame `[unknown]`.
 */
import type { StackEntry } from './types.js';
import { printable } from './safe-text.js';

export interface FoldedStack {
  /** Root first. */
  frames: string[];
  count: number;
}

export interface FoldOptions {
  /** Keep `+offset` suffixes (default false). */
  keepOffsets?: boolean;
  /** Put the entry's non-stack key parts (e.g. comm) below the stack as root frames (default false). */
  keyAsRoot?: boolean;
  /** Frame for an empty stack (default `[unknown]`). */
  emptyFrame?: string;
}

const OFFSET = /\+(?:0x[0-9a-fA-F]+|\d+)(?=$| \()/;

/** `do_syscall_64+113` → `do_syscall_64`; `0x7f00aa` and `[unknown]` stay. */
export function stripOffset(frame: string): string {
  const m = OFFSET.exec(frame);
  if (!m || m.index === 0) return frame;
  return frame.slice(0, m.index) + frame.slice(m.index + m[0].length);
}

function cleanFrame(f: string, keepOffsets: boolean): string {
  const s = (keepOffsets ? f : stripOffset(f)).replace(/;/g, ':').replace(/[\r\n]+/g, ' ');
  return s;
}

/** Folds stack map entries (innermost-first frames) into merged root-first stacks, sorted by path. */
export function foldStacks(entries: readonly StackEntry[], options: FoldOptions = {}): FoldedStack[] {
  const keep = options.keepOffsets ?? false;
  const empty = options.emptyFrame ?? '[unknown]';
  const by = new Map<string, FoldedStack>();
  for (const e of entries) {
    if (!(e.value > 0)) continue;
    const frames = e.frames.length ? e.frames.map((f) => cleanFrame(f, keep)).reverse() : [empty];
    if (options.keyAsRoot) frames.unshift(...e.key.map((k) => cleanFrame(k, true)));
    addStack(by, frames, e.value);
  }
  return sortStacks(by);
}

function addStack(by: Map<string, FoldedStack>, frames: string[], count: number): void {
  const id = frames.join(';');
  const cur = by.get(id);
  if (cur) cur.count += count;
  else by.set(id, { frames, count });
}

function sortStacks(by: Map<string, FoldedStack>): FoldedStack[] {
  return [...by.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

/** One `root;…;leaf count` line per stack, newline-terminated. */
export function formatFolded(stacks: readonly FoldedStack[]): string {
  let out = '';
  for (const s of stacks) out += `${s.frames.join(';')} ${s.count}\n`;
  return out;
}

/** Stack map entries straight to folded text. */
export function toFolded(entries: readonly StackEntry[], options: FoldOptions = {}): string {
  return formatFolded(foldStacks(entries, options));
}

/** Parses folded text (`a;b;c 12` per line; malformed lines are skipped). Equal stacks are summed. */
export function parseFolded(text: string): FoldedStack[] {
  const by = new Map<string, FoldedStack>();
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    const sp = line.lastIndexOf(' ');
    if (sp <= 0) continue;
    const count = Number(line.slice(sp + 1));
    if (!Number.isFinite(count) || count <= 0) continue;
    addStack(by, line.slice(0, sp).split(';'), count);
  }
  return sortStacks(by);
}

/** Merges folded texts (multi-node fan-out). */
export function mergeFolded(texts: readonly string[]): string {
  const by = new Map<string, FoldedStack>();
  for (const t of texts) for (const s of parseFolded(t)) addStack(by, s.frames, s.count);
  return formatFolded(sortStacks(by));
}

export function totalSamples(stacks: readonly FoldedStack[]): number {
  let n = 0;
  for (const s of stacks) n += s.count;
  return n;
}

// ---------------------------------------------------------------------------
// SVG

export interface FlameGraphOptions {
  /** Image width in px (default 1200). */
  width?: number;
  /** Frame height in px (default 16). */
  frameHeight?: number;
  fontSize?: number;
  /** Frames narrower than this many px are left out, with their children (default 0.1). */
  minWidth?: number;
  title?: string;
  /** What a sample is called in tooltips (default "samples"). */
  countName?: string;
}

interface Node {
  name: string;
  value: number;
  children: Map<string, Node>;
}

/**
 * Text for the SVG: control and format characters escaped visibly first
 * (`printable`; XML 1.0 forbids most C0 characters, and a viewer would obey
 * bidi overrides), then XML's five special characters.
 */
export function escapeXml(s: string): string {
  return printable(s).replace(/[&<>"']/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      default:
        return '&apos;';
    }
  });
}

/** FNV-1a 32-bit. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** A warm colour derived from the frame name only (same name, same colour, every time). */
export function frameColor(name: string): string {
  const h = hash(name);
  const r = 205 + (h % 51);
  const g = (h >>> 8) % 231;
  const b = (h >>> 16) % 56;
  return `rgb(${r},${g},${b})`;
}

const fx = (n: number): string => (Math.round(n * 100) / 100).toFixed(2);

/** Renders folded stacks (or folded text) as a standalone SVG flame graph. */
export function renderFlameGraph(input: readonly FoldedStack[] | string, options: FlameGraphOptions = {}): string {
  const stacks = typeof input === 'string' ? parseFolded(input) : input;
  const width = options.width ?? 1200;
  const frameHeight = options.frameHeight ?? 16;
  const fontSize = options.fontSize ?? 12;
  const minWidth = options.minWidth ?? 0.1;
  const countName = options.countName ?? 'samples';
  const title = options.title ?? 'Flame Graph';
  const xpad = 10;
  const top = fontSize * 3;
  const bottom = fontSize * 2;

  const root: Node = { name: 'all', value: 0, children: new Map() };
  for (const s of stacks) {
    if (!(s.count > 0)) continue;
    root.value += s.count;
    let node = root;
    for (const f of s.frames) {
      let child = node.children.get(f);
      if (!child) {
        child = { name: f, value: 0, children: new Map() };
        node.children.set(f, child);
      }
      child.value += s.count;
      node = child;
    }
  }

  const total = root.value;
  const scale = total > 0 ? (width - 2 * xpad) / total : 0;
  const frames: Array<{ node: Node; depth: number; x: number; w: number }> = [];
  let maxDepth = 0;
  const walk = (node: Node, depth: number, x: number): void => {
    const w = node.value * scale;
    if (w < minWidth) return;
    frames.push({ node, depth, x, w });
    if (depth > maxDepth) maxDepth = depth;
    let cx = x;
    const kids = [...node.children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const k of kids) {
      walk(k, depth + 1, cx);
      cx += k.value * scale;
    }
  };
  if (total > 0) walk(root, 0, xpad);

  const height = top + (maxDepth + 1) * frameHeight + bottom;
  const charWidth = fontSize * 0.59;
  const lines: string[] = [];
  lines.push('<?xml version="1.0" standalone="no"?>');
  lines.push(
    `<svg version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">`,
  );
  lines.push(
    `<style>text{font-family:Verdana,sans-serif;font-size:${fontSize}px;fill:#000}.f:hover rect{stroke:#000;stroke-width:0.5}.t{font-size:${fontSize + 5}px}</style>`,
  );
  lines.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#f8f8f8"/>`);
  lines.push(`<text class="t" x="${fx(width / 2)}" y="${fx(fontSize * 2)}" text-anchor="middle">${escapeXml(title)}</text>`);
  if (total === 0) {
    lines.push(`<text x="${fx(width / 2)}" y="${fx(top + frameHeight)}" text-anchor="middle">no ${escapeXml(countName)}</text>`);
  }
  for (const f of frames) {
    const y = top + (maxDepth - f.depth) * frameHeight;
    const pct = ((f.node.value / total) * 100).toFixed(2);
    const tip = `${f.node.name} (${f.node.value} ${countName}, ${pct}%)`;
    const maxChars = Math.floor((f.w - 6) / charWidth);
    let label = '';
    const name = printable(f.node.name);
    if (maxChars >= 3) label = name.length <= maxChars ? name : `${name.slice(0, maxChars - 2)}..`;
    const text = label ? `<text x="${fx(f.x + 3)}" y="${fx(y + frameHeight - 4)}">${escapeXml(label)}</text>` : '';
    lines.push(
      `<g class="f" data-w="${fx(f.w)}"><title>${escapeXml(tip)}</title><rect x="${fx(f.x)}" y="${fx(y)}" width="${fx(f.w)}" height="${fx(frameHeight - 1)}" fill="${frameColor(f.node.name)}" rx="2" ry="2"/>${text}</g>`,
    );
  }
  lines.push(
    `<text x="${xpad}" y="${fx(height - fontSize / 2)}">${escapeXml(`${total} ${countName}, ${frames.length} frames shown`)}</text>`,
  );
  lines.push('</svg>');
  return `${lines.join('\n')}\n`;
}

/**
 * Shrinks an SVG made by {@link renderFlameGraph} by dropping the narrowest
 * frames (children are never wider than their parent, so no orphan is left)
 * until it fits `maxBytes`. Returns undefined when even the bare image does not fit.
 */
export function shrinkFlameGraph(svg: string, maxBytes: number): string | undefined {
  if (Buffer.byteLength(svg) <= maxBytes) return svg;
  const lines = svg.split('\n');
  const widths: number[] = [];
  for (const l of lines) {
    const m = /^<g class="f" data-w="([0-9.]+)">/.exec(l);
    if (m) widths.push(Number(m[1]));
  }
  const sorted = [...new Set(widths)].sort((a, b) => a - b);
  // Binary search on the cut-off: keep frames with width ≥ cut.
  let lo = 0;
  let hi = sorted.length; // index into sorted; hi = drop all frames
  let best: string | undefined;
  const build = (idx: number): string => {
    const cut = idx < sorted.length ? (sorted[idx] as number) : Infinity;
    let dropped = 0;
    const kept = lines.filter((l) => {
      const m = /^<g class="f" data-w="([0-9.]+)">/.exec(l);
      if (m && Number(m[1]) < cut) {
        dropped++;
        return false;
      }
      return true;
    });
    if (dropped > 0) {
      const endIdx = kept.lastIndexOf('</svg>');
      if (endIdx >= 0) kept.splice(endIdx, 0, `<!-- ${dropped} narrow frames dropped to fit -->`);
    }
    return kept.join('\n');
  };
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const candidate = build(mid);
    if (Buffer.byteLength(candidate) <= maxBytes) {
      best = candidate;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  return best;
}
