// trainKMeans: recovery of separated clusters, the mini-batch stopping rule, empty-cluster repair, determinism,
// progress, cancellation, bad input.
import { describe, expect, it } from 'vitest';
import { EngineInputError, TrainingAbortedError } from '../../src/engine/errors.js';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { NO_IMPROVEMENT_PATIENCE } from '../../src/engine/kmeans.js';
import { embeddingLikeData } from '../../bench/data/embedding-like.js';
import type { TrainParams, TrainProgress, TrainResult } from '../../src/engine/training-params.js';
import { clusteredVectors, naiveDistance, randomVectors, row } from './helpers.js';

const D = 16;
const CLUSTERS = 8;
const PER = 60;
// Eight centres 10 apart along different axes; points within 0.5 of theirs: well separated.
const centres = new Float32Array(CLUSTERS * D);
for (let c = 0; c < CLUSTERS; c++) centres[c * D + c] = 10;
const separated = clusteredVectors(centres, D, PER, 0.5, 3);

const lloyd: TrainParams = { nLists: CLUSTERS, batchSize: 10_000, maxIters: 50, tolerance: 1e-6, seed: 1 };
const miniBatch: TrainParams = { nLists: CLUSTERS, batchSize: 64, maxIters: 60, tolerance: 0, seed: 1 };
/** Tolerance 0 runs every iteration; any positive one lets the mini-batch stopping rule act. */
const stopping: TrainParams = { ...miniBatch, tolerance: 1e-6 };

/** Each true cluster lands in exactly one list, and each list holds exactly one cluster. */
function expectRecovered(result: TrainResult): void {
  const listOfCluster = new Map<number, number>();
  for (let c = 0; c < CLUSTERS; c++) {
    const lists = new Set(Array.from(result.lists.subarray(c * PER, (c + 1) * PER)));
    expect(lists.size).toBe(1);
    listOfCluster.set(c, [...lists][0]);
  }
  expect(new Set(listOfCluster.values()).size).toBe(CLUSTERS);
  for (const [c, list] of listOfCluster) {
    expect(naiveDistance('euclidean', row(result.centroids, D, list), row(centres, D, c))).toBeLessThan(0.3);
  }
}

function naiveInertia(vectors: Float32Array, result: TrainResult, d: number): number {
  let sum = 0;
  for (let i = 0; i < result.lists.length; i++) sum += naiveDistance('squared_euclidean', row(vectors, d, i), row(result.centroids, d, result.lists[i]));
  return sum;
}

