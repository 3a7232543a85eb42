// pageCache — page-cache misses and dirties (the article's cachestat case).
// Tracepoint-only nodes: misses = filemap:mm_filemap_add_to_page_cache, dirties
// = writeback:writeback_dirty_folio; hits (and so the hit ratio) need a kprobe
// on folio_mark_accessed/mark_page_accessed, rendered when the node has kprobes.
import { z } from 'zod';
import { block, defineProbe, tracepointsMissing } from './define.js';
import { bool } from './params.js';
import { counterValue } from './shape.js';
import { toTraceData } from './trace-data.js';

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
  render: (k) => [
    block('tracepoint:filemap:mm_filemap_add_to_page_cache', k.target, ['  @misses = count();', '  @misses_by_comm[comm] = count();']),
    block('tracepoint:writeback:writeback_dirty_folio', k.target, ['  @dirties = count();', '  @dirties_by_comm[comm] = count();']),
    ...(k.ctx.caps.kprobes ? [block('kprobe:folio_mark_accessed', k.target, ['  @accesses = count();'])] : []),
  ],
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
      ? ['hits = accesses (folio_mark_accessed) − misses, as cachestat approximates']
      : ['hits and hit ratio are unavailable: they need a kprobe on folio_mark_accessed and this node has no kprobes; misses and dirties are exact'],
});
