// Seeded benchmark data shaped like real embeddings: points near a low-dimensional latent space
// (24 dimensions) mapped linearly into 128, drawn from a mixture of about 1,000 overlapping
// components of uneven weight and spread, plus a little isotropic noise. Clusters that separate
// cleanly make every IVF index look perfect; these do not (see the recall table of the bench).
import { createRandom, type Random } from '../../src/engine/random.js';

export interface EmbeddingLikeOptions {
  count: number;
  queries: number;
  dimension?: number;
  latentDimension?: number;
  components?: number;
  /** Spread of a component relative to the spread of the component centres (overlap). */
  componentSpread?: number;
  /** Isotropic noise in the full space, relative to the signal per dimension. */
  noise?: number;
  seed?: number;
}

export interface EmbeddingLikeData {
  dimension: number;
  base: Float32Array;
  queries: Float32Array;
}

function gaussian(random: Random): () => number {
  let spare = Number.NaN;
  return () => {
    if (!Number.isNaN(spare)) {
      const value = spare;
      spare = Number.NaN;
      return value;
    }
    let u = 0;
    while (u === 0) u = random();
    const r = Math.sqrt(-2 * Math.log(u));
    const theta = 2 * Math.PI * random();
    spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  };
}

export function embeddingLikeData(options: EmbeddingLikeOptions): EmbeddingLikeData {
  const dimension = options.dimension ?? 128;
  const latent = options.latentDimension ?? 24;
  const components = options.components ?? 1000;
  const spread = options.componentSpread ?? 0.7;
  const noise = options.noise ?? 0.2;
  const random = createRandom(options.seed ?? 42);
  const normal = gaussian(random);

  // Mixing weights follow a Zipf-like law, as topics in a corpus do; spreads vary by 2x either way.
  const weights = new Float64Array(components);
  let total = 0;
  for (let c = 0; c < components; c++) total += weights[c] = 1 / Math.pow(c + 1, 0.6);
  const cumulative = new Float64Array(components);
  let running = 0;
  for (let c = 0; c < components; c++) cumulative[c] = running += weights[c] / total;
  const centres = new Float64Array(components * latent);
  for (let i = 0; i < centres.length; i++) centres[i] = normal();
  const scales = new Float64Array(components);
  for (let c = 0; c < components; c++) scales[c] = spread * Math.pow(2, 2 * random() - 1);

  // A random linear map from the latent space into the embedding space.
  const map = new Float64Array(dimension * latent);
  for (let i = 0; i < map.length; i++) map[i] = normal() / Math.sqrt(latent);
  const z = new Float64Array(latent);
  const draw = (target: Float32Array, row: number): void => {
    const u = random();
    let lo = 0;
    let hi = components - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    for (let t = 0; t < latent; t++) z[t] = centres[lo * latent + t] + scales[lo] * normal();
    for (let j = 0; j < dimension; j++) {
      let sum = 0;
      for (let t = 0; t < latent; t++) sum += map[j * latent + t] * z[t];
      target[row * dimension + j] = sum + noise * normal();
    }
  };
  const base = new Float32Array(options.count * dimension);
  for (let i = 0; i < options.count; i++) draw(base, i);
  const queries = new Float32Array(options.queries * dimension);
  for (let i = 0; i < options.queries; i++) draw(queries, i);
  return { dimension, base, queries };
}