describe('trainKMeans', () => {
  it('full-batch (Lloyd) converges on well-separated clusters and recovers them', () => {
    const result = trainKMeans(separated, D, 'squared_euclidean', lloyd);
    expect(result.converged).toBe(true);
    expect(result.iterations).toBeLessThan(lloyd.maxIters);
    expect(result.shift).toBeLessThanOrEqual(lloyd.tolerance);
    expectRecovered(result);
  });

  it('mini-batch converges on well-separated clusters, stops early and recovers them', () => {
    const result = trainKMeans(separated, D, 'squared_euclidean', stopping);
    expect(result.converged).toBe(true);
    expect(result.iterations).toBeLessThan(stopping.maxIters);
    expectRecovered(result);
  });

  it('mini-batch with tolerance 0 runs every iteration and recovers the clusters', () => {
    const result = trainKMeans(separated, D, 'squared_euclidean', miniBatch);
    expect(result.iterations).toBe(miniBatch.maxIters);
    expect(result.converged).toBe(false);
    expectRecovered(result);
  });

  it('reports the exact inertia of the lists it returns, each row in its nearest list', () => {
    const data = randomVectors(300, 6, 5);
    const result = trainKMeans(data, 6, 'squared_euclidean', { nLists: 10, batchSize: 32, maxIters: 20, tolerance: 0 });
    expect(result.inertia).toBeCloseTo(naiveInertia(data, result, 6), 1);
    for (let i = 0; i < 300; i++) {
      const own = naiveDistance('squared_euclidean', row(data, 6, i), row(result.centroids, 6, result.lists[i]));
      for (let c = 0; c < 10; c++) expect(own).toBeLessThanOrEqual(naiveDistance('squared_euclidean', row(data, 6, i), row(result.centroids, 6, c)) + 1e-5);
    }
  });

  it('puts every row in its nearest list on embedding-like data, where int16 scores leave close calls to the exact path', () => {
    const d = 48;
    const { base } = embeddingLikeData({ count: 3000, queries: 1, dimension: d, seed: 11 });
    const result = trainKMeans(base, d, 'squared_euclidean', { nLists: 40, batchSize: 256, maxIters: 15, tolerance: 0 });
    expect(result.inertia).toBeCloseTo(naiveInertia(base, result, d), 0);
    let closest = 0;
    for (let i = 0; i < 3000; i++) {
      const distances = Array.from({ length: 40 }, (_, c) => naiveDistance('squared_euclidean', row(base, d, i), row(result.centroids, d, c)));
      const own = distances[result.lists[i]];
      const sorted = [...distances].sort((a, b) => a - b);
      expect(own).toBeLessThanOrEqual(sorted[0] + 2e-6 * (1 + sorted[0]));
      if (sorted[1] - sorted[0] < 1e-2 * sorted[0]) closest++;
    }
    expect(closest).toBeGreaterThan(0); // the data has rows within 1% of two centroids
  });

  it('is deterministic under a fixed seed, and the seed matters', () => {
    const data = randomVectors(500, 8, 6);
    const params = { nLists: 12, batchSize: 50, maxIters: 15, tolerance: 0, seed: 42 };
    const a = trainKMeans(data, 8, 'euclidean', params);
    const b = trainKMeans(data, 8, 'euclidean', params);
    const c = trainKMeans(data, 8, 'euclidean', { ...params, seed: 43 });
    expect(Array.from(a.centroids)).toEqual(Array.from(b.centroids));
    expect(Array.from(a.lists)).toEqual(Array.from(b.lists));
    expect(a.inertia).toBe(b.inertia);
    expect(Array.from(a.centroids)).not.toEqual(Array.from(c.centroids));
  });

  it('relocates a centroid that wins no rows (Lloyd) instead of leaving an empty list', () => {
    // Start with one centroid far from every row: it wins nothing in the first assignment.
    const start = new Float32Array(CLUSTERS * D);
    for (let c = 0; c < CLUSTERS - 1; c++) start.set(row(separated, D, c * PER), c * D);
    start.fill(1000, (CLUSTERS - 1) * D);
    const result = trainKMeans(separated, D, 'squared_euclidean', lloyd, {}, { initialCentroids: start });
    expect(new Set(result.lists).size).toBe(CLUSTERS);
    expectRecovered(result);
  });

  it('relocates a mini-batch centroid that stops winning rows', () => {
    const start = new Float32Array(CLUSTERS * D);
    for (let c = 0; c < CLUSTERS - 1; c++) start.set(row(separated, D, c * PER), c * D);
    start.fill(1000, (CLUSTERS - 1) * D);
    const result = trainKMeans(separated, D, 'squared_euclidean', miniBatch, {}, { initialCentroids: start });
    expect(new Set(result.lists).size).toBe(CLUSTERS);
    expectRecovered(result);
  });

  it('copes with fewer distinct rows than lists: finite centroids, zero inertia', () => {
    const distinct = randomVectors(5, 4, 7);
    const data = new Float32Array(100 * 4);
    for (let i = 0; i < 100; i++) data.set(row(distinct, 4, i % 5), i * 4);
    for (const batchSize of [1000, 16]) {
      const result = trainKMeans(data, 4, 'squared_euclidean', { nLists: 8, batchSize, maxIters: 10, tolerance: 0 });
      expect(result.centroids.every(Number.isFinite)).toBe(true);
      expect(result.inertia).toBeCloseTo(0, 6);
      expect(new Set(result.lists).size).toBe(5);
    }
  });

  it('trains cosine on unit-length rows: scaled copies share a list', () => {
    const data = randomVectors(200, 8, 8);
    const scaled = new Float32Array(400 * 8);
    scaled.set(data);
    for (let i = 0; i < 200 * 8; i++) scaled[200 * 8 + i] = data[i] * 7;
    const result = trainKMeans(scaled, 8, 'cosine', { nLists: 6, batchSize: 1000, maxIters: 30, tolerance: 1e-6 });
    for (let i = 0; i < 200; i++) expect(result.lists[200 + i]).toBe(result.lists[i]);
  });

  it('gives the same partition on the SIMD and plain kernels', () => {
    const simd = trainKMeans(separated, D, 'squared_euclidean', miniBatch, {}, { kernels: 'auto' });
    const plain = trainKMeans(separated, D, 'squared_euclidean', miniBatch, {}, { kernels: 'plain' });
    expect(Array.from(plain.lists)).toEqual(Array.from(simd.lists));
    for (let i = 0; i < simd.centroids.length; i++) expect(plain.centroids[i]).toBeCloseTo(simd.centroids[i], 3);
  });

  it('reports progress after every iteration, phase by phase', () => {
    const seen: TrainProgress[] = [];
    const result = trainKMeans(separated, D, 'squared_euclidean', { ...miniBatch, maxIters: 5 }, { onProgress: (p) => seen.push(p) });
    expect(seen.map((p) => p.phase)).toEqual(['INITIALIZING', 'ITERATING', 'ITERATING', 'ITERATING', 'ITERATING', 'ITERATING', 'ASSIGNING']);
    expect(seen.slice(1, 6).map((p) => p.iteration)).toEqual([1, 2, 3, 4, 5]);
    expect(Number.isNaN(seen[0].shift)).toBe(true);
    for (const p of seen.slice(1)) {
      expect(Number.isFinite(p.shift) && Number.isFinite(p.inertia)).toBe(true);
      expect(p.maxIters).toBe(5);
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i].elapsedMs).toBeGreaterThanOrEqual(seen[i - 1].elapsedMs);
    expect(result.iterations).toBe(5);
  });

  it('stops between iterations when asked, with TrainingAbortedError', () => {
    let iterations = 0;
    const run = (): TrainResult =>
      trainKMeans(separated, D, 'squared_euclidean', miniBatch, {
        onProgress: (p) => {
          if (p.phase === 'ITERATING') iterations = p.iteration;
        },
        shouldStop: () => iterations >= 3,
      });
    expect(run).toThrow(TrainingAbortedError);
    expect(iterations).toBe(3);
  });

  it('rejects bad parameters and bad vectors', () => {
    const ok = { nLists: 4, batchSize: 10, maxIters: 5, tolerance: 0 };
    const data = randomVectors(20, 4, 9);
    const bad: [Float32Array, number, TrainParams][] = [
      [data, 4, { ...ok, nLists: 21 }],
      [data, 4, { ...ok, nLists: 0 }],
      [data, 4, { ...ok, batchSize: 0 }],
      [data, 4, { ...ok, maxIters: 1.5 }],
      [data, 4, { ...ok, tolerance: -1 }],
      [data, 3, ok],
      [new Float32Array(0), 4, ok],
    ];
    for (const [vectors, d, params] of bad) expect(() => trainKMeans(vectors, d, 'euclidean', params)).toThrow(EngineInputError);
    const nan = data.slice();
    nan[7] = Number.NaN;
    expect(() => trainKMeans(nan, 4, 'euclidean', ok)).toThrow(/finite/);
    expect(() => trainKMeans(data, 4, 'euclidean', ok, {}, { initialCentroids: new Float32Array(3) })).toThrow(EngineInputError);
  });
});

