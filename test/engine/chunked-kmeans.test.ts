// Training on a snapshot in several shared memories (chunked-kmeans.ts): when the sample holds
// every row the run is the one-memory run exactly; when it holds fewer, every row still gets its
// nearest centroid, the inertia is exact, the run is deterministic and the index searches as well;
// the worker path (codec and lists built from the chunks) gives the same index as the same thread.
import { describe, expect, it } from 'vitest';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { TrainingAbortedError } from '../../src/engine/errors.js';
import { createVectorIndex } from '../../src/engine/index-factory.js';
import type { IndexTypeName } from '../../src/engine/index-types.js';
import { rowStride, type Metric } from '../../src/engine/metric.js';
import { rowsPerChunk } from '../../src/engine/shared-rows.js';
import { trainInWorker } from '../../src/engine/train-in-worker.js';
import type { TrainProgress } from '../../src/engine/training-params.js';
import type { TrainingSnapshot, VectorIndex } from '../../src/engine/vector-index.js';
import { clusteredVectors, haveEmbeddings, loadEmbeddings, naiveDistance, naiveTopK, randomVectors, recall, row } from './helpers.js';

const D = 32;
const centres = randomVectors(24, D, 301);
const data = clusteredVectors(centres, D, 100, 0.5, 302);
const N = data.length / D;
const ids = Uint32Array.from({ length: N }, (_, i) => i * 2 + 1);
const queries = randomVectors(20, D, 303);
const PARAMS = { nLists: 24, batchSize: 256, maxIters: 30, tolerance: 1e-5, seed: 5 };
/** 64 KiB chunks: 512 rows of 32 floats each, so 2,400 rows make 5 chunks. */
const CHUNK_BYTES = 64 * 1024;
const ROW_BYTES = rowStride(D) * 4;

function filled(type: IndexTypeName, metric: Metric, snapshotChunkBytes?: number): VectorIndex {
  const index = createVectorIndex({ type, dimension: D, metric, ...(snapshotChunkBytes ? { snapshotChunkBytes } : {}) });
  index.addBatch(ids, data);
  return index;
}

/** The row of snapshot position i, wherever its chunk is. */
function snapshotRow(snapshot: TrainingSnapshot, i: number): Float32Array {
  const per = snapshot.vectors[0].length / D;
  return row(snapshot.vectors[Math.floor(i / per)], D, i % per);
}

