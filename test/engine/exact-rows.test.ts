// Rows an IVF_SQ8 index keeps exact because its codes cannot hold them (exact-rows.ts): a vector
// written after training far outside the trained ranges is found first by its own vector, in
// single and batched search, in every memory of a multi-memory index, after the lists are
// exported and imported, built off the thread or rebuilt; removals and replacements keep the
// bookkeeping right; the next training codes such rows again; and a property test over random
// out-of-range writes and removals checks that every item is found first by its own vector.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createVectorIndex } from '../../src/engine/index-factory.js';
import { trainListCodec } from '../../src/engine/index-types.js';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { buildLists } from '../../src/engine/list-build.js';
import { METRICS, rowStride, type Metric } from '../../src/engine/metric.js';
import { ScalarQuantizer } from '../../src/engine/scalar-quantizer.js';
import { placeRows } from '../../src/engine/shared-rows.js';
import type { EngineSearchResult, ModelAssignment, VectorIndex } from '../../src/engine/vector-index.js';
import { clusteredVectors, naiveDistance, randomVectors, row } from './helpers.js';
import { applyRangeOps, churnOutliers, outliersOf, rangeOps } from './range-writes.js';

const D = 24;
const centres = randomVectors(12, D, 501);
const data = clusteredVectors(centres, D, 40, 0.3, 502);
const N = data.length / D;
const N_LISTS = 8;

/** Vectors by id, as the service's store would give them back (the source of a codes-only retrain). */
type Vectors = Map<number, Float32Array>;

function fresh(metric: Metric, listMemoryBytes?: number): { index: VectorIndex; vectors: Vectors } {
  const index = createVectorIndex({ type: 'ivf_sq8', dimension: D, metric, ...(listMemoryBytes === undefined ? {} : { listMemoryBytes }) });
  const vectors: Vectors = new Map();
  const ids = Uint32Array.from({ length: N }, (_, i) => i);
  index.addBatch(ids, data);
  for (let i = 0; i < N; i++) vectors.set(i, row(data, D, i).slice());
  return { index, vectors };
}

/**
 * The model the service trains (k-means, then the codec fitted on the snapshot's rows) with its
 * assignment; `fitOn` (default every row) picks the rows the codec's ranges are fitted on.
 */
function model(index: VectorIndex, vectors: Vectors, fitOn?: (id: number) => boolean) {
  const snapshot = index.trainingSnapshot((id) => vectors.get(id));
  const trained = trainKMeans(snapshot.vectors, D, index.metric, { nLists: N_LISTS, batchSize: 4096, maxIters: 20, tolerance: 0, seed: 5 });
  const stride = rowStride(D);
  const padded = new Float32Array(snapshot.ids.length * stride);
  for (let i = 0; i < snapshot.ids.length; i++) padded.set(row(snapshot.vectors[0], D, i), i * stride);
  const rows = Array.from({ length: snapshot.ids.length }, (_, i) => i * stride).filter((_, i) => fitOn === undefined || fitOn(snapshot.ids[i]));
  const codec = trainListCodec(index.spec, { source: padded, rows, dimension: D }, trained.centroids, 5) as Uint8Array;
  return { snapshot, model: { centroids: trained.centroids, nLists: trained.nLists, codec }, lists: trained.lists };
}

function train(index: VectorIndex, vectors: Vectors, fitOn?: (id: number) => boolean): void {
  const { snapshot, model: m, lists } = model(index, vectors, fitOn);
  index.applyModel(m, { ids: snapshot.ids, lists }, (id) => vectors.get(id));
}

const outlier = outliersOf(data, D);

/** Whether the index's SQ8 codes hold `vector` (as the lists would code it: cosine unit length). */
function fits(index: VectorIndex, vector: Float32Array): boolean {
  const codec = ScalarQuantizer.fromBytes(index.model()!.codec!, D);
  let norm = 0;
  for (const x of vector) norm += x * x;
  const stored = index.metric === 'cosine' ? vector.map((x) => x / Math.sqrt(norm)) : vector;
  return codec.encodeRow(Float32Array.from(stored), 0, new Int8Array(codec.codeBytes), 0);
}

/** What the service does with a codes-only result: the candidates re-ranked on their exact vectors. */
function reranked(metric: Metric, vectors: Vectors, query: ArrayLike<number>, result: EngineSearchResult): number[] {
  return Array.from(result.ids)
    .map((id) => ({ id, d: naiveDistance(metric, query, vectors.get(id)!) }))
    .sort((a, b) => a.d - b.d || a.id - b.id)
    .map((c) => c.id);
}

