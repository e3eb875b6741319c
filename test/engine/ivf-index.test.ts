// IvfIndex: exact and probing search against naive scans, batch = single, churn, filters, models, real embeddings.
import { describe, expect, it } from 'vitest';
import { EngineInputError } from '../../src/engine/errors.js';
import { defaultNProbes, IvfIndex } from '../../src/engine/ivf-index.js';
import { QUERY_TILE } from '../../src/engine/kernels.js';
import { BATCH_ROWS, MAX_GROUP_QUERIES, MIN_GROUP, groupQueries } from '../../src/engine/list-scanner.js';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { METRICS, type Metric } from '../../src/engine/metric.js';
import { clusteredVectors, haveEmbeddings, loadEmbeddings, naiveDistance, naiveTopK, randomVectors, recall, row } from './helpers.js';

const D = 24;
const N = 1500;
const data = randomVectors(N, D, 31);
const ids = Uint32Array.from({ length: N }, (_, i) => 1000 + 3 * i);
const queries = randomVectors(20, D, 32);

function filled(metric: Metric, kernels: 'auto' | 'plain' = 'auto'): IvfIndex {
  const index = new IvfIndex({ dimension: D, metric, kernels });
  index.addBatch(ids, data);
  return index;
}

function trained(metric: Metric, nLists = 12, kernels: 'auto' | 'plain' = 'auto'): IvfIndex {
  const index = filled(metric, kernels);
  const snapshot = index.trainingSnapshot();
  const model = trainKMeans(snapshot.vectors, D, metric, { nLists, batchSize: 256, maxIters: 20, tolerance: 0, seed: 3 });
  index.applyModel(model, { ids: snapshot.ids, lists: model.lists });
  return index;
}

