// The exact re-rank of a codes-only search (Faiss's IndexRefine): the candidates the code scan
// kept are scored on their full vectors, as IVF_FLAT scores its rows (float32, unit length for
// cosine, distance accumulated in float64), and the best topK are kept in (distance, id) order.
import { exactDistance, rowStride, encodeVector, type Metric } from './metric.js';
import type { EngineSearchResult, VectorSource } from './vector-index.js';

/**
 * Re-ranks `candidates` for `query` on the vectors `source` gives (a candidate it has none for
 * is dropped: it was removed meanwhile). The result is exact in its distances, not approximate.
 */
export function refineCandidates(
  metric: Metric, dimension: number, query: ArrayLike<number>, candidates: EngineSearchResult, source: VectorSource, topK: number,
): EngineSearchResult {
  const stride = rowStride(dimension);
  const rows = new Float32Array(stride * 2);
  encodeVector(query, 0, dimension, metric, rows, 0, 'query');
  const scored: { id: number; distance: number }[] = [];
  for (const id of candidates.ids) {
    const vector = source(id);
    if (vector === undefined) continue;
    encodeVector(vector, 0, dimension, metric, rows, stride, `vector of id ${id}`);
    scored.push({ id, distance: exactDistance(metric, rows, 0, rows, stride, dimension) });
  }
  scored.sort((a, b) => a.distance - b.distance || a.id - b.id);
  const kept = scored.slice(0, topK);
  return {
    ids: Uint32Array.from(kept, (c) => c.id),
    distances: Float32Array.from(kept, (c) => c.distance),
    exact: candidates.exact,
  };
}
