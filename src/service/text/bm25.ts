// BM25 ranking over a TermIndex (k1 = 1.2, b = 0.75, Lucene's non-negative idf):
//   score(d, q) = Σ over distinct query terms t in d of
//                 idf(t) × tf × (k1 + 1) / (tf + k1 × (1 − b + b × |d| / avgdl))
//   idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5))
// Scores accumulate per document into flat arrays reused between queries, and the best k are
// kept with the engine's bounded heap (equal scores: the smaller key first).

import { TopK } from '../../engine/index.js';
import type { TermIndex } from './term-index.js';

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

export function bm25Idf(documentFrequency: number, documentCount: number): number {
  return Math.log(1 + (documentCount - documentFrequency + 0.5) / (documentFrequency + 0.5));
}

export interface ScoredKey {
  key: number;
  score: number;
}

export class Bm25Scorer {
  readonly #index: TermIndex;
  #scores = new Float64Array(0);
  #touched = new Uint32Array(0);

  constructor(index: TermIndex) {
    this.#index = index;
  }

  /**
   * The `topK` best documents for `queryTerms` (repeats count once), best first; only documents
   * holding at least one term score. `accept` (a filter) is asked only about would-be entrants.
   */
  topK(queryTerms: readonly string[], topK: number, accept?: (key: number) => boolean): ScoredKey[] {
    const index = this.#index;
    const n = index.documentCount;
    if (n === 0) return [];
    this.#reserve(index.docCapacity);
    const scores = this.#scores;
    const touched = this.#touched;
    let touchedCount = 0;
    const lengthNorm = (BM25_K1 * BM25_B) / index.averageLength;
    const constantNorm = BM25_K1 * (1 - BM25_B);
    for (const term of new Set(queryTerms)) {
      const posting = index.posting(term);
      if (posting === null) continue;
      const idf = bm25Idf(posting.length, n);
      const { docs, freqs, length } = posting;
      for (let i = 0; i < length; i++) {
        const doc = docs[i];
        const tf = freqs[i];
        const contribution = (idf * tf * (BM25_K1 + 1)) / (tf + constantNorm + lengthNorm * index.lengthOf(doc));
        if (scores[doc] === 0) touched[touchedCount++] = doc;
        scores[doc] += contribution;
      }
    }
    const best = new TopK(Math.min(topK, Math.max(touchedCount, 1)));
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i];
      best.offer(-scores[doc], index.keyOf(doc), accept);
      scores[doc] = 0;
    }
    const kept = best.drain();
    return Array.from(kept.ids, (key, i) => ({ key, score: -kept.scores[i] }));
  }

  #reserve(capacity: number): void {
    if (this.#scores.length >= capacity) return;
    const size = Math.max(capacity, this.#scores.length * 2);
    this.#scores = new Float64Array(size);
    this.#touched = new Uint32Array(size);
  }
}
