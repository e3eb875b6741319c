// An index whose lists span many WebAssembly memories (small memories forced with listMemoryBytes)
// answers exactly as the same index in one memory: every type, through training, inserts, updates,
// deletes, a rebuild on the index's thread, lists built off it and adopted, filtered and batched
// searches; and IVF_FLAT probing every list equals exact search on real bge-m3 embeddings.
import { describe, expect, it } from 'vitest';
import { createVectorIndex } from '../../src/engine/index-factory.js';
import { trainListCodec, type IndexTypeName } from '../../src/engine/index-types.js';
import { IvfIndex } from '../../src/engine/ivf-index.js';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { buildLists } from '../../src/engine/list-build.js';
import { rowStride, type Metric } from '../../src/engine/metric.js';
import { placeRows } from '../../src/engine/shared-rows.js';
import type { EngineSearchResult, IvfModel, VectorIndex } from '../../src/engine/vector-index.js';
import { clusteredVectors, haveEmbeddings, loadEmbeddings, randomVectors, row } from './helpers.js';

const D = 32;
const centres = randomVectors(24, D, 501);
const data = clusteredVectors(centres, D, 60, 0.35, 502);
const N = data.length / D;
const queries = clusteredVectors(centres, D, 2, 0.35, 503);
const Q = queries.length / D;

/**
 * Limits that spread each type's lists over several memories: trained, about 236, 52 and 17 KB
 * here; untrained, every type keeps its 190 KB of float32 rows.
 */
const LIMITS: Record<IndexTypeName, number> = { ivf_flat: 32 << 10, ivf_sq8: 16 << 10, ivf_pq: 4 << 10 };

function create(type: IndexTypeName, metric: Metric, listMemoryBytes?: number): IvfIndex {
  const index = createVectorIndex({
    type, dimension: D, metric,
    ...(type === 'ivf_pq' ? { pqSubvectors: 8 } : {}),
    ...(listMemoryBytes === undefined ? {} : { listMemoryBytes }),
  });
  if (!(index instanceof IvfIndex)) throw new Error('expected an IvfIndex');
  return index;
}

/** A model (centroids, the type's codec, the snapshot's lists) trained as the service does. */
function trainModel(index: VectorIndex, nLists: number, seed: number, source: (id: number) => Float32Array | undefined) {
  const snapshot = index.trainingSnapshot(source);
  const trained = trainKMeans(snapshot.vectors, D, index.metric, { nLists, batchSize: 4096, maxIters: 20, tolerance: 0, seed });
  const stride = rowStride(D);
  const padded = new Float32Array(snapshot.ids.length * stride);
  for (let i = 0; i < snapshot.ids.length; i++) padded.set(row(snapshot.vectors[0], D, i), i * stride);
  const codec = trainListCodec(index.spec, { source: padded, rows: Array.from({ length: snapshot.ids.length }, (_, i) => i * stride), dimension: D }, trained.centroids, seed);
  const model: IvfModel = { centroids: trained.centroids, nLists: trained.nLists, ...(codec ? { codec } : {}) };
  return { snapshot, model, lists: trained.lists };
}

type Answers = { ids: number[]; distances: number[] }[];

function answers(results: EngineSearchResult[]): Answers {
  return results.map((r) => ({ ids: Array.from(r.ids), distances: Array.from(r.distances) }));
}

/** Single and batched searches at every list, at a few, and filtered: what both indexes must agree on. */
function ask(index: IvfIndex): Answers[] {
  const all = index.nLists || undefined;
  const odd = (id: number): boolean => id % 3 !== 0;
  const out: Answers[] = [];
  for (const options of [{ topK: 10, nProbes: all }, { topK: 10, nProbes: 3 }, { topK: 7, nProbes: 4, filter: odd }]) {
    out.push(answers(Array.from({ length: Q }, (_, q) => index.search(row(queries, D, q), options))));
    out.push(answers(index.searchBatch(queries, options)));
  }
  return out;
}

/**
 * The same life for an index: added untrained, trained, written to (new ids, replaced vectors,
 * removals), trained again on its own thread, then a model whose lists were built off it. The
 * answers after each stage, the memories it used untrained (its rows then are one list per
 * memory) and the fewest its trained lists used at any stage.
 */
