// Shape-anything: used for custom programs. Histograms stay histograms (unit
// 'count' — we do not know what the user measured), keyed counts become top-N
// tables, scalars become counters, printf lines become events.
import { bucketsOf, emptyResult, makeHistogram } from './shape.js';
import { isStats, num, toTraceData } from './trace-data.js';
import type { ShapedResult } from './types.js';

const isBucketList = (v: unknown): boolean =>
  Array.isArray(v) && v.every((b) => typeof b === 'object' && b !== null && 'count' in (b as object));

export function shapeGeneric(parsed: unknown, ctx: { topN: number; maxEvents: number }): ShapedResult {
  const data = toTraceData(parsed);
  const r = emptyResult();
  for (const [name, v] of data.maps) {
    const unit = /_us$/.test(name) ? 'us' : /_ns$/.test(name) ? 'ns' : /_ms$/.test(name) ? 'ms' : /bytes|size/.test(name) ? 'bytes' : 'count';
    if (isBucketList(v)) {
      r.histograms.push(makeHistogram(name, unit, bucketsOf(v)));
    } else if (isStats(v)) {
      r.counters[`${name}.count`] = num(v.count);
      r.counters[`${name}.average`] = num(v.average);
      r.counters[`${name}.total`] = num(v.total);
    } else if (typeof v === 'object' && v !== null) {
      const es = Object.entries(v as Record<string, unknown>);
      if (es.every(([, x]) => isBucketList(x))) {
        for (const [k, x] of es) r.histograms.push(makeHistogram(name, unit, bucketsOf(x), k));
      } else if (es.every(([, x]) => isStats(x))) {
        const rows = es.map(([k, x]) => (isStats(x) ? [k, num(x.count), num(x.average), num(x.total)] : [k, 0, 0, 0]));
        rows.sort((a, b) => num(b[1]) - num(a[1]));
        r.tables.push({ name, columns: ['key', 'count', 'average', 'total'], rows: rows.slice(0, ctx.topN) });
      } else {
        const rows: Array<Array<string | number>> = es.map(([k, x]) => [k, num(x)]);
        rows.sort((a, b) => num(b[1]) - num(a[1]));
        r.tables.push({ name, columns: ['key', 'value'], rows: rows.slice(0, ctx.topN) });
      }
    } else {
      r.counters[name] = num(v);
    }
  }
  for (const line of data.printfs) {
    if (r.events.length >= ctx.maxEvents) {
      r.notes.push(`${data.printfs.length} lines printed, ${ctx.maxEvents} kept (maxEvents)`);
      break;
    }
    r.events.push({ line });
  }
  if (data.lostEvents > 0) r.notes.push(`${data.lostEvents} events lost in the perf buffer`);
  return r;
}
