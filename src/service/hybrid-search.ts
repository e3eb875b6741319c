// Search with text: keyword (BM25) queries, and hybrid queries that fuse a vector ranking with a
// keyword ranking. Composed beside the vector search, which it calls for its vector leg, so the
// vector path itself is unchanged. Filters apply to both legs.
//
// A query with a text and no vector is ranked by BM25 alone (its score is the BM25 score). A
// query with both fuses the two rankings (RRF or relative score, weights alpha and 1 - alpha);
// a leg whose weight is 0 is not run, so alpha 1 is exactly the vector ranking and alpha 0
// exactly the keyword ranking. Each leg fetches at least HYBRID_LEG_DEPTH candidates, so an item
// ranked moderately in both lists can rise above one ranked high in only one of them.

import type { EngineStageTimings } from '../engine/index.js';
import { IncompatibleIndexError } from './errors.js';
import type { ValidQueries } from './input/input-validation.js';
import type { CompiledFilter } from './input/metadata-filter.js';
import type { ItemRecord, OpenIndex } from './open/open-index.js';
import { fuse, type RankedList } from './text/fusion.js';
import type { TextIndex } from './text/text-index.js';
import type { Fusion } from './types.js';

/** Candidates each leg of a hybrid query contributes before fusion (or topK, if larger). */
export const HYBRID_LEG_DEPTH = 100;

export interface TextSearchOptions {
  topK: number;
  nProbes?: number;
  filter: CompiledFilter | null;
  /** The vector leg's engine stage timings accumulate here (metrics). */
  timings?: EngineStageTimings;
  /** The vector leg's re-rank on a codes-only index (OpenIndex.search). */
  rerankMult: number;
  alpha: number;
  fusion: Fusion;
  /** The vector leg scans every list. */
  exact?: boolean;
  /** Vector-only queries keep no hit beyond it. */
  maxDistance?: number;
}

/** What a hit of a search with text carries besides the item. */
export interface HitScores {
  distance: number | null;
  /** Null for a vector-only query (its ranking is by distance). */
  score: number | null;
  textScore: number | null;
}

export async function searchWithText<T>(
  open: OpenIndex,
  queries: ValidQueries & { texts: (string | null)[] },
  options: TextSearchOptions,
  toHit: (record: ItemRecord, scores: HitScores) => T,
): Promise<{ hits: T[]; exact: boolean; approximate: boolean }[]> {
  const maybeText = open.text;
  if (maybeText === null) {
    throw new IncompatibleIndexError(`Index "${open.name}" was created without textSearch, so it cannot answer a text query; create an index with textSearch: true.`);
  }
  const text: TextIndex = maybeText;
  const { topK, nProbes, filter, timings, rerankMult, alpha, fusion, maxDistance } = options;
  const scanAll = options.exact;
  const dimension = open.config.dimension;
  const results: { hits: T[]; exact: boolean; approximate: boolean }[] = [];
  // One query after another: a vector leg may read candidates' vectors from the store.
  for (const [i, queryText] of queries.texts.entries()) results.push(await searchOne(queryText, i));
  return results;

  async function searchOne(queryText: string | null, i: number): Promise<{ hits: T[]; exact: boolean; approximate: boolean }> {
    const vector = queries.vectors?.subarray(i * dimension, (i + 1) * dimension) ?? null;
    if (queryText === null) {
      const [result] = await open.search(vector!, { topK, nProbes, filter, timings, exact: scanAll, maxDistance, rerankMult }, (record, distance) => toHit(record, { distance, score: null, textScore: null }));
      return result;
    }
    if (vector === null) {
      const hits = keywordLeg(open, text, queryText, topK, filter).map(({ record, score }) => toHit(record, { distance: null, score, textScore: score }));
      return { hits, exact: true, approximate: false };
    }
    const depth = Math.max(topK, HYBRID_LEG_DEPTH);
    const lists: RankedList<ItemRecord>[] = [];
    const distances = new Map<ItemRecord, number>();
    const textScores = new Map<ItemRecord, number>();
    let exact = true;
    let approximate = false;
    if (alpha > 0) {
      const [result] = await open.search(vector, { topK: depth, nProbes, filter, timings, exact: scanAll, rerankMult }, (record, distance) => ({ record, distance }));
      exact = result.exact;
      approximate = result.approximate;
      for (const hit of result.hits) distances.set(hit.record, hit.distance);
      // Nearer is better: the negated distance is the leg's score (min-max normalising it is
      // Weaviate's 1 - distance normalised).
      lists.push({ weight: alpha, keys: [...distances.keys()], scores: [...distances.values()].map((distance) => -distance) });
    }
    if (alpha < 1) {
      for (const hit of keywordLeg(open, text, queryText, depth, filter)) textScores.set(hit.record, hit.score);
      lists.push({ weight: 1 - alpha, keys: [...textScores.keys()], scores: [...textScores.values()] });
    }
    const hits = fuse(fusion, lists)
      .slice(0, topK)
      .map(({ key, score }) => toHit(key, { distance: distances.get(key) ?? null, score, textScore: textScores.get(key) ?? null }));
    return { hits, exact, approximate };
  }
}

function keywordLeg(open: OpenIndex, text: TextIndex, queryText: string, depth: number, filter: CompiledFilter | null): { record: ItemRecord; score: number }[] {
  const accept = filter === null ? undefined : (slot: number) => filter.matches(open.recordAtSlot(slot)?.metadata);
  const found: { record: ItemRecord; score: number }[] = [];
  for (const { key, score } of text.search(queryText, depth, accept)) {
    const record = open.recordAtSlot(key);
    if (record !== undefined) found.push({ record, score });
  }
  return found;
}
