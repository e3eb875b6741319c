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
      // Summed in exactDistance's order (four running sums), so both give the same distances.
      const whole = dimension - (dimension % 4);
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      let j = 0;
      for (; j < whole; j += 4) {
        const d0 = query[j] - vector[j];
        const d1 = query[j + 1] - vector[j + 1];
        const d2 = query[j + 2] - vector[j + 2];
        const d3 = query[j + 3] - vector[j + 3];
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
      }
      for (; j < dimension; j++) {
        const diff = query[j] - vector[j];
        s0 += diff * diff;
      }
      const sum = s0 + s1 + (s2 + s3);
      distance = metric === 'euclidean' ? Math.sqrt(sum) : sum;
    }
    if (distance <= bound && best.offer(distance, id)) bound = best.bound;
  }
  const { ids, scores } = best.drain();
  return { ids, distances: Float32Array.from(scores) };
}