describe('trainKMeans mini-batch stopping rule', () => {
  /** Smoothed progress of every iteration of a run. */
  function traced(vectors: Float32Array, d: number, params: TrainParams): { result: TrainResult; steps: TrainProgress[] } {
    const steps: TrainProgress[] = [];
    const result = trainKMeans(vectors, d, 'squared_euclidean', params, { onProgress: (p) => p.phase === 'ITERATING' && steps.push(p) });
    return { result, steps };
  }

  it('stops when the smoothed inertia has not reached a new low for the patience, and not before', () => {
    const { result, steps } = traced(separated, D, stopping);
    expect(result.converged).toBe(true);
    expect(steps.length).toBe(result.iterations);
    // The first batch is measured against the seeds and takes no part; the lowest average after it
    // came exactly the patience before the end, and every later one was no lower.
    const averaged = steps.slice(1).map((p) => p.inertia);
    const lowest = averaged.indexOf(Math.min(...averaged));
    expect(averaged.length - 1 - lowest).toBe(NO_IMPROVEMENT_PATIENCE);
    // It did not stop at an earlier chance: new lows came at most the patience apart.
    let lastLow = 0;
    for (let i = 1; i <= lowest; i++) {
      if (averaged[i] < Math.min(...averaged.slice(0, i))) {
        expect(i - lastLow).toBeLessThanOrEqual(NO_IMPROVEMENT_PATIENCE);
        lastLow = i;
      }
    }
  });

  it('stops at the first iteration whose smoothed shift reaches tolerance', () => {
    const tolerance = 1e-3;
    const { result, steps } = traced(separated, D, { ...stopping, tolerance });
    expect(result.converged).toBe(true);
    const first = steps.findIndex((p) => p.shift <= tolerance);
    expect(first).toBeGreaterThan(0);
    expect(result.iterations).toBe(first + 1);
    expect(result.iterations).toBeLessThan(traced(separated, D, stopping).result.iterations);
  });

  it('smooths shift and inertia: each batch moves the average an eighth of the way', () => {
    // 480 rows, 8 lists, batches of 64: the forgetting window is 8 x 64 rows = 8 batches, so an
    // average falls by at most an eighth per batch (batch values are >= 0); raw values jump.
    const { steps } = traced(separated, D, { ...miniBatch, maxIters: 40, tolerance: 0 });
    for (let i = 2; i < steps.length; i++) {
      expect(steps[i].shift).toBeGreaterThanOrEqual(steps[i - 1].shift * (7 / 8) * (1 - 1e-12));
      expect(steps[i].inertia).toBeGreaterThanOrEqual(steps[i - 1].inertia * (7 / 8) * (1 - 1e-12));
    }
  });

  it('stops well before maxIters on benchmark-shaped data, close to a full Lloyd run', () => {
    const data = embeddingLikeData({ count: 20_000, queries: 0, dimension: 64, seed: 7 });
    const params: TrainParams = { nLists: 64, batchSize: 1024, maxIters: 200, tolerance: 1e-6, seed: 3 };
    const a = traced(data.base, 64, params);
    expect(a.result.converged).toBe(true);
    expect(a.result.iterations).toBeLessThan(params.maxIters);
    expect(a.result.shift).toBeGreaterThan(params.tolerance); // stopped by the inertia rule, not the shift
    const lloyd = trainKMeans(data.base, 64, 'squared_euclidean', { ...params, batchSize: 20_000, maxIters: 30 });
    expect(a.result.inertia / lloyd.inertia).toBeLessThan(1.03);
    // Deterministic under the seed: the same stop, the same model.
    const b = traced(data.base, 64, params);
    expect(b.result.iterations).toBe(a.result.iterations);
    expect(Array.from(b.result.centroids)).toEqual(Array.from(a.result.centroids));
    expect(b.steps.map((p) => p.inertia)).toEqual(a.steps.map((p) => p.inertia));
  });
});