function live(index: IvfIndex): { stages: Answers[][]; untrained: number; memories: number } {
  const vectors = new Map<number, Float32Array>();
  const source = (id: number): Float32Array | undefined => vectors.get(id);
  const ids = Uint32Array.from({ length: N }, (_, i) => i * 2 + 1);
  ids.forEach((id, i) => vectors.set(id, row(data, D, i).slice()));
  index.addBatch(ids, data);
  const stages: Answers[][] = [ask(index)];
  const untrained = index.memoryCount;
  // Rows read back from whichever memory holds them.
  if (index.rowsAreOriginal) for (let i = 0; i < N; i += 97) expect(index.row(ids[i])).toEqual(row(data, D, i));
  let memories = Infinity;

  const first = trainModel(index, 12, 5, source);
  index.applyModel(first.model, { ids: first.snapshot.ids, lists: first.lists }, source);
  stages.push(ask(index));
  memories = Math.min(memories, index.memoryCount);

  // Writes after training: lists grow past their capacity (and move), rows are replaced, removed.
  const extra = randomVectors(300, D, 504);
  for (let i = 0; i < 300; i++) {
    const vector = row(extra, D, i).map((v, t) => v * 0.2 + centres[(i % 24) * D + t]);
    index.add(10_000 + i, vector);
    vectors.set(10_000 + i, vector);
  }
  for (let i = 0; i < N; i += 5) {
    const vector = row(data, D, (i * 7) % N).map((v) => v + 0.01);
    index.add(ids[i], vector);
    vectors.set(ids[i], vector);
  }
  for (let i = 2; i < N; i += 4) {
    expect(index.remove(ids[i])).toBe(true);
    vectors.delete(ids[i]);
  }
  stages.push(ask(index));
  memories = Math.min(memories, index.memoryCount);

  // A rebuild on the index's thread, from lists that span the memories.
  const second = trainModel(index, 16, 6, source);
  index.applyModel(second.model, { ids: second.snapshot.ids, lists: second.lists }, source);
  stages.push(ask(index));
  memories = Math.min(memories, index.memoryCount);

  // Lists built as the training worker builds them, in memories of the index's limit, adopted.
  const third = trainModel(index, 10, 7, source);
  const built = buildLists(placeRows(third.snapshot.vectors[0], D, index.metric), third.snapshot.ids, third.lists, third.model, third.snapshot.layout, 'auto');
  index.add(20_000, row(queries, D, 0));
  vectors.set(20_000, row(queries, D, 0).slice());
  index.applyModel(third.model, { ids: third.snapshot.ids, lists: third.lists, built }, source);
  stages.push(ask(index));
  memories = Math.min(memories, index.memoryCount);
  return { stages, untrained, memories };
}

describe('an index over many memories answers as the same index in one', () => {
  it.each([
    ['ivf_flat', 'squared_euclidean'],
    ['ivf_flat', 'cosine'],
    ['ivf_sq8', 'euclidean'],
    ['ivf_pq', 'cosine'],
  ] as const)('%s (%s)', (type, metric) => {
    const one = live(create(type, metric));
    const many = live(create(type, metric, LIMITS[type]));
    expect([one.untrained, one.memories]).toEqual([1, 1]);
    expect(many.untrained).toBeGreaterThanOrEqual(4);
    expect(many.memories).toBeGreaterThanOrEqual(4);
    expect(many.stages.length).toBe(one.stages.length);
    many.stages.forEach((stage, s) => {
      stage.forEach((answer, a) => expect(answer, `stage ${s}, search ${a}`).toEqual(one.stages[s][a]));
    });
    // Every result set is non-trivial (a filter or a stage that returned nothing proves nothing).
    for (const stage of many.stages) for (const answer of stage) expect(answer.every((r) => r.ids.length > 0)).toBe(true);
  });

  it('measures its resident bytes across every memory', () => {
    const one = create('ivf_flat', 'squared_euclidean');
    const many = create('ivf_flat', 'squared_euclidean', 16 << 10);
    const ids = Uint32Array.from({ length: N }, (_, i) => i);
    for (const index of [one, many]) {
      index.addBatch(ids, data);
      const { snapshot, model, lists } = trainModel(index, 12, 5, () => undefined);
      index.applyModel(model, { ids: snapshot.ids, lists });
    }
    expect(many.memoryCount).toBeGreaterThan(8);
    // Each memory holds at least one 64 KiB page, and all hold the rows: at least N float32 rows.
    expect(many.memoryBytes()).toBeGreaterThanOrEqual(many.memoryCount * 65_536);
    expect(many.memoryBytes()).toBeGreaterThan(N * D * 4);
    expect(many.memoryBytes()).toBeGreaterThan(one.memoryBytes());
  });
});

