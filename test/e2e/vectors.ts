// Test data for the end-to-end tests: seeded random vectors (clustered or uniform), their base64
// float32 form for the Vector scalar, and brute-force nearest neighbours to check results against.

/** mulberry32: small, seeded, good enough to make test data reproducible. */
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

/** `count` vectors around `clusters` random centres (unit spread), rounded through float32. */
export function clusteredVectors(count: number, dimension: number, clusters: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  const centres = Array.from({ length: clusters }, () => Array.from({ length: dimension }, () => random() * 20 - 10));
  return Array.from({ length: count }, (_, i) => {
    const centre = centres[i % clusters]!;
    return Float32Array.from(centre, (c) => c + (random() - 0.5) * 2);
  });
}

export function uniformVectors(count: number, dimension: number, seed: number): Float32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: dimension }, () => random()));
}

export function toBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

function squaredDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum;
}

/** Ids of the k nearest items by Euclidean distance, nearest first. */
export function exactTopK(query: Float32Array, items: ReadonlyArray<{ id: string; vector: Float32Array }>, k: number): string[] {
  return items
    .map((item) => ({ id: item.id, d: squaredDistance(query, item.vector) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, k)
    .map((hit) => hit.id);
}

/** Fraction of `expected` ids found in `actual`. */
export function recall(actual: readonly string[], expected: readonly string[]): number {
  const found = new Set(actual);
  return expected.filter((id) => found.has(id)).length / expected.length;
}