describe('training on a snapshot in several chunks', () => {
  it('splits the snapshot into chunks that keep the rows in order', () => {
    const whole = filled('ivf_flat', 'squared_euclidean').trainingSnapshot();
    const chunked = filled('ivf_flat', 'squared_euclidean', CHUNK_BYTES).trainingSnapshot();
    expect(whole.vectors).toHaveLength(1);
    expect(chunked.vectors).toHaveLength(Math.ceil(N / rowsPerChunk(D, CHUNK_BYTES)));
    expect(chunked.vectors.length).toBeGreaterThan(2);
    expect(Array.from(chunked.ids)).toEqual(Array.from(whole.ids));
    for (const i of [0, 511, 512, 1500, N - 1]) expect(Array.from(snapshotRow(chunked, i))).toEqual(Array.from(row(whole.vectors[0], D, i)));
  });

  it.each(['squared_euclidean', 'cosine'] as const)('%s: with every row in the sample, equals the run on one memory', (metric) => {
    const whole = filled('ivf_flat', metric).trainingSnapshot();
    const chunked = filled('ivf_flat', metric, CHUNK_BYTES).trainingSnapshot();
    const one = trainKMeans(whole.vectors, D, metric, PARAMS);
    const many = trainKMeans(chunked.vectors, D, metric, PARAMS);
    expect(Array.from(many.centroids)).toEqual(Array.from(one.centroids));
    expect(Array.from(many.lists)).toEqual(Array.from(one.lists));
    expect(many.iterations).toBe(one.iterations);
    expect(many.converged).toBe(one.converged);
    expect(many.inertia).toBeCloseTo(one.inertia, 6);
  });

  it('with a smaller sample: every row gets its nearest centroid, the inertia is exact, and the run repeats under its seed', () => {
    const snapshot = filled('ivf_flat', 'squared_euclidean', CHUNK_BYTES).trainingSnapshot();
    const sampleBytes = 800 * ROW_BYTES; // a third of the rows
    const phases: TrainProgress['phase'][] = [];
    const model = trainKMeans(snapshot.vectors, D, 'squared_euclidean', PARAMS, { onProgress: (p) => phases.push(p.phase) }, { sampleBytes });
    expect(model.lists).toHaveLength(N);
    expect(phases.filter((p) => p === 'ASSIGNING')).toHaveLength(1);
    expect(phases.at(-1)).toBe('ASSIGNING');
    let inertia = 0;
    for (let i = 0; i < N; i++) {
      const x = snapshotRow(snapshot, i);
      const distances = Array.from({ length: PARAMS.nLists }, (_, c) => naiveDistance('squared_euclidean', x, row(model.centroids, D, c)));
      const nearest = Math.min(...distances);
      expect(distances[model.lists[i]]).toBeLessThanOrEqual(nearest * (1 + 1e-5) + 1e-6);
      inertia += distances[model.lists[i]];
    }
    expect(model.inertia).toBeCloseTo(inertia, 0);
    expect(model.inertia / inertia).toBeCloseTo(1, 6);
    // As good a model as training on every row, on this well-clustered data.
    const full = trainKMeans(snapshot.vectors, D, 'squared_euclidean', PARAMS);
    expect(model.inertia).toBeLessThan(full.inertia * 1.05);
    const again = trainKMeans(snapshot.vectors, D, 'squared_euclidean', PARAMS, {}, { sampleBytes });
    expect(Array.from(again.centroids)).toEqual(Array.from(model.centroids));
    expect(Array.from(again.lists)).toEqual(Array.from(model.lists));
  });

  it('stops between chunks when asked', () => {
    const snapshot = filled('ivf_flat', 'squared_euclidean', CHUNK_BYTES).trainingSnapshot();
    let assigning = false;
    const hooks = { onProgress: (p: TrainProgress) => void (assigning ||= p.phase === 'ASSIGNING'), shouldStop: () => assigning };
    expect(() => trainKMeans(snapshot.vectors, D, 'squared_euclidean', PARAMS, hooks, { sampleBytes: 800 * ROW_BYTES })).toThrow(TrainingAbortedError);
  });

  it.each(['ivf_flat', 'ivf_sq8'] as const)('%s: the worker builds the same lists from the chunks as the same thread, and searches find the true neighbours', async (type) => {
    const sampleBytes = 1200 * ROW_BYTES;
    const inWorker = filled(type, 'cosine', CHUNK_BYTES);
    const snapshot = inWorker.trainingSnapshot();
    expect(snapshot.vectors.length).toBeGreaterThan(2);
    const result = await trainInWorker(snapshot.vectors, D, 'cosine', PARAMS, {}, { sampleBytes, codec: inWorker.spec, lists: { ids: snapshot.ids, layout: snapshot.layout } });
    expect(result.built).toBeDefined();
    inWorker.applyModel({ centroids: result.centroids, nLists: result.nLists, ...(result.codec ? { codec: result.codec } : {}) }, { ids: snapshot.ids, lists: result.lists });

    const sameThread = filled(type, 'cosine', CHUNK_BYTES);
    const own = sameThread.trainingSnapshot();
    const model = trainKMeans(own.vectors, D, 'cosine', PARAMS, {}, { sampleBytes });
    expect(Array.from(model.centroids)).toEqual(Array.from(result.centroids));
    expect(Array.from(model.lists)).toEqual(Array.from(result.lists));
    sameThread.applyModel({ centroids: model.centroids, nLists: model.nLists, ...(result.codec ? { codec: result.codec } : {}) }, { ids: own.ids, lists: model.lists });

    let found = 0;
    for (let q = 0; q < queries.length / D; q++) {
      const query = row(queries, D, q);
      const a = inWorker.search(query, { topK: 10, nProbes: PARAMS.nLists });
      const b = sameThread.search(query, { topK: 10, nProbes: PARAMS.nLists });
      expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
      found += recall(a.ids, naiveTopK('cosine', data, ids, D, query, 10));
    }
    // IVF_FLAT probing every list is exact; IVF_SQ8 ranks on 8-bit codes before any re-rank.
    expect(found / (queries.length / D)).toBeGreaterThanOrEqual(type === 'ivf_flat' ? 1 : 0.85);
  });
});

// Real embeddings (bge-m3, 1024 dimensions, cosine), in chunks of 100 rows and sampled.

describe.skipIf(!haveEmbeddings)('chunked training on real bge-m3 embeddings', () => {
  it('finds the exact neighbours of the sentence queries as often as training on one memory', async () => {
    const { dimension, paragraphs: base, sentences: probes } = loadEmbeddings();
    const count = base.length / dimension;
    const baseIds = Uint32Array.from({ length: count }, (_, i) => i);
    const params = { nLists: 16, batchSize: 128, maxIters: 25, tolerance: 1e-6, seed: 3 };
    const recallAt = async (chunkBytes: number | undefined, sampleBytes: number | undefined): Promise<number> => {
      const index = createVectorIndex({ type: 'ivf_flat', dimension, metric: 'cosine', ...(chunkBytes ? { snapshotChunkBytes: chunkBytes } : {}) });
      index.addBatch(baseIds, base);
      const snapshot = index.trainingSnapshot();
      if (chunkBytes) expect(snapshot.vectors.length).toBeGreaterThanOrEqual(5);
      const result = await trainInWorker(snapshot.vectors, dimension, 'cosine', params, {}, { ...(sampleBytes ? { sampleBytes } : {}), lists: { ids: snapshot.ids, layout: snapshot.layout } });
      index.applyModel({ centroids: result.centroids, nLists: result.nLists }, { ids: snapshot.ids, lists: result.lists });
      let sum = 0;
      for (let q = 0; q < probes.length / dimension; q++) {
        const query = probes.subarray(q * dimension, (q + 1) * dimension);
        sum += recall(index.search(query, { topK: 10, nProbes: 4 }).ids, naiveTopK('cosine', base, baseIds, dimension, query, 10));
      }
      return sum / (probes.length / dimension);
    };
    const rowBytes = rowStride(dimension) * 4;
    const one = await recallAt(undefined, undefined);
    const sampled = await recallAt(100 * rowBytes, 250 * rowBytes);
    expect(one).toBeGreaterThan(0.7);
    expect(sampled).toBeGreaterThanOrEqual(one - 0.05);
  });
});
