// pageCache — page-cache misses and dirties (the article's cachestat case).
// Tracepoint-only nodes: misses = filemap:mm_filemap_add_to_page_cache, dirties
// = writeback:writeback_dirty_folio; hits (and so the hit ratio) need a kprobe
// on folio_mark_accessed/mark_page_accessed, rendered when the node has kprobes.
// Both tracepoints fire once per folio, and since large folios (ext4 from 6.16,
// XFS from 5.18) one folio can be many pages: misses are weighted by the folio's
// order (a field of the tracepoint since 5.18), and a dirtied folio counts the
// pages it had when the target added it to the cache during the trace, else one.
import { z } from 'zod';
import { block, defineProbe, endBlock, tracepointsMissing } from './define.js';
import { bool } from './params.js';
import { counterValue } from './shape.js';
import { toTraceData } from './trace-data.js';

/** mm_filemap_add_to_page_cache has had an `order` field since the folio conversion (5.18). */
export function hasFolioOrder(kernel: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(kernel);
  if (!m) return false;
  const major = Number(m[1]);
  return major > 5 || (major === 5 && Number(m[2]) >= 18);
}

const params = z
  .object({
    requireHits: bool().default(false).describe('fail as Unsupported instead of running without hit counts on nodes without kprobes'),
  })
  .strict();

export const pageCache = defineProbe({
  name: 'pageCache',
  summary: 'Page-cache misses (pages added) and dirtied pages per command; accesses/hits and hit ratio where kprobes exist.',
  covers: 'cachestat (HITS MISSES DIRTIES HITRATIO)',
  scope: 'both',
  params,
  hooks: ['tracepoint:filemap:mm_filemap_add_to_page_cache', 'tracepoint:writeback:writeback_dirty_folio', 'kprobe:folio_mark_accessed (with kprobes)'],
  unsupported: (caps, p) =>
    p.requireHits && !caps.kprobes ? 'kprobes' : tracepointsMissing(caps, ['filemap:mm_filemap_add_to_page_cache', 'writeback:writeback_dirty_folio']),
  render: (k) => {
    const a = k.a;
    if (!hasFolioOrder(k.ctx.caps.kernel)) {
      return [
        block('tracepoint:filemap:mm_filemap_add_to_page_cache', k.target, ['  @misses = count();', '  @misses_by_comm[comm] = count();']),
        block('tracepoint:writeback:writeback_dirty_folio', k.target, ['  @dirties = count();', '  @dirties_by_comm[comm] = count();']),
        ...(k.ctx.caps.kprobes ? [block('kprobe:folio_mark_accessed', k.target, ['  @accesses = count();'])] : []),
      ];
    }
    return [
      block('tracepoint:filemap:mm_filemap_add_to_page_cache', k.target, [
        `  $pages = 1 << ${a('order')};`,
        '  @misses = sum($pages);',
        '  @misses_by_comm[comm] = sum($pages);',
        // Only large folios need remembering (a dirtied folio not found counts one page).
        `  if ($pages > 1) { @folio_pages[${a('i_ino')}, ${a('index')}] = $pages; }`,
      ]),
      block('tracepoint:writeback:writeback_dirty_folio', k.target, [
        `  $pages = @folio_pages[${a('ino')}, ${a('index')}];`,
        // Deleting a missing key is a helper error (a warning per event in bpftrace ≥ 0.21).
        `  if ($pages == 0) { $pages = 1; } else { delete(@folio_pages[${a('ino')}, ${a('index')}]); }`,
        '  @dirties = sum($pages);',
        '  @dirties_by_comm[comm] = sum($pages);',
      ]),
      ...(k.ctx.caps.kprobes ? [block('kprobe:folio_mark_accessed', k.target, ['  @accesses = count();'])] : []),
      endBlock(['@folio_pages']),
    ];
  },
  shape: {
    counters: [
      { map: '@misses', name: 'misses' },
      { map: '@dirties', name: 'dirties' },
    ],
    tables: [
      { map: '@misses_by_comm', name: 'misses by command', keyColumns: ['comm'], value: { kind: 'count', column: 'misses' } },
      { map: '@dirties_by_comm', name: 'dirties by command', keyColumns: ['comm'], value: { kind: 'count', column: 'dirties' } },
    ],
    headline: (r) =>
      r.counters['hitRatioPct'] !== undefined
        ? `hits=${r.counters['hits']} misses=${r.counters['misses']} ratio=${r.counters['hitRatioPct']}%`
        : `misses=${r.counters['misses'] ?? 0} dirties=${r.counters['dirties'] ?? 0}`,
  },
  post: (r, parsed, ctx) => {
    if (!ctx.caps.kprobes) return;
    const accesses = counterValue(toTraceData(parsed), '@accesses') ?? 0;
    const misses = r.counters['misses'] ?? 0;
    const hits = Math.max(0, accesses - misses);
    r.counters['accesses'] = accesses;
    r.counters['hits'] = hits;
    r.counters['hitRatioPct'] = accesses > 0 ? Math.round((hits / accesses) * 1000) / 10 : 0;
  },
  notes: (ctx) =>
    ctx.caps.kprobes
      ? ['hits = accesses (folio_mark_accessed) − misses, as cachestat approximates', ...pageNotes(ctx.caps.kernel)]
      : ['hits and hit ratio are unavailable: they need a kprobe on folio_mark_accessed and this node has no kprobes; misses and dirties are exact', ...pageNotes(ctx.caps.kernel)],
});

function pageNotes(kernel: string): string[] {
  return hasFolioOrder(kernel)
    ? ['misses and dirties are in pages (4 KiB on x86_64): a large folio counts all its pages; a dirtied large folio the target did not add during the trace counts as one page']
    : ['misses and dirties count page-cache folios (one page each before large folios; this kernel reports no folio order)'];
}
