// Shared by the benchmark sections: aligned tables, percentiles, and recall against an exact baseline.
import type { EngineSearchResult } from '../src/engine/index.js';

/** Prints rows as an aligned table with a header rule. */
export function table(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]): string => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of cells.slice(1)) console.log(line(r));
  console.log();
}

/** The value below which a share `q` of `sorted` (ascending) lies; NaN when it is empty. */
export function percentile(sorted: readonly number[], q: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** The share of the exact top-k ids that `found` returned, over all queries. */
export function meanRecall(found: EngineSearchResult[], truth: EngineSearchResult[]): number {
  let hits = 0;
  let total = 0;
  found.forEach((result, q) => {
    const want = new Set(truth[q].ids);
    for (const id of result.ids) if (want.has(id)) hits++;
    total += truth[q].ids.length;
  });
  return hits / total;
}
