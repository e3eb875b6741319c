// Exact nearest neighbours among a given subset of vectors (the items a selective filter
// accepts): when a filter leaves few candidates, scanning just those beats probing lists that
// hold too few of them. Plain loops over each candidate's own vector; distances as the engine's.
import type { Metric } from './metric.js';
import { TopK } from './top-k.js';

export interface SubsetCandidate {
  id: number;
  vector: Float32Array;
}

/** The `topK` nearest of `candidates` to `query`, ascending distance (ties: smaller id first). */
export function scanSubset(
  metric: Metric,
  query: Float32Array,
  candidates: Iterable<SubsetCandidate>,
  topK: number,
): { ids: Uint32Array; distances: Float32Array } {
  const dimension = query.length;
  let queryNorm = 0;
  for (let j = 0; j < dimension; j++) queryNorm += query[j] * query[j];
  queryNorm = Math.sqrt(queryNorm);
  const best = new TopK(topK);
  let bound = Infinity;
  for (const { id, vector } of candidates) {
    let distance: number;
    if (metric === 'cosine') {
      let dot = 0;
      let norm = 0;
      for (let j = 0; j < dimension; j++) {
        dot += query[j] * vector[j];
        norm += vector[j] * vector[j];
      }
      distance = Math.min(2, Math.max(0, 1 - dot / (queryNorm * Math.sqrt(norm))));
    } else {
      let sum = 0;
      for (let j = 0; j < dimension; j++) {
        const diff = query[j] - vector[j];
        sum += diff * diff;
      }
      distance = metric === 'euclidean' ? Math.sqrt(sum) : sum;
    }
    if (distance <= bound && best.offer(distance, id)) bound = best.bound;
  }
  const { ids, scores } = best.drain();
  return { ids, distances: Float32Array.from(scores) };
}