describe.each(METRICS)('IvfIndex (%s)', (metric) => {
  it('untrained: exact search, same ids and distances as a naive scan (recall 1.0)', () => {
    const index = filled(metric);
    expect(index.isTrained).toBe(false);
    expect(index.nLists).toBe(0);
    for (let q = 0; q < 20; q++) {
      const query = row(queries, D, q);
      const result = index.search(query, { topK: 10 });
      expect(result.exact).toBe(true);
      expect(Array.from(result.ids)).toEqual(naiveTopK(metric, data, ids, D, query, 10));
      result.ids.forEach((id, i) => {
        expect(result.distances[i]).toBeCloseTo(naiveDistance(metric, query, row(data, D, (id - 1000) / 3)), 4);
      });
      for (let i = 1; i < result.distances.length; i++) expect(result.distances[i]).toBeGreaterThanOrEqual(result.distances[i - 1]);
    }
  });

  it('trained with nProbes = nLists: exactly the exact search', () => {
    const exact = filled(metric);
    const index = trained(metric);
    expect(index.isTrained).toBe(true);
    expect(index.nLists).toBe(12);
    for (let q = 0; q < 20; q++) {
      const query = row(queries, D, q);
      const all = index.search(query, { topK: 10, nProbes: 12 });
      const want = exact.search(query, { topK: 10 });
      expect(all.exact).toBe(true);
      expect(Array.from(all.ids)).toEqual(Array.from(want.ids));
      expect(Array.from(all.distances)).toEqual(Array.from(want.distances));
    }
  });

  it('trained with few probes: approximate, flagged so, every hit a true distance', () => {
    const index = trained(metric);
    const result = index.search(row(queries, D, 0), { topK: 10, nProbes: 2 });
    expect(result.exact).toBe(false);
    result.ids.forEach((id, i) => expect(result.distances[i]).toBeCloseTo(naiveDistance(metric, row(queries, D, 0), row(data, D, (id - 1000) / 3)), 4));
  });

  it('searchBatch answers like search, query by query, trained and untrained', () => {
    for (const index of [filled(metric), trained(metric)]) {
      for (const nProbes of [1, 3, 12]) {
        const batch = index.searchBatch(queries, { topK: 7, nProbes });
        expect(batch).toHaveLength(20);
        batch.forEach((result, q) => {
          const single = index.search(row(queries, D, q), { topK: 7, nProbes });
          expect(Array.from(result.ids)).toEqual(Array.from(single.ids));
          expect(Array.from(result.distances)).toEqual(Array.from(single.distances));
          expect(result.exact).toBe(single.exact);
        });
      }
    }
  });

  it('the int8 pre-scan returns what scanning the f32 rows returns', () => {
    const coded = trained(metric);
    const model = coded.model() as { centroids: Float32Array; nLists: number };
    const plainRows = new IvfIndex({ dimension: D, metric, prescan: false });
    plainRows.addBatch(ids, data);
    // Both assign every vector to its nearest centroid, so both hold the same lists.
    plainRows.applyModel(model);
    coded.applyModel(model);
    for (const nProbes of [1, 4]) {
      const a = coded.searchBatch(queries, { topK: 10, nProbes });
      const b = plainRows.searchBatch(queries, { topK: 10, nProbes });
      a.forEach((r, q) => {
        expect(Array.from(r.ids)).toEqual(Array.from(b[q].ids));
        expect(Array.from(r.distances)).toEqual(Array.from(b[q].distances));
      });
    }
  });

  it('times its stages when asked, without changing an answer', () => {
    const index = trained(metric);
    const query = row(queries, D, 0);
    const timings = { probe: 0, scan: 0, rerank: 0 };
    const timed = index.search(query, { topK: 10, nProbes: 3, timings });
    const plain = index.search(query, { topK: 10, nProbes: 3 });
    expect(Array.from(timed.ids)).toEqual(Array.from(plain.ids));
    expect(timings.scan).toBeGreaterThan(0);
    expect(timings.probe).toBeGreaterThanOrEqual(0);
    expect(timings.rerank).toBeGreaterThanOrEqual(0);
    const afterOne = { ...timings };
    const batch = index.searchBatch(queries, { topK: 10, nProbes: 3, timings });
    expect(Array.from(batch[0].ids)).toEqual(Array.from(plain.ids));
    // Accumulated, not overwritten.
    expect(timings.scan).toBeGreaterThan(afterOne.scan);
  });

  it('gives the same answers on the SIMD and plain kernels', () => {
    const simd = trained(metric, 12, 'auto');
    const plain = trained(metric, 12, 'plain');
    for (let q = 0; q < 20; q++) {
      const a = simd.search(row(queries, D, q), { topK: 10, nProbes: 4 });
      const b = plain.search(row(queries, D, q), { topK: 10, nProbes: 4 });
      expect(Array.from(b.ids)).toEqual(Array.from(a.ids));
      b.distances.forEach((d, i) => expect(d).toBeCloseTo(a.distances[i], 5));
    }
  });
});

