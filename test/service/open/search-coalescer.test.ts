// Searches of one turn of the event loop run as one engine batch and answer exactly as single
// searches do; searches of other options batch apart, and an engine error reaches only its batch.
import { describe, expect, it, vi } from 'vitest';
import { IvfIndex, trainKMeans } from '../../../src/engine/index.js';
import type { EngineSearchOptions, VectorIndex } from '../../../src/engine/index.js';
import { SearchCoalescer } from '../../../src/service/open/search-coalescer.js';
import { loadEmbeddings, randomVectors, row } from '../../engine/helpers.js';

function trainedIndex(vectors: Float32Array, dimension: number, metric: 'squared_euclidean' | 'cosine'): IvfIndex {
  const count = vectors.length / dimension;
  const index = new IvfIndex({ dimension, metric });
  index.addBatch(Uint32Array.from({ length: count }, (_, i) => i), vectors);
  const snapshot = index.trainingSnapshot();
  const model = trainKMeans(snapshot.vectors, dimension, metric, { nLists: 16, batchSize: count, maxIters: 10, tolerance: 1e-4, seed: 3 });
  index.applyModel(model, { ids: snapshot.ids, lists: model.lists });
  return index;
}

describe('SearchCoalescer', () => {
  it('runs the searches of one turn as one batch, with the answers of single searches (real embeddings, cosine)', async () => {
    const { dimension, paragraphs, sentences } = loadEmbeddings();
    const index = trainedIndex(paragraphs, dimension, 'cosine');
    const batch = vi.spyOn(index, 'searchBatch');
    const coalescer = new SearchCoalescer(() => index);
    const queries = Array.from({ length: 12 }, (_, q) => row(sentences, dimension, q * 7));
    const answers = await Promise.all(queries.map((query) => coalescer.search(query, { topK: 5, nProbes: 3 })));
    expect(batch).toHaveBeenCalledTimes(1);
    answers.forEach((answer, q) => {
      const alone = index.search(queries[q], { topK: 5, nProbes: 3 });
      expect(Array.from(answer.ids)).toEqual(Array.from(alone.ids));
      expect(Array.from(answer.distances)).toEqual(Array.from(alone.distances));
    });
  });

  it('batches searches of other options apart and runs a lone one as a single search', async () => {
    const dimension = 16;
    const index = trainedIndex(randomVectors(2000, dimension, 9), dimension, 'squared_euclidean');
    const batch = vi.spyOn(index, 'searchBatch');
    const single = vi.spyOn(index, 'search');
    const coalescer = new SearchCoalescer(() => index);
    const queries = randomVectors(5, dimension, 10);
    const [a, b, c, lone] = await Promise.all([
      coalescer.search(row(queries, dimension, 0), { topK: 3, nProbes: 2 }),
      coalescer.search(row(queries, dimension, 1), { topK: 3, nProbes: 2 }),
      coalescer.search(row(queries, dimension, 2), { topK: 7, nProbes: 2 }),
      coalescer.search(row(queries, dimension, 3), { topK: 7, nProbes: 4 }),
    ]);
    expect(batch).toHaveBeenCalledTimes(1);
    expect(single).toHaveBeenCalledTimes(2);
    expect([a.ids.length, b.ids.length, c.ids.length, lone.ids.length]).toEqual([3, 3, 7, 7]);
    expect(Array.from(c.ids)).toEqual(Array.from(index.search(row(queries, dimension, 2), { topK: 7, nProbes: 2 }).ids));
    // The next turn starts a new batch.
    await coalescer.search(row(queries, dimension, 4), { topK: 3, nProbes: 2 });
    expect(single).toHaveBeenCalledTimes(4);
  });

  it('gives each search of a batch an equal share of the batch\'s stage timings', async () => {
    const dimension = 32;
    const index = trainedIndex(randomVectors(4000, dimension, 12), dimension, 'squared_euclidean');
    const coalescer = new SearchCoalescer(() => index);
    const queries = randomVectors(3, dimension, 13);
    const timings = [0, 1, 2].map(() => ({ probe: 0, scan: 0, rerank: 0 }));
    await Promise.all(timings.map((t, q) => coalescer.search(row(queries, dimension, q), { topK: 5, nProbes: 4, timings: t })));
    expect(timings[0].scan).toBeGreaterThan(0);
    expect(timings[1]).toEqual(timings[0]);
    expect(timings[2]).toEqual(timings[0]);
  });

  it('rejects every search of a batch the engine failed, and only those', async () => {
    const dimension = 8;
    const index = trainedIndex(randomVectors(500, dimension, 4), dimension, 'squared_euclidean');
    const failing: VectorIndex = Object.assign(Object.create(index) as VectorIndex, {
      searchBatch: (queries: Float32Array, options: EngineSearchOptions) => {
        if (options.topK === 2) throw new Error('engine fault');
        return index.searchBatch(queries, options);
      },
    });
    const coalescer = new SearchCoalescer(() => failing);
    const queries = randomVectors(4, dimension, 5);
    const outcomes = await Promise.allSettled([
      coalescer.search(row(queries, dimension, 0), { topK: 2 }),
      coalescer.search(row(queries, dimension, 1), { topK: 2 }),
      coalescer.search(row(queries, dimension, 2), { topK: 4 }),
      coalescer.search(row(queries, dimension, 3), { topK: 4 }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected', 'fulfilled', 'fulfilled']);
    expect((outcomes[0] as PromiseRejectedResult).reason).toEqual(new Error('engine fault'));
  });
});
