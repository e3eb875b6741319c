// IVF_FLAT rows whose int8 pre-scan code sits at the edge of its range (InvertedLists.offerApart):
// the pre-scan's ranges are fitted at training, so a vector written later far outside them gets a
// clamped code whose score is far from its own, and without an exact score beside it the scan
// left it out of the re-rank window (its own vector did not find it). Checked for every metric, single
// and batched, in every memory of a multi-memory index, after export and import, with lists built
// off the thread, through removals and replacements, and by a property test over random writes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { hasEdgeCode } from '../../src/engine/inverted-lists.js';
import { IvfIndex } from '../../src/engine/ivf-index.js';
import { buildLists } from '../../src/engine/list-build.js';
import { METRICS, type Metric } from '../../src/engine/metric.js';
import { placeRows } from '../../src/engine/shared-rows.js';
import type { EngineSearchResult } from '../../src/engine/vector-index.js';
import { clusteredVectors, naiveDistance, randomVectors, row } from './helpers.js';
import { applyRangeOps, churnOutliers, outliersOf, rangeOps } from './range-writes.js';

const D = 24;
const centres = randomVectors(12, D, 601);
const data = clusteredVectors(centres, D, 40, 0.3, 602);
const N = data.length / D;
const N_LISTS = 8;

function fresh(metric: Metric, listMemoryBytes?: number): { index: IvfIndex; vectors: Map<number, Float32Array> } {
  const index = new IvfIndex({ dimension: D, metric, ...(listMemoryBytes === undefined ? {} : { listMemoryBytes }) });
  index.addBatch(Uint32Array.from({ length: N }, (_, i) => i), data);
  const vectors = new Map<number, Float32Array>();
  for (let i = 0; i < N; i++) vectors.set(i, row(data, D, i).slice());
  return { index, vectors };
}

function model(index: IvfIndex) {
  const snapshot = index.trainingSnapshot();
  const trained = trainKMeans(snapshot.vectors, D, index.metric, { nLists: N_LISTS, batchSize: 4096, maxIters: 20, tolerance: 0, seed: 7 });
  return { snapshot, model: { centroids: trained.centroids, nLists: trained.nLists }, lists: trained.lists };
}

function train(index: IvfIndex): void {
  const { snapshot, model: m, lists } = model(index);
  index.applyModel(m, { ids: snapshot.ids, lists });
}

const outlier = outliersOf(data, D);

function answersOf(result: EngineSearchResult): { ids: number[]; distances: number[] } {
  return { ids: Array.from(result.ids), distances: Array.from(result.distances) };
}

/** Searches each id's own vector, batched and single (which must agree, without repeated ids); the first hit of each. */
function firstHits(index: IvfIndex, vectors: Map<number, Float32Array>, ids: number[], nProbes: number, topK = 5): number[] {
  const queries = new Float32Array(ids.length * D);
  ids.forEach((id, i) => queries.set(vectors.get(id)!, i * D));
  const batch = index.searchBatch(queries, { topK, nProbes });
  return ids.map((id, i) => {
    const single = index.search(vectors.get(id)!, { topK, nProbes });
    expect(answersOf(batch[i])).toEqual(answersOf(single));
    expect(new Set(single.ids).size).toBe(single.ids.length);
    return single.ids[0];
  });
}