/** Each id's own vector searched (single and batched, `nProbes`): the answers' first ids after the re-rank, and the engine's own. */
function selfSearch(index: VectorIndex, vectors: Vectors, ids: number[], nProbes: number, topK = 20) {
  const queries = new Float32Array(ids.length * D);
  ids.forEach((id, i) => queries.set(vectors.get(id)!, i * D));
  const batch = index.searchBatch(queries, { topK, nProbes });
  return ids.map((id, i) => {
    const single = index.search(vectors.get(id)!, { topK, nProbes });
    expect(answersOf(batch[i])).toEqual(answersOf(single));
    return { engineFirst: single.ids[0], first: reranked(index.metric, vectors, vectors.get(id)!, single)[0], distance: single.distances[0] };
  });
}

function answersOf(result: EngineSearchResult): { ids: number[]; distances: number[] } {
  return { ids: Array.from(result.ids), distances: Array.from(result.distances) };
}

describe.each(METRICS)('IVF_SQ8 rows kept exact (%s)', (metric) => {
  it('a vector written after training far outside the ranges is kept exact and found first by its own vector, single and batched', () => {
    const { index, vectors } = fresh(metric);
    train(index, vectors);
    expect(index.exactRows).toBe(0);
    const before = index.memoryBytes();
    const added = [9000, 9001, 9002, 9003];
    added.forEach((id, i) => vectors.set(id, outlier(i + 1)));
    expect(added.every((id) => !fits(index, vectors.get(id)!))).toBe(true);
    index.add(9000, vectors.get(9000)!);
    index.addBatch(Uint32Array.from([9001, 9002, 9003]), Float32Array.from([...vectors.get(9001)!, ...vectors.get(9002)!, ...vectors.get(9003)!]));
    expect(index.exactRows).toBe(4);
    expect(index.size).toBe(N + 4);
    expect(index.memoryBytes()).toBeGreaterThan(before);
    for (const nProbes of [1, 2, N_LISTS]) {
      for (const [i, { engineFirst, first, distance }] of selfSearch(index, vectors, added, nProbes).entries()) {
        expect(first).toBe(engineFirst);
        // Scored exactly: its distance to itself is 0 up to the float32 rounding of ||x||^2 - 2 q.x
        // + ||q||^2 at its magnitude (squared: 1e-5 of ||x||^2; euclidean its square root), not a code distance.
        const squaredNorm = naiveDistance('squared_euclidean', vectors.get(added[i])!, new Float32Array(D));
        const bound = metric === 'cosine' ? 1e-4 : metric === 'squared_euclidean' ? 1e-5 * squaredNorm : Math.sqrt(1e-5 * squaredNorm);
        expect(distance).toBeLessThan(bound);
      }
      expect(selfSearch(index, vectors, added, nProbes).map((r) => r.first)).toEqual(added);
    }
    // In-distribution writes still go to the codes.
    index.add(9100, row(data, D, 3).map((x) => x * 1.01));
    expect(index.exactRows).toBe(4);
  });

  it('removals and replacements keep every id where the locator says, exact or coded', () => {
    const { index, vectors } = fresh(metric);
    train(index, vectors);
    // Removing from the middle moves a list's last exact row into the hole; its id must still be found.
    // A replacement inside the ranges leaves the exact rows; an in-range item replaced by an outlier joins them.
    const { removed } = churnOutliers(index, vectors, outlier, row(data, D, 9).map((x, t) => x * 1.02 + (t === 0 ? 0.05 : 0)), {
      afterWrites: () => expect(index.exactRows).toBe(12),
      afterRemove: (id) => expect(index.remove(id)).toBe(false),
    });
    expect(index.exactRows).toBe(12 - 3 - 1 + 1);
    expect(index.size).toBe(N + 12 - 3);
    const live = [...vectors.keys()].filter((id) => id >= 9000 || id === 4);
    expect(selfSearch(index, vectors, live, 2).map((r) => r.first)).toEqual(live);
    for (const { id, vector } of removed) expect(Array.from(index.search(vector, { topK: 50, nProbes: N_LISTS }).ids)).not.toContain(id);
  });

  it('the next training codes the rows again under its ranges, and keeps exact only those still beyond them', () => {
    const { index, vectors } = fresh(metric);
    train(index, vectors);
    const added = [9000, 9001, 9002];
    for (const [i, id] of added.entries()) {
      vectors.set(id, outlier(i + 3));
      index.add(id, vectors.get(id)!);
    }
    expect(index.exactRows).toBe(3);
    // Ranges fitted on every row (the outliers among them): nothing left exact.
    train(index, vectors);
    expect(index.exactRows).toBe(0);
    expect(index.size).toBe(N + 3);
    expect(selfSearch(index, vectors, added, 2).map((r) => r.first)).toEqual(added);
    // Ranges fitted without them (a sample that missed them): they stay exact through the rebuild.
    train(index, vectors, (id) => id < 9000);
    expect(index.exactRows).toBe(3);
    expect(selfSearch(index, vectors, added, 2).map((r) => r.first)).toEqual(added);
  });

  it('lists built off the thread keep the same exact rows as the in-thread rebuild, and writes after the snapshot join them', () => {
    const setups = [fresh(metric), fresh(metric)];
    for (const { index, vectors } of setups) {
      train(index, vectors);
      for (const id of [9000, 9001]) {
        vectors.set(id, outlier(id));
        index.add(id, vectors.get(id)!);
      }
    }
    const [inThread, offThread] = setups.map(({ index, vectors }) => ({ index, vectors, ...model(index, vectors, (id) => id < 9000) }));
    const built = buildLists(placeRows(offThread.snapshot.vectors[0], D, metric), offThread.snapshot.ids, offThread.lists, offThread.model, offThread.snapshot.layout, 'auto');
    const adopted: ModelAssignment = { ids: offThread.snapshot.ids, lists: offThread.lists, built };
    for (const s of [inThread, offThread]) {
      s.vectors.set(9002, outlier(17));
      s.index.add(9002, s.vectors.get(9002)!);
      s.index.remove(9000);
      s.vectors.delete(9000);
    }
    inThread.index.applyModel(inThread.model, { ids: inThread.snapshot.ids, lists: inThread.lists }, (id) => inThread.vectors.get(id));
    offThread.index.applyModel(offThread.model, adopted, (id) => offThread.vectors.get(id));
    for (const { index, vectors } of [inThread, offThread]) {
      expect(index.exactRows).toBe(2);
      expect(index.has(9000)).toBe(false);
      expect(selfSearch(index, vectors, [9001, 9002], 1).map((r) => r.first)).toEqual([9001, 9002]);
    }
    const sorted = (index: VectorIndex) => index.exportLists()!.lists.map((l) => Array.from(l.exact?.ids ?? []).sort());
    expect(sorted(offThread.index)).toEqual(sorted(inThread.index));
  });

  it('exported lists carry the exact rows, and an import searches as the original', () => {
    const { index, vectors } = fresh(metric);
    train(index, vectors);
    for (const id of [9000, 9001, 9002]) {
      vectors.set(id, outlier(id));
      index.add(id, vectors.get(id)!);
    }
    const contents = index.exportLists()!;
    expect(contents.lists.reduce((n, l) => n + (l.exact?.ids.length ?? 0), 0)).toBe(3);
    const copy = createVectorIndex({ type: 'ivf_sq8', dimension: D, metric });
    copy.importLists(index.model()!, contents);
    expect(copy.exactRows).toBe(3);
    expect(copy.size).toBe(index.size);
    for (const id of [9000, 9001, 9002, 5]) {
      for (const nProbes of [1, N_LISTS]) expect(answersOf(copy.search(vectors.get(id)!, { topK: 10, nProbes }))).toEqual(answersOf(index.search(vectors.get(id)!, { topK: 10, nProbes })));
    }
    copy.remove(9001);
    expect(copy.exactRows).toBe(2);
    expect(index.exactRows).toBe(3);
    // An id both coded and exact is refused.
    const twice = structuredClone(contents);
    twice.lists[0].exact = { ids: Uint32Array.of(twice.lists[1].ids[0]), rows: new Float32Array(D), norms: new Float32Array(1) };
    expect(() => createVectorIndex({ type: 'ivf_sq8', dimension: D, metric }).importLists(index.model()!, twice)).toThrow(/twice/);
  });
});

