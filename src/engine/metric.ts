// The distance metrics: how a vector is validated and stored for each, and the exact distance
// reported to callers.
import { EngineInputError } from './errors.js';

export type Metric = 'euclidean' | 'squared_euclidean' | 'cosine';

export const METRICS: readonly Metric[] = ['euclidean', 'squared_euclidean', 'cosine'];

export function assertMetric(metric: unknown): asserts metric is Metric {
  if (!METRICS.includes(metric as Metric)) {
    throw new EngineInputError(`metric must be one of ${METRICS.join(', ')}, got ${String(metric)}`);
  }
}

/** Floats per stored row: the dimension rounded up to whole f32x4 lane groups (zero padded). */
export function rowStride(dimension: number): number {
  return Math.ceil(dimension / 4) * 4;
}

export function assertDimension(dimension: unknown): asserts dimension is number {
  if (!Number.isInteger(dimension) || (dimension as number) < 1 || (dimension as number) > 65_536) {
    throw new EngineInputError(`dimension must be an integer from 1 to 65536, got ${String(dimension)}`);
  }
}

/**
 * Validates `dimension` numbers of `source` from `sourceOffset` and writes them as float32 to
 * `target` at `targetOffset`, zero-padded to the row stride. Cosine vectors are normalised here,
 * once, so that every later comparison is a plain dot product.
 *
 * Returns the squared norm kept beside the row for ranking by ||x||^2 - 2 q.x: the real one for
 * the euclidean metrics, 0 for cosine (unit rows rank by -q.x alone).
 */
export function encodeVector(
  source: ArrayLike<number>,
  sourceOffset: number,
  dimension: number,
  metric: Metric,
  target: Float32Array,
  targetOffset: number,
  label: string,
): number {
  // Two copies of the loop keep each one monomorphic: typed rows are the bulk path.
  const sum = source instanceof Float32Array
    ? copyFloat32(source, sourceOffset, dimension, target, targetOffset, label)
    : copyNumbers(source, sourceOffset, dimension, target, targetOffset, label);
  const stride = rowStride(dimension);
  for (let j = dimension; j < stride; j++) target[targetOffset + j] = 0;
  if (metric !== 'cosine') {
    // Squared norms (and distances) are float32 in the kernels: one that overflows ranks nothing.
    if (!Number.isFinite(Math.fround(sum))) throw new EngineInputError(`${label} is too large: its squared norm overflows float32`);
    return Math.fround(sum);
  }
  if (sum === 0) throw new EngineInputError(`${label} is the zero vector, which has no cosine distance`);
  const scale = 1 / Math.sqrt(sum);
  for (let j = 0; j < dimension; j++) target[targetOffset + j] *= scale;
  return 0;
}

function notFinite(label: string, j: number, value: unknown): EngineInputError {
  return new EngineInputError(`${label}[${j}] is ${String(value)}: every component must be a finite float32`);
}

function copyFloat32(source: Float32Array, from: number, dimension: number, target: Float32Array, to: number, label: string): number {
  let sum = 0;
  for (let j = 0; j < dimension; j++) {
    const value = source[from + j];
    // NaN and the infinities are exactly the values for which v - v is not 0.
    if (value - value !== 0) throw notFinite(label, j, value);
    target[to + j] = value;
    sum += value * value;
  }
  return sum;
}

function copyNumbers(source: ArrayLike<number>, from: number, dimension: number, target: Float32Array, to: number, label: string): number {
  let sum = 0;
  for (let j = 0; j < dimension; j++) {
    const value = source[from + j];
    const stored = typeof value === 'number' ? Math.fround(value) : Number.NaN;
    if (stored - stored !== 0) throw notFinite(label, j, value);
    target[to + j] = stored;
    sum += stored * stored;
  }
  return sum;
}

/** Checks the length of one vector given as numbers. */
export function assertVectorLength(vector: ArrayLike<number>, dimension: number, label: string): void {
  if (vector == null || typeof vector.length !== 'number') throw new EngineInputError(`${label} must be an array of numbers`);
  if (vector.length !== dimension) {
    throw new EngineInputError(`${label} has ${vector.length} components, the index has dimension ${dimension}`);
  }
}

/**
 * The distance reported for two stored rows, accumulated in float64 so that it does not inherit
 * the cancellation of the dot-product form used for ranking.
 */
/**
 * exactDistance from its four running sums over the whole groups of four (rerankSums computes
 * them in the kernel): adds the remaining coordinates to the first sum and combines, as
 * exactDistance does, so both give the same float64 distance bit for bit.
 */
export function exactDistanceFromSums(
  metric: Metric, s0: number, s1: number, s2: number, s3: number, a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, dimension: number,
): number {
  const whole = dimension - (dimension % 4);
  if (metric === 'cosine') {
    for (let j = whole; j < dimension; j++) s0 += a[aOffset + j] * b[bOffset + j];
    return Math.min(2, Math.max(0, 1 - (s0 + s1 + (s2 + s3))));
  }
  for (let j = whole; j < dimension; j++) {
    const diff = a[aOffset + j] - b[bOffset + j];
    s0 += diff * diff;
  }
  const sum = s0 + s1 + (s2 + s3);
  return metric === 'euclidean' ? Math.sqrt(sum) : sum;
}

export function exactDistance(metric: Metric, a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, dimension: number): number {
  // Four running sums: one chain of dependent float64 adds waited on each add's latency, and
  // this re-rank is a large share of a search at few probes. (Each term is exact in float64:
  // float32 differences and their squares fit; only the order of the additions changed.)
  const whole = dimension - (dimension % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  if (metric === 'cosine') {
    let j = 0;
    for (; j < whole; j += 4) {
      s0 += a[aOffset + j] * b[bOffset + j];
      s1 += a[aOffset + j + 1] * b[bOffset + j + 1];
      s2 += a[aOffset + j + 2] * b[bOffset + j + 2];
      s3 += a[aOffset + j + 3] * b[bOffset + j + 3];
    }
    for (; j < dimension; j++) s0 += a[aOffset + j] * b[bOffset + j];
    return Math.min(2, Math.max(0, 1 - (s0 + s1 + (s2 + s3))));
  }
  let j = 0;
  for (; j < whole; j += 4) {
    const d0 = a[aOffset + j] - b[bOffset + j];
    const d1 = a[aOffset + j + 1] - b[bOffset + j + 1];
    const d2 = a[aOffset + j + 2] - b[bOffset + j + 2];
    const d3 = a[aOffset + j + 3] - b[bOffset + j + 3];
    s0 += d0 * d0;
    s1 += d1 * d1;
    s2 += d2 * d2;
    s3 += d3 * d3;
  }
  for (; j < dimension; j++) {
    const diff = a[aOffset + j] - b[bOffset + j];
    s0 += diff * diff;
  }
  const sum = s0 + s1 + (s2 + s3);
  return metric === 'euclidean' ? Math.sqrt(sum) : sum;
}