describe.each(METRICS)('IVF_FLAT rows with an edge pre-scan code (%s)', (metric) => {
  it('a vector written after training far outside the ranges is found first by its own vector, at its exact distance', () => {
    const { index, vectors } = fresh(metric);
    train(index);
    expect(index.edgeRows).toBe(0);
    const added = [9000, 9001, 9002, 9003];
    added.forEach((id, i) => vectors.set(id, outlier(i + 1)));
    index.add(9000, vectors.get(9000)!);
    index.addBatch(Uint32Array.from(added.slice(1)), Float32Array.from(added.slice(1).flatMap((id) => [...vectors.get(id)!])));
    expect(index.edgeRows).toBe(4);
    for (const nProbes of [1, 2, N_LISTS - 1]) {
      expect(firstHits(index, vectors, added, nProbes)).toEqual(added);
      for (const id of added) {
        const hit = index.search(vectors.get(id)!, { topK: 3, nProbes });
        // The re-rank's exact distance, not a code's.
        expect(hit.distances[0]).toBeCloseTo(0, 3);
        expect(hit.exact).toBe(false);
      }
    }
    // In-distribution writes get ordinary codes.
    index.add(9100, row(data, D, 3).map((x) => x * 1.01));
    expect(index.edgeRows).toBe(4);
  });

  it('removals and replacements keep the edge rows right', () => {
    const { index, vectors } = fresh(metric);
    train(index);
    // An outlier replaced inside the ranges leaves the edge rows; an in-range item replaced by an outlier joins them.
    const { added, removed } = churnOutliers(index, vectors, outlier, row(data, D, 9).map((x) => x * 1.02), {
      afterWrites: () => expect(index.edgeRows).toBe(12),
    });
    expect(index.edgeRows).toBe(12 - 3 - 1 + 1);
    const live = added.filter((id) => vectors.has(id) && id !== 9005).concat(4);
    expect(firstHits(index, vectors, live, 1)).toEqual(live);
    for (const { id, vector } of removed) expect(Array.from(index.search(vector, { topK: 50, nProbes: 2 }).ids)).not.toContain(id);
    // The next training fits its ranges on every row: no edge rows left, and every item still found.
    train(index);
    expect(index.edgeRows).toBe(0);
    expect(firstHits(index, vectors, live, 1)).toEqual(live);
  });

  it('lists built off the thread, and exported then imported lists, keep the same edge rows', () => {
    const { index, vectors } = fresh(metric);
    train(index);
    for (const id of [9000, 9001]) {
      vectors.set(id, outlier(id));
      index.add(id, vectors.get(id)!);
    }
    // A rebuild whose ranges come from a snapshot without the last write: that write keeps an edge code.
    const next = model(index);
    const built = buildLists(placeRows(next.snapshot.vectors[0], D, metric), next.snapshot.ids, next.lists, next.model, next.snapshot.layout, 'auto');
    vectors.set(9002, outlier(17));
    index.add(9002, vectors.get(9002)!);
    index.applyModel(next.model, { ids: next.snapshot.ids, lists: next.lists, built });
    expect(index.edgeRows).toBe(1);
    expect(firstHits(index, vectors, [9000, 9001, 9002], 1)).toEqual([9000, 9001, 9002]);

    const copy = new IvfIndex({ dimension: D, metric });
    copy.importLists(index.model()!, index.exportLists()!);
    expect(copy.edgeRows).toBe(1);
    for (const id of [9000, 9001, 9002, 5]) {
      for (const nProbes of [1, N_LISTS]) expect(answersOf(copy.search(vectors.get(id)!, { topK: 10, nProbes }))).toEqual(answersOf(index.search(vectors.get(id)!, { topK: 10, nProbes })));
    }
  });
});

it('edge rows are found in every memory of an index whose lists span many', () => {
  const { index, vectors } = fresh('squared_euclidean', 16 << 10);
  train(index);
  expect((index as unknown as { memoryCount: number }).memoryCount).toBeGreaterThan(1);
  const added = Array.from({ length: 16 }, (_, i) => 9000 + i);
  for (const [i, id] of added.entries()) {
    vectors.set(id, outlier(i * 5 + 2));
    index.add(id, vectors.get(id)!);
  }
  expect(index.edgeRows).toBe(16);
  for (const nProbes of [1, 3]) expect(firstHits(index, vectors, added, nProbes)).toEqual(added);
});

it('an edge code is found four codes at a time exactly where a code-by-code test finds one', () => {
  const codes = fc.array(fc.oneof(fc.integer({ min: -127, max: 127 }), fc.constantFrom(127, -127, 126, -126, 0x7e, -128)), { minLength: 4, maxLength: 64 });
  fc.assert(
    fc.property(codes, fc.nat(3), (values, skip) => {
      const i8 = new Int8Array(Math.ceil((values.length + 4 * skip) / 16) * 16 + 16);
      i8.set(values, 4 * skip);
      const at = 4 * skip;
      const bytes = Math.floor(values.length / 4) * 4;
      const expected = Array.from(i8.subarray(at, at + bytes)).some((c) => c === 127 || c === -127);
      expect(hasEdgeCode(new Uint32Array(i8.buffer), at, bytes)).toBe(expected);
    }),
    { numRuns: 2000, seed: 44 },
  );
});

describe('property: random writes and removals after training', () => {
  it.each(METRICS)('%s: every written item is found first by its own vector, single and batched alike', (metric) => {
    fc.assert(
      fc.property(fc.array(rangeOps(N), { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: N_LISTS - 1 }), (ops, nProbes) => {
        const { index, vectors } = fresh(metric);
        train(index);
        const written = applyRangeOps(index, vectors, ops, data, D).filter((id) => vectors.has(id));
        const found = firstHits(index, vectors, written, nProbes);
        // Its own vector, or one equal to it under the metric (a write may copy another's row).
        written.forEach((id, i) => expect(naiveDistance(metric, vectors.get(id)!, vectors.get(found[i])!)).toBeLessThan(1e-6));
      }),
      { numRuns: 25, seed: 43 },
    );
  });
});