it('exact rows are found in every memory of an index whose lists span many', () => {
  const { index, vectors } = fresh('squared_euclidean', 4 << 10);
  train(index, vectors);
  expect((index as unknown as { memoryCount: number }).memoryCount).toBeGreaterThan(1);
  const added = Array.from({ length: 16 }, (_, i) => 9000 + i);
  for (const [i, id] of added.entries()) {
    vectors.set(id, outlier(i * 5 + 2));
    index.add(id, vectors.get(id)!);
  }
  expect(index.exactRows).toBe(16);
  for (const nProbes of [1, 3, N_LISTS]) expect(selfSearch(index, vectors, added, nProbes).map((r) => r.first)).toEqual(added);
});

describe('property: random writes beyond the trained ranges', () => {
  it.each(METRICS)('%s: every item is found first by its own vector, exact rows are exactly those the codes cannot hold', (metric) => {
    fc.assert(
      fc.property(fc.array(rangeOps(N), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: N_LISTS }), (ops, nProbes) => {
        const { index, vectors } = fresh(metric);
        train(index, vectors);
        const writes = applyRangeOps(index, vectors, ops, data, D);
        let beyond = 0;
        for (const v of vectors.values()) if (!fits(index, v)) beyond++;
        expect(index.exactRows).toBe(beyond);
        // Written ids whose vectors are unique (a write may copy another's row at scale ~1).
        const written = writes.filter((id) => vectors.has(id) && !fits(index, vectors.get(id)!));
        const found = selfSearch(index, vectors, written, nProbes);
        written.forEach((id, i) => expect(naiveDistance(metric, vectors.get(id)!, vectors.get(found[i].first)!)).toBeLessThan(1e-6));
      }),
      { numRuns: 25, seed: 41 },
    );
  });
});
