// Test-side reference: seeded vectors and a brute-force nearest-neighbour search written
// independently of the engine (plain double-precision loops), to check the service's answers.

import type { Metric } from '../../src/service/types.js';

/** Deterministic uniform [0, 1) numbers (mulberry32), so failures reproduce. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` vectors of `dimension` components in [-1, 1), clustered around `clusters` centres so IVF has structure to find. */
export function seededVectors(n: number, dimension: number, seed: number, clusters = 8): number[][] {
  const random = seededRandom(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dimension }, () => random() * 2 - 1));
  return Array.from({ length: n }, (_, i) => centres[i % clusters].map((c) => Math.fround(c + (random() - 0.5) * 0.4)));
}

export function distance(metric: Metric, a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  let sq = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.fround(a[i]);
    const y = Math.fround(b[i]);
    dot += x * y;
    na += x * x;
    nb += y * y;
    sq += (x - y) * (x - y);
  }
  switch (metric) {
    case 'euclidean':
      return Math.sqrt(sq);
    case 'squared_euclidean':
      return sq;
    case 'cosine':
      return 1 - dot / Math.sqrt(na * nb);
  }
}

export interface ReferenceItem {
  id: string;
  vector: ArrayLike<number>;
}

/** The exact top-k by ascending distance. */
export function bruteForce(metric: Metric, items: readonly ReferenceItem[], query: ArrayLike<number>, topK: number): { id: string; distance: number }[] {
  return items
    .map((item) => ({ id: item.id, distance: distance(metric, item.vector, query) }))
    .sort((x, y) => x.distance - y.distance)
    .slice(0, topK);
}

/** Share of `expected` ids found in `actual`. */
export function recall(actual: readonly string[], expected: readonly string[]): number {
  const found = new Set(actual);
  return expected.filter((id) => found.has(id)).length / expected.length;
}
