/**
 * Tracer output → result document. Entry points:
 * - bpftrace stdout: `createParser()` (streaming) / `parseBpftraceJson(text)`;
 * - SystemTap stdout: `createStapParser()` / `parseStapOutput(text)`, tables: `parseStapHistograms(text)`;
 * - `buildResultDocument(parsed, meta)` → `ResultDocument` (`result.json`);
 * - `renderReport(doc)` (`report.txt`), `renderFlameGraph(folded)` (`flamegraph.svg`);
 * - `headline(doc)`, `mergeDocuments(docs)`, `fitConfigMap(files)` for the reconciler.
 */
export * from './types.js';
export * from './json-loose.js';
export * from './bpftrace-json.js';
export * from './histogram.js';
export * from './topn.js';
export * from './stap-hist.js';
export * from './flamegraph.js';
export * from './document.js';
export * from './report.js';
export * from './merge.js';
