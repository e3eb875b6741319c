// trainInWorker: same model as same-thread training, snapshot in place, a free main thread, abort, bad input.
import { describe, expect, it } from 'vitest';
import { EngineInputError, TrainingAbortedError } from '../../src/engine/errors.js';
import { createVectorIndex } from '../../src/engine/index-factory.js';
import { trainListCodec } from '../../src/engine/index-types.js';
import { IvfIndex } from '../../src/engine/ivf-index.js';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { trainInWorker } from '../../src/engine/train-in-worker.js';
import type { TrainProgress } from '../../src/engine/training-params.js';
import { randomVectors } from './helpers.js';

const D = 16;
const data = randomVectors(3000, D, 51);
const params = { nLists: 20, batchSize: 256, maxIters: 15, tolerance: 0, seed: 9 };

describe('trainInWorker', () => {
  it('gives the same model as trainKMeans, reporting progress after every iteration', async () => {
    const progress: TrainProgress[] = [];
    const inWorker = await trainInWorker(data, D, 'euclidean', params, { onProgress: (p) => progress.push(p) });
    const here = trainKMeans(data, D, 'euclidean', params);
    expect(Array.from(inWorker.centroids)).toEqual(Array.from(here.centroids));
    expect(Array.from(inWorker.lists)).toEqual(Array.from(here.lists));
    expect(inWorker.inertia).toBe(here.inertia);
    expect(progress.filter((p) => p.phase === 'ITERATING').map((p) => p.iteration)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(progress.at(-1)?.phase).toBe('ASSIGNING');
  });

  it('trains in place on an index snapshot (shared memory) and the model applies', async () => {
    const index = new IvfIndex({ dimension: D, metric: 'cosine' });
    index.addBatch(Uint32Array.from({ length: 3000 }, (_, i) => i), data);
    const snapshot = index.trainingSnapshot();
    const before = Array.from(snapshot.vectors[0].subarray(0, 64));
    const result = await trainInWorker(snapshot.vectors, D, 'cosine', params);
    expect(Array.from(snapshot.vectors[0].subarray(0, 64))).toEqual(before); // the rows are read, not changed
    expect(result.lists).toHaveLength(3000);
    index.applyModel(result, { ids: snapshot.ids, lists: result.lists });
    expect(index.nLists).toBe(20);
    expect(index.search(data.subarray(0, D), { topK: 1, nProbes: 1 }).ids[0]).toBe(0);
  });

  it.each(['ivf_sq8', 'ivf_pq'] as const)('trains the %s codec after the centroids, on the same rows, and the model applies', async (type) => {
    const index = createVectorIndex({ type, dimension: D, metric: 'euclidean' });
    index.addBatch(Uint32Array.from({ length: 3000 }, (_, i) => i), data);
    const snapshot = index.trainingSnapshot();
    const result = await trainInWorker(snapshot.vectors, D, 'euclidean', params, {}, { codec: index.spec });
    const here = trainListCodec(index.spec, { source: data, rows: Array.from({ length: 3000 }, (_, i) => i * D), dimension: D }, result.centroids, params.seed);
    expect(Array.from(result.codec ?? [])).toEqual(Array.from(here ?? [1]));
    index.applyModel(result, { ids: snapshot.ids, lists: result.lists });
    expect(index.approximate).toBe(true);
    expect(index.search(data.subarray(0, D), { topK: 5, nProbes: 20 }).ids).toContain(0);
    const flat = await trainInWorker(snapshot.vectors, D, 'euclidean', params, {}, { codec: { type: 'ivf_flat' } });
    expect(flat.codec).toBeUndefined();
  });

  it('keeps the calling thread free while it trains', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await trainInWorker(data, D, 'squared_euclidean', { ...params, maxIters: 60, batchSize: 3000 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });

  it('stops between iterations on abort and rejects with TrainingAbortedError', async () => {
    const controller = new AbortController();
    let last = 0;
    const run = trainInWorker(data, D, 'euclidean', { ...params, maxIters: 100_000 }, {
      signal: controller.signal,
      onProgress: (p) => {
        last = p.iteration;
        if (p.iteration === 3) controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(TrainingAbortedError);
    expect(last).toBeGreaterThanOrEqual(3);
    expect(last).toBeLessThan(100_000);
  });

  it('rejects at once when already aborted, and on bad input', async () => {
    await expect(trainInWorker(data, D, 'euclidean', params, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(TrainingAbortedError);
    await expect(trainInWorker(data, D, 'euclidean', { ...params, nLists: 5000 })).rejects.toBeInstanceOf(EngineInputError);
    await expect(trainInWorker(data, 7, 'euclidean', params)).rejects.toBeInstanceOf(EngineInputError);
  });
});