// Real embeddings (bge-m3, 1024 dimensions, cosine) in memories of 512 KiB: IVF probing every list
// equals exact search, and probing a few equals the same index in one memory.

describe.skipIf(!haveEmbeddings)('many memories on real bge-m3 embeddings', () => {
  const dimension = 1024;

  it('IVF_FLAT in 512 KiB memories: exact at nProbes = nLists, identical to one memory at a few', () => {
    const { paragraphs: base, sentences: probes } = loadEmbeddings();
    const count = base.length / dimension;
    const baseIds = Uint32Array.from({ length: count }, (_, i) => i + 100);
    const exact = new IvfIndex({ dimension, metric: 'cosine' });
    const one = new IvfIndex({ dimension, metric: 'cosine' });
    const many = new IvfIndex({ dimension, metric: 'cosine', listMemoryBytes: 512 << 10 });
    for (const index of [exact, one, many]) index.addBatch(baseIds, base);
    // Untrained, the rows fill one list per memory: exact search and the snapshot are unchanged.
    expect(many.memoryCount).toBeGreaterThanOrEqual(4);
    const first = probes.subarray(0, 40 * dimension);
    expect(answers(many.searchBatch(first, { topK: 10 }))).toEqual(answers(exact.searchBatch(first, { topK: 10 })));
    const snapshot = one.trainingSnapshot();
    const spread = many.trainingSnapshot();
    expect(Array.from(spread.ids)).toEqual(Array.from(snapshot.ids));
    expect(Buffer.from(spread.vectors[0].buffer, spread.vectors[0].byteOffset, spread.vectors[0].byteLength)
      .equals(Buffer.from(snapshot.vectors[0].buffer, snapshot.vectors[0].byteOffset, snapshot.vectors[0].byteLength))).toBe(true);
    const model = trainKMeans(snapshot.vectors, dimension, 'cosine', { nLists: 16, batchSize: 2048, maxIters: 25, tolerance: 1e-6 });
    for (const index of [one, many]) index.applyModel(model, { ids: snapshot.ids, lists: model.lists });
    expect(many.memoryCount).toBeGreaterThanOrEqual(4);

    const want = answers(exact.searchBatch(probes, { topK: 10 }));
    expect(answers(many.searchBatch(probes, { topK: 10, nProbes: 16 }))).toEqual(want);
    const singles = Array.from({ length: 50 }, (_, q) => many.search(row(probes, dimension, q * 10), { topK: 10, nProbes: 16 }));
    expect(answers(singles)).toEqual(want.filter((_, q) => q % 10 === 0));
    expect(answers(many.searchBatch(probes, { topK: 10, nProbes: 3 }))).toEqual(answers(one.searchBatch(probes, { topK: 10, nProbes: 3 })));

    // Deletes and updates land in both; the answers stay identical.
    for (let i = 0; i < count; i += 3) {
      for (const index of [exact, many]) index.remove(baseIds[i]);
    }
    for (let i = 1; i < count; i += 50) {
      for (const index of [exact, many]) index.add(baseIds[i], row(probes, dimension, i));
    }
    expect(answers(many.searchBatch(probes, { topK: 10, nProbes: 16 }))).toEqual(answers(exact.searchBatch(probes, { topK: 10 })));
    for (const i of [1, 51, 451]) expect(many.search(row(probes, dimension, i), { topK: 1, nProbes: 2 }).ids[0]).toBe(baseIds[i]);
  });
});
