// Small deterministic data and naive reference computations shared by the engine tests.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createRandom } from '../../src/engine/random.js';
import type { Metric } from '../../src/engine/metric.js';

/** Uniform values in [-1, 1) from a seeded generator. */
export function randomVectors(count: number, dimension: number, seed = 1): Float32Array {
  const random = createRandom(seed);
  const out = new Float32Array(count * dimension);
  for (let i = 0; i < out.length; i++) out[i] = random() * 2 - 1;
  return out;
}

/** `perCluster` points around each of `centres` (count x dimension), spread `spread`. */
export function clusteredVectors(centres: Float32Array, dimension: number, perCluster: number, spread: number, seed = 2): Float32Array {
  const random = createRandom(seed);
  const clusters = centres.length / dimension;
  const out = new Float32Array(clusters * perCluster * dimension);
  for (let c = 0; c < clusters; c++) {
    for (let p = 0; p < perCluster; p++) {
      const row = (c * perCluster + p) * dimension;
      for (let t = 0; t < dimension; t++) out[row + t] = centres[c * dimension + t] + (random() * 2 - 1) * spread;
    }
  }
  return out;
}

export function row(vectors: Float32Array, dimension: number, i: number): Float32Array {
  return vectors.subarray(i * dimension, (i + 1) * dimension);
}

/** The distance a metric reports, from the definition, in float64. */
export function naiveDistance(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
    sq += (a[i] - b[i]) ** 2;
  }
  if (metric === 'cosine') return 1 - dot / Math.sqrt(na * nb);
  return metric === 'euclidean' ? Math.sqrt(sq) : sq;
}

/** Brute-force top-k ids by naive distance (ties: smaller id first). */
export function naiveTopK(metric: Metric, vectors: Float32Array, ids: ArrayLike<number>, dimension: number, query: ArrayLike<number>, k: number): number[] {
  const scored = Array.from({ length: ids.length }, (_, i) => ({ id: ids[i], d: naiveDistance(metric, query, row(vectors, dimension, i)) }));
  scored.sort((x, y) => x.d - y.d || x.id - y.id);
  return scored.slice(0, k).map((s) => s.id);
}

export function recall(found: ArrayLike<number>, truth: ArrayLike<number>): number {
  const want = new Set(Array.from(truth));
  let hits = 0;
  for (let i = 0; i < found.length; i++) if (want.has(found[i])) hits++;
  return truth.length === 0 ? 1 : hits / truth.length;
}

const EMBEDDINGS = fileURLToPath(new URL('../../../shared/data/bge-m3-alice-pp-1000x1024/', import.meta.url));

/** Whether ../shared/data holds the bge-m3 embeddings; under CI=true they must. */
export const haveEmbeddings = ((): boolean => {
  const present = existsSync(`${EMBEDDINGS}sentence-queries.f32`) && existsSync(`${EMBEDDINGS}paragraph-queries.f32`);
  if (!present && process.env.CI === 'true') throw new Error(`real embeddings missing under ${EMBEDDINGS}`);
  return present;
})();

/** The real embeddings (bge-m3, 1024 dimensions, unit norm): 500 paragraphs and 500 sentences, row-major. */
export function loadEmbeddings(): { dimension: number; paragraphs: Float32Array; sentences: Float32Array } {
  const load = (name: string): Float32Array => {
    const bytes = readFileSync(`${EMBEDDINGS}${name}`);
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  };
  return { dimension: 1024, paragraphs: load('paragraph-queries.f32'), sentences: load('sentence-queries.f32') };
}