describe('IvfIndex', () => {
  it('finds an inserted vector at distance 0 under every metric', () => {
    for (const metric of METRICS) {
      const index = trained(metric);
      const result = index.search(row(data, D, 77), { topK: 1, nProbes: 1 });
      expect(result.ids[0]).toBe(ids[77]);
      expect(result.distances[0]).toBeCloseTo(0, 5);
    }
  });

  it('orders equal distances by id', () => {
    const index = new IvfIndex({ dimension: 2, metric: 'euclidean' });
    for (const id of [9, 4, 7, 1]) index.add(id, [1, 0]);
    index.add(5, [0, 1]);
    const result = index.search([0, 0], { topK: 5 });
    expect(Array.from(result.ids)).toEqual([1, 4, 5, 7, 9]);
    expect(Array.from(result.distances)).toEqual([1, 1, 1, 1, 1]);
  });

  it('returns at most topK and at most what it holds', () => {
    const index = new IvfIndex({ dimension: 3, metric: 'cosine' });
    expect(index.search([1, 0, 0], { topK: 5 }).ids).toHaveLength(0);
    index.add(1, [1, 0, 0]);
    index.add(2, [0, 1, 0]);
    expect(index.search([1, 0, 0], { topK: 5 }).ids).toHaveLength(2);
    expect(index.searchBatch(new Float32Array(0), { topK: 5 })).toEqual([]);
  });

  it('replaces a vector under the same id and removes it for good', () => {
    for (const index of [filled('euclidean'), trained('euclidean')]) {
      const id = ids[10];
      const far = new Float32Array(D).fill(50);
      index.add(id, far);
      expect(index.size).toBe(N);
      const hit = index.search(far, { topK: 1, nProbes: index.nLists || undefined });
      expect(hit.ids[0]).toBe(id);
      expect(hit.distances[0]).toBeCloseTo(0, 5);
      expect(index.search(row(data, D, 10), { topK: 1, nProbes: index.nLists || undefined }).ids[0]).not.toBe(id);
      expect(index.remove(id)).toBe(true);
      expect(index.has(id)).toBe(false);
      expect(index.remove(id)).toBe(false);
      expect(index.size).toBe(N - 1);
      expect(Array.from(index.search(far, { topK: 5, nProbes: index.nLists || undefined }).ids)).not.toContain(id);
    }
  });

  it('keeps answering exactly after heavy churn: removals leave no holes', () => {
    const index = trained('squared_euclidean');
    const live = new Map<number, Float32Array>();
    for (let i = 0; i < N; i++) live.set(ids[i], row(data, D, i));
    const fresh = randomVectors(600, D, 33);
    for (let i = 0; i < 600; i++) {
      const victim = ids[(i * 7) % N];
      if (live.delete(victim)) index.remove(victim);
      index.add(50_000 + i, row(fresh, D, i));
      live.set(50_000 + i, row(fresh, D, i));
    }
    expect(index.size).toBe(live.size);
    const liveIds = [...live.keys()];
    const liveVectors = new Float32Array(liveIds.length * D);
    liveIds.forEach((id, i) => liveVectors.set(live.get(id) as Float32Array, i * D));
    for (let q = 0; q < 10; q++) {
      const query = row(queries, D, q);
      expect(Array.from(index.search(query, { topK: 10, nProbes: index.nLists }).ids)).toEqual(naiveTopK('squared_euclidean', liveVectors, liveIds, D, query, 10));
    }
  });

  it('applies a filter, asking it only about would-be results', () => {
    const index = trained('euclidean');
    const asked = new Set<number>();
    const result = index.search(row(queries, D, 1), {
      topK: 10,
      nProbes: 12,
      filter: (id) => {
        asked.add(id);
        return id % 2 === 0;
      },
    });
    expect(result.ids.every((id) => id % 2 === 0)).toBe(true);
    const evenIds = Array.from(ids).filter((id) => id % 2 === 0);
    const evenData = new Float32Array(evenIds.length * D);
    evenIds.forEach((id, i) => evenData.set(row(data, D, (id - 1000) / 3), i * D));
    expect(Array.from(result.ids)).toEqual(naiveTopK('euclidean', evenData, evenIds, D, row(queries, D, 1), 10));
    expect(asked.size).toBeLessThan(N / 2);
  });

  it('applyModelInSteps answers searches from the previous model until its last step, then as applyModel would', () => {
    const n = 10_000;
    const many = randomVectors(n, D, 41);
    const manyIds = Uint32Array.from({ length: n }, (_, i) => i);
    const stepped = new IvfIndex({ dimension: D, metric: 'squared_euclidean' });
    const whole = new IvfIndex({ dimension: D, metric: 'squared_euclidean' });
    stepped.addBatch(manyIds, many);
    whole.addBatch(manyIds, many);
    const snapshot = stepped.trainingSnapshot();
    const model = trainKMeans(snapshot.vectors, D, 'squared_euclidean', { nLists: 16, batchSize: 512, maxIters: 10, tolerance: 0, seed: 4 });
    whole.applyModel(model, { ids: whole.trainingSnapshot().ids, lists: model.lists });
    const exact = stepped.search(row(queries, D, 0), { topK: 10 });

    const steps = stepped.applyModelInSteps(model, { ids: snapshot.ids, lists: model.lists });
    let taken = 0;
    while (steps.next().done !== true) {
      taken++;
      // Between steps: still untrained and exact, the same answer; writes are refused.
      expect(stepped.isTrained).toBe(false);
      expect(stepped.search(row(queries, D, 0), { topK: 10 })).toEqual(exact);
      expect(() => stepped.add(n + 1, row(many, D, 0))).toThrow(/being applied/);
      expect(() => stepped.remove(0)).toThrow(/being applied/);
    }
    expect(taken).toBeGreaterThan(2); // 10,000 rows: more than one step of rows
    expect(stepped.isTrained).toBe(true);
    for (let q = 0; q < 5; q++) {
      expect(stepped.search(row(queries, D, q), { topK: 10, nProbes: 3 })).toEqual(whole.search(row(queries, D, q), { topK: 10, nProbes: 3 }));
    }
    stepped.add(n + 1, row(many, D, 0)); // writable again
    expect(stepped.size).toBe(n + 1);
  });

  it('applyModel places vectors written after the snapshot by their own nearest centroid', () => {
    const centres = new Float32Array(4 * D);
    for (let c = 0; c < 4; c++) centres[c * D + c] = 20;
    const points = clusteredVectors(centres, D, 50, 1, 5);
    const index = new IvfIndex({ dimension: D, metric: 'squared_euclidean' });
    index.addBatch(Uint32Array.from({ length: 200 }, (_, i) => i), points);
    const snapshot = index.trainingSnapshot();
    const model = trainKMeans(snapshot.vectors, D, 'squared_euclidean', { nLists: 4, batchSize: 1000, maxIters: 20, tolerance: 1e-6 });
    // Written after the snapshot: id 0 moves to cluster 3's centre, id 500 is new in cluster 2.
    index.add(0, row(centres, D, 3));
    index.add(500, row(centres, D, 2));
    index.remove(1);
    // A stale, deliberately wrong assignment for id 0 must be ignored.
    const lists = model.lists.slice();
    lists[0] = model.lists[60];
    index.applyModel(model, { ids: snapshot.ids, lists });
    expect(index.size).toBe(200);
    const listOf = (vector: Float32Array): number => {
      let best = 0;
      for (let c = 1; c < 4; c++) if (naiveDistance('squared_euclidean', vector, row(model.centroids, D, c)) < naiveDistance('squared_euclidean', vector, row(model.centroids, D, best))) best = c;
      return best;
    };
    // With one probe, a vector is found only if it sits in the list of its nearest centroid.
    expect(index.search(row(centres, D, 3), { topK: 1, nProbes: 1 }).ids[0]).toBe(0);
    expect(index.search(row(centres, D, 2), { topK: 1, nProbes: 1 }).ids[0]).toBe(500);
    expect(listOf(row(centres, D, 3))).not.toBe(model.lists[0]);
    expect(index.has(1)).toBe(false);
  });

  it('applyModel honours the epoch of a copied assignment over a later snapshot', () => {
    const centres = new Float32Array(4 * D);
    for (let c = 0; c < 4; c++) centres[c * D + c] = 20;
    const points = clusteredVectors(centres, D, 50, 1, 6);
    const run = (withEpoch: boolean): number => {
      const index = new IvfIndex({ dimension: D, metric: 'squared_euclidean' });
      index.addBatch(Uint32Array.from({ length: 200 }, (_, i) => i), points);
      const first = index.trainingSnapshot();
      const model = trainKMeans(first.vectors, D, 'squared_euclidean', { nLists: 4, batchSize: 1000, maxIters: 20, tolerance: 1e-6 });
      index.add(0, row(centres, D, 3)); // written after the first snapshot
      index.trainingSnapshot(); // a later snapshot, for some other purpose
      const copy = { ids: Uint32Array.from(first.ids), lists: model.lists, epoch: withEpoch ? first.epoch : undefined };
      index.applyModel(model, copy);
      return index.search(row(centres, D, 3), { topK: 1, nProbes: 1 }).ids[0];
    };
    expect(run(true)).toBe(0); // placed by its new vector
    expect(run(false)).not.toBe(0); // the later snapshot's epoch trusts the stale list
  });

  it('applyModel without a snapshot trusts the assignment; without one, assigns everything', () => {
    const source = filled('euclidean');
    const snapshot = source.trainingSnapshot();
    const model = trainKMeans(snapshot.vectors, D, 'euclidean', { nLists: 6, batchSize: 500, maxIters: 10, tolerance: 0 });
    const copy = filled('euclidean');
    copy.applyModel(model, { ids: snapshot.ids, lists: model.lists });
    const fresh = filled('euclidean');
    fresh.applyModel(model);
    expect(copy.model()?.nLists).toBe(6);
    for (let q = 0; q < 5; q++) {
      const a = copy.search(row(queries, D, q), { topK: 5, nProbes: 2 });
      const b = fresh.search(row(queries, D, q), { topK: 5, nProbes: 2 });
      expect(Array.from(a.ids)).toEqual(Array.from(b.ids));
    }
  });

  it('trainingSnapshot holds every current vector once, in shared memory', () => {
    for (const metric of METRICS) {
      const index = trained(metric);
      index.remove(ids[3]);
      const { ids: snapIds, vectors: [vectors] } = index.trainingSnapshot();
      expect(vectors.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(snapIds.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(snapIds.length).toBe(N - 1);
      expect(vectors.length).toBe((N - 1) * D);
      expect(new Set(snapIds).size).toBe(N - 1);
      const i = snapIds.indexOf(ids[5]);
      const stored = row(vectors, D, i);
      if (metric === 'cosine') expect(naiveDistance('cosine', stored, row(data, D, 5))).toBeCloseTo(0, 6);
      else expect(Array.from(stored)).toEqual(Array.from(row(data, D, 5)));
    }
  });

  it('trainingSnapshotInSteps pauses between lists, answers searches meanwhile, and ends with trainingSnapshot\'s copy', () => {
    const d = 128;
    const n = 20_000;
    const rows = randomVectors(n, d, 61);
    const rowIds = Uint32Array.from({ length: n }, (_, i) => i);
    const index = new IvfIndex({ dimension: d, metric: 'euclidean' });
    index.addBatch(rowIds, rows);
    const model = trainKMeans(rows, d, 'euclidean', { nLists: 32, batchSize: 2000, maxIters: 3, tolerance: 0, seed: 2 });
    index.applyModel(model, { ids: rowIds, lists: model.lists });
    const whole = index.trainingSnapshot();
    const steps = index.trainingSnapshotInSteps();
    let pauses = 0;
    let step = steps.next();
    for (; step.done !== true; step = steps.next()) {
      pauses++;
      expect(Array.from(index.search(row(rows, d, pauses), { topK: 1, nProbes: 32 }).ids)).toEqual([pauses]);
    }
    // 20,000 rows of 512 bytes: about 10 MB, a step per 4 MiB.
    expect(pauses).toBeGreaterThanOrEqual(2);
    expect(Array.from(step.value.ids)).toEqual(Array.from(whole.ids));
    expect(Buffer.from(step.value.vectors[0].buffer, 0, n * d * 4).equals(Buffer.from(whole.vectors[0].buffer, 0, n * d * 4))).toBe(true);
  });

  it('holds int8 codes beside the rows once trained, unless prescan is off', () => {
    const d = 64;
    const rows = randomVectors(8000, d, 34);
    const rowIds = Uint32Array.from({ length: 8000 }, (_, i) => i);
    const model = trainKMeans(rows, d, 'euclidean', { nLists: 4, batchSize: 1000, maxIters: 5, tolerance: 0 });
    const sizes = [true, false].map((prescan) => {
      const index = new IvfIndex({ dimension: d, metric: 'euclidean', prescan });
      index.addBatch(rowIds, rows);
      index.applyModel(model, { ids: rowIds, lists: model.lists });
      return index.memoryBytes();
    });
    // 64 bytes of codes per row: at least half of that must show, whatever the page rounding
    expect(sizes[0] - sizes[1]).toBeGreaterThan(8000 * 32);
  });

  it('model() returns a copy and memoryBytes grows with the vectors held', () => {
    const small = new IvfIndex({ dimension: D, metric: 'euclidean' });
    const empty = small.memoryBytes();
    const index = trained('euclidean');
    expect(index.memoryBytes()).toBeGreaterThan(empty + N * D * 4);
    const model = index.model();
    expect(model?.nLists).toBe(12);
    model?.centroids.fill(0);
    expect(index.model()?.centroids.some((v) => v !== 0)).toBe(true);
    expect(small.model()).toBeNull();
  });

  it('rejects wrong dimensions, NaN, bad ids and bad options without changing anything', () => {
    const index = filled('euclidean');
    expect(() => new IvfIndex({ dimension: 0, metric: 'euclidean' })).toThrow(EngineInputError);
    expect(() => new IvfIndex({ dimension: 4, metric: 'dot' as Metric })).toThrow(EngineInputError);
    expect(() => index.add(1, new Float32Array(D - 1))).toThrow(EngineInputError);
    expect(() => index.add(-1, new Float32Array(D))).toThrow(EngineInputError);
    expect(() => index.add(2 ** 32, new Float32Array(D))).toThrow(EngineInputError);
    const nan = new Float32Array(D);
    nan[3] = Number.NaN;
    expect(() => index.add(ids[0], nan)).toThrow(EngineInputError);
    expect(index.search(row(data, D, 0), { topK: 1 }).ids[0]).toBe(ids[0]); // the old vector stays
    const batch = randomVectors(3, D, 40);
    batch[2 * D + 1] = Infinity;
    expect(() => index.addBatch([7, 8, 9], batch)).toThrow(/row 2/);
    expect(index.has(7)).toBe(false);
    expect(() => index.addBatch([7, 8], batch)).toThrow(EngineInputError);
    // Over one insert chunk (1,024 rows): a bad row in the last chunk still stops the first.
    const large = randomVectors(1_030, D, 41);
    large[1_029 * D] = Number.NaN;
    expect(() => index.addBatch(Array.from({ length: 1_030 }, (_, i) => 100_000 + i), large)).toThrow(/row 1029/);
    expect(index.has(100_000)).toBe(false);
    expect(index.size).toBe(N);
    expect(() => index.search(new Float32Array(D + 1), { topK: 1 })).toThrow(EngineInputError);
    expect(() => index.search(nan, { topK: 1 })).toThrow(EngineInputError);
    expect(() => index.search(row(data, D, 0), { topK: 0 })).toThrow(EngineInputError);
    expect(() => index.search(row(data, D, 0), { topK: 1, nProbes: 0 })).toThrow(EngineInputError);
    expect(() => index.searchBatch(new Float32Array(D + 1), { topK: 1 })).toThrow(EngineInputError);
    expect(() => index.applyModel({ centroids: new Float32Array(D), nLists: 2 })).toThrow(EngineInputError);
    expect(() => index.applyModel({ centroids: new Float32Array(D), nLists: 1 }, { ids: new Uint32Array([ids[0]]), lists: new Uint32Array([1]) })).toThrow(EngineInputError);
    expect(index.isTrained).toBe(false);
  });

  it('picks sqrt(nLists) probes by default', () => {
    expect(defaultNProbes(256)).toBe(16);
    expect(defaultNProbes(10)).toBe(4);
    expect(defaultNProbes(1)).toBe(1);
    const index = trained('euclidean', 16);
    expect(index.search(row(queries, D, 0), { topK: 3 }).exact).toBe(false);
  });
});

// Real embeddings (bge-m3, 1024 dimensions, unit norm): exact search and IVF probing every list
// must agree exactly, and each sentence must find itself.

describe.skipIf(!haveEmbeddings)('IvfIndex on real bge-m3 embeddings', () => {
  const dimension = 1024;

  it.each(['cosine', 'euclidean'] as const)('%s: exact equals IVF with nProbes = nLists; each vector finds itself', (metric) => {
    const { paragraphs: base, sentences: probes } = loadEmbeddings();
    const count = base.length / dimension;
    const exact = new IvfIndex({ dimension, metric });
    const ivf = new IvfIndex({ dimension, metric });
    const baseIds = Uint32Array.from({ length: count }, (_, i) => i);
    exact.addBatch(baseIds, base);
    ivf.addBatch(baseIds, base);
    const snapshot = ivf.trainingSnapshot();
    const model = trainKMeans(snapshot.vectors, dimension, metric, { nLists: 16, batchSize: 2048, maxIters: 25, tolerance: 1e-6 });
    ivf.applyModel(model, { ids: snapshot.ids, lists: model.lists });
    const want = exact.searchBatch(probes, { topK: 10 });
    const got = ivf.searchBatch(probes, { topK: 10, nProbes: 16 });
    want.forEach((w, q) => {
      expect(Array.from(got[q].ids)).toEqual(Array.from(w.ids));
      expect(Array.from(got[q].distances)).toEqual(Array.from(w.distances));
    });
    for (const i of [0, 123, 499]) {
      const self = ivf.search(row(base, dimension, i), { topK: 1, nProbes: 1 });
      expect(self.ids[0]).toBe(i);
      expect(self.distances[0]).toBeCloseTo(0, 5);
    }
    const approximate = ivf.searchBatch(probes, { topK: 10, nProbes: 4 });
    const mean = approximate.reduce((sum, r, q) => sum + recall(r.ids, want[q].ids), 0) / approximate.length;
    expect(mean).toBeGreaterThan(0.5);
  });
});

describe('searchBatch = search around the group thresholds', () => {
  // D = 24: int8 codes of 32 bytes, int16 queries of 64, so a group holds groupQueries(64, 32)
  // queries, padded to whole QUERY_TILEs; a list with fewer than MIN_GROUP members is scanned
  // query by query.
  const group = groupQueries(64, 32);
  const counts = [...new Set([1, MIN_GROUP - 1, MIN_GROUP, MIN_GROUP + 1, QUERY_TILE - 1, QUERY_TILE, QUERY_TILE + 1, group - 1, group, group + 1, 2 * group + 1])].filter((c) => c > 0);
  /** c queries close to one stored row, so that their nearest list is one and the same. */
  const near = (c: number, seed: number): Float32Array => {
    const noise = randomVectors(c, D, seed);
    const base = row(data, D, seed % N);
    return Float32Array.from({ length: c * D }, (_, i) => base[i % D] + 0.05 * noise[i]);
  };

  it.each(METRICS)('%s: the same ids and distances for each member count, probing one list, two, or all, with and without a filter', (metric) => {
    const index = trained(metric, 3);
    const plainRows = new IvfIndex({ dimension: D, metric, prescan: false });
    plainRows.addBatch(ids, data);
    plainRows.applyModel(index.model() as { centroids: Float32Array; nLists: number });
    const filter = (id: number): boolean => ((id - 1000) / 3) % 2 === 0;
    for (const [c, seed] of counts.map((c, i) => [c, 100 + i] as const)) {
      const batchQueries = near(c, seed);
      for (const searched of [index, plainRows]) {
        for (const options of [{ topK: 7, nProbes: 1 }, { topK: 7, nProbes: 2 }, { topK: 7, nProbes: 3 }, { topK: 7, nProbes: 2, filter }]) {
          const batch = searched.searchBatch(batchQueries, options);
          expect(batch).toHaveLength(c);
          batch.forEach((result, q) => {
            const single = searched.search(row(batchQueries, D, q), options);
            expect(Array.from(result.ids)).toEqual(Array.from(single.ids));
            expect(Array.from(result.distances)).toEqual(Array.from(single.distances));
            if (options.filter) expect(result.ids.every(filter)).toBe(true);
          });
        }
      }
    }
  });
});

describe('groupQueries', () => {
  it('sizes batch groups from the vector size: whole tiles, fewer for longer vectors, within the cache budget', () => {
    const sizes = [16, 64, 128, 384, 784, 1024, 4096].map((d) => ({ d, group: groupQueries(2 * d, d) }));
    for (const { d, group } of sizes) {
      expect(group % QUERY_TILE).toBe(0);
      expect(group).toBeGreaterThanOrEqual(QUERY_TILE);
      expect(group).toBeLessThanOrEqual(MAX_GROUP_QUERIES);
      // Prepared queries, their scores and one block of entries stay within 256 KiB.
      if (group > QUERY_TILE) expect(group * (2 * d + BATCH_ROWS * 4) + BATCH_ROWS * d).toBeLessThanOrEqual(256 << 10);
    }
    for (let i = 1; i < sizes.length; i++) expect(sizes[i].group).toBeLessThanOrEqual(sizes[i - 1].group);
    expect(sizes[0].group).toBeGreaterThan(sizes[4].group);
  });
});
