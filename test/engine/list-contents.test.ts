// exportLists / importLists: a trained index of each type and metric, exported and imported into a
// fresh index, answers every search exactly as the original (same ids, same distances), keeps
// taking writes, and bad contents are refused without changing the index.
import { describe, expect, it } from 'vitest';
import { EngineInputError } from '../../src/engine/errors.js';
import { createVectorIndex } from '../../src/engine/index-factory.js';
import { resolveIndexType, trainListCodec, type IndexTypeName } from '../../src/engine/index-types.js';
import { IvfIndex } from '../../src/engine/ivf-index.js';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { METRICS, rowStride, type Metric } from '../../src/engine/metric.js';
import { copyEntries, type ListContents } from '../../src/engine/list-contents.js';
import type { VectorIndex } from '../../src/engine/vector-index.js';
import { clusteredVectors, randomVectors, row } from './helpers.js';

const D = 24;
const centres = randomVectors(10, D, 41);
const data = clusteredVectors(centres, D, 40, 0.3, 42);
const N = data.length / D;
/** Bytes per list memory small enough that the test's lists need several. */
const SMALL_MEMORY = 8192;
const queries = clusteredVectors(centres, D, 2, 0.3, 43);

/** `listMemoryBytes` small: the lists spread over several WebAssembly memories. */
function fresh(type: IndexTypeName, metric: Metric, listMemoryBytes?: number): VectorIndex {
  if (listMemoryBytes === undefined) return createVectorIndex({ type, dimension: D, metric, ...(type === 'ivf_pq' ? { pqSubvectors: 6 } : {}) });
  return new IvfIndex({ dimension: D, metric, spec: resolveIndexType({ type, ...(type === 'ivf_pq' ? { pqSubvectors: 6 } : {}) }, D), listMemoryBytes });
}

function trained(type: IndexTypeName, metric: Metric, listMemoryBytes?: number): VectorIndex {
  const index = fresh(type, metric, listMemoryBytes);
  // Ids with gaps, as the service's slots have after replacements.
  index.addBatch(Uint32Array.from({ length: N }, (_, i) => i * 3 + 1), data);
  const snapshot = index.trainingSnapshot();
  const model = trainKMeans(snapshot.vectors, D, metric, { nLists: 8, batchSize: 4096, maxIters: 20, tolerance: 1e-6, seed: 5 });
  const stride = rowStride(D);
  const padded = new Float32Array(snapshot.ids.length * stride);
  for (let i = 0; i < snapshot.ids.length; i++) padded.set(row(snapshot.vectors[0], D, i), i * stride);
  const codec = trainListCodec(index.spec, { source: padded, rows: Array.from({ length: snapshot.ids.length }, (_, i) => i * stride), dimension: D }, model.centroids, 5);
  index.applyModel({ centroids: model.centroids, nLists: model.nLists, ...(codec ? { codec } : {}) }, { ids: snapshot.ids, lists: model.lists });
  // A few removals, so lists have had entries moved.
  for (let id = 1; id < 60; id += 9) index.remove(id);
  return index;
}

function answers(index: VectorIndex, nProbes: number): Array<{ ids: number[]; distances: number[] }> {
  return index.searchBatch(queries, { topK: 10, nProbes }).map((r) => ({ ids: Array.from(r.ids), distances: Array.from(r.distances) }));
}

describe('exportLists / importLists', () => {
  for (const type of ['ivf_flat', 'ivf_sq8', 'ivf_pq'] as const) {
    for (const metric of METRICS) {
      it(`${type} ${metric}: the imported index answers exactly as the original`, () => {
        const original = trained(type, metric);
        const contents = original.exportLists()!;
        const copy = fresh(type, metric);
        copy.importLists(original.model()!, contents);
        expect(copy.size).toBe(original.size);
        expect(copy.isTrained).toBe(true);
        expect(copy.approximate).toBe(original.approximate);
        for (const nProbes of [1, 3, 8]) expect(answers(copy, nProbes)).toEqual(answers(original, nProbes));
        if (!original.approximate) expect(copy.row(4)).toEqual(original.row(4));
        // Writes after the import land in the same lists as they do in the original.
        const extra = randomVectors(5, D, 44);
        const extraIds = Uint32Array.from({ length: 5 }, (_, i) => 10_000 + i);
        original.addBatch(extraIds, extra);
        copy.addBatch(extraIds, extra);
        copy.remove(7);
        original.remove(7);
        expect(answers(copy, 3)).toEqual(answers(original, 3));
      });
    }
  }

  it('lists spread over several memories export and import between indexes of other memory sizes', () => {
    for (const type of ['ivf_flat', 'ivf_sq8'] as const) {
      const original = trained(type, 'euclidean', SMALL_MEMORY);
      expect((original as unknown as { state: { lists: { memorySet: { count: number } } } }).state.lists.memorySet.count).toBeGreaterThan(1);
      const copy = fresh(type, 'euclidean', SMALL_MEMORY * 2);
      copy.importLists(original.model()!, original.exportLists()!);
      expect(answers(copy, 8)).toEqual(answers(original, 8));
      expect(answers(copy, 2)).toEqual(answers(original, 2));
    }
  });

  it('exports in steps of about a megabyte, the same contents as at once', () => {
    const index = createVectorIndex({ type: 'ivf_flat', dimension: 64, metric: 'euclidean' });
    const n = 6000;
    index.addBatch(Uint32Array.from({ length: n }, (_, i) => i), randomVectors(n, 64, 47));
    const snapshot = index.trainingSnapshot();
    const model = trainKMeans(snapshot.vectors, 64, 'euclidean', { nLists: 16, batchSize: 2048, maxIters: 3, tolerance: 0, seed: 1 });
    index.applyModel({ centroids: model.centroids, nLists: model.nLists }, { ids: snapshot.ids, lists: model.lists });
    const steps = index.exportListsInSteps();
    let pauses = 0;
    let step = steps.next();
    for (; step.done !== true; step = steps.next()) pauses++;
    // 6,000 rows of 64 floats, their norms, ids and int8 codes: about 1.9 MB.
    expect(pauses).toBeGreaterThanOrEqual(1);
    const bytes = (contents: ListContents | null) => Buffer.concat(contents!.lists.flatMap((l) => [l.ids, l.rows!, l.norms, l.codes!].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
    expect(bytes(step.value).equals(bytes(index.exportLists()))).toBe(true);
  });

  it('imports list by list as the lists arrive (beginImport), answering exactly as importLists; nothing changes before commit', () => {
    for (const type of ['ivf_flat', 'ivf_sq8', 'ivf_pq'] as const) {
      const original = trained(type, 'cosine');
      const model = original.model()!;
      const contents = original.exportLists()!;
      const plain = fresh(type, 'cosine');
      plain.importLists(model, contents);
      const streamed = fresh(type, 'cosine');
      streamed.addBatch([900_000], randomVectors(1, D, 47));
      const { lists, ...shape } = contents;
      const idBound = Math.max(...lists.flatMap((list) => Array.from(list.ids))) + 1;
      const listImport = streamed.beginImport(model, shape, idBound);
      for (const entries of lists) listImport.add(entries.ids, (regions) => copyEntries(entries, regions));
      // Not the index's until committed.
      expect(streamed.size).toBe(1);
      listImport.commit();
      expect(streamed.size).toBe(original.size);
      for (const nProbes of [1, 3, 8]) expect(answers(streamed, nProbes)).toEqual(answers(plain, nProbes));
      // An id past the bound, a list more than the model has, a list fewer, another shape: refused, and the index stays as it was.
      const refused = fresh(type, 'cosine');
      refused.addBatch([900_000], randomVectors(1, D, 47));
      const beyond = refused.beginImport(model, shape, 3);
      expect(() => beyond.add(Uint32Array.of(0, 3), () => undefined)).toThrow(EngineInputError);
      const extra = refused.beginImport(model, shape, idBound);
      for (const entries of lists) extra.add(entries.ids, (regions) => copyEntries(entries, regions));
      expect(() => extra.add(new Uint32Array(0), () => undefined)).toThrow(EngineInputError);
      const short = refused.beginImport(model, shape, idBound);
      short.add(lists[0].ids, (regions) => copyEntries(lists[0], regions));
      expect(() => short.commit()).toThrow(EngineInputError);
      expect(() => refused.beginImport(model, { ...shape, nLists: 3 }, idBound)).toThrow(EngineInputError);
      expect(refused.size).toBe(1);
      expect(Array.from(refused.search(randomVectors(1, D, 47), { topK: 1 }).ids)).toEqual([900_000]);
    }
  });

  it('imports into memory reserved and touched before the lists are known, answering exactly as a plain import', async () => {
    for (const type of ['ivf_sq8', 'ivf_pq', 'ivf_flat'] as const) {
      const original = trained(type, 'euclidean');
      const model = original.model()!;
      const plain = fresh(type, 'euclidean');
      plain.importLists(model, original.exportLists()!);
      const reserved = fresh(type, 'euclidean');
      await reserved.reserveImport(model, original.size);
      reserved.importLists(model, original.exportLists()!);
      expect(reserved.size).toBe(original.size);
      for (const nProbes of [1, 3, 8]) expect(answers(reserved, nProbes)).toEqual(answers(plain, nProbes));
      // The reservation is part of the memory the lists need, not more beside it.
      expect(reserved.memoryBytes()).toBeLessThanOrEqual(plain.memoryBytes() * 1.15);
      // A reservation for other centroids is not used, and the import is the same.
      const other = fresh(type, 'euclidean');
      await other.reserveImport({ ...model, centroids: model.centroids.slice() }, original.size);
      other.importLists(model, original.exportLists()!);
      for (const nProbes of [1, 8]) expect(answers(other, nProbes)).toEqual(answers(plain, nProbes));
      other.add(100_000, row(data, D, 3));
      expect(other.search(row(data, D, 3), { topK: 1, nProbes: 8 }).ids[0]).toBe(100_000);
    }
  });

  it('an untrained index has no lists to export', () => {
    const index = fresh('ivf_sq8', 'euclidean');
    index.addBatch([1, 2], randomVectors(2, D, 45));
    expect(index.exportLists()).toBeNull();
  });

  it('refuses contents of another shape or with a repeated id, and changes nothing', () => {
    const original = trained('ivf_sq8', 'euclidean');
    const contents = original.exportLists()!;
    const copy = fresh('ivf_sq8', 'euclidean');
    copy.addBatch([5], randomVectors(1, D, 46));
    const withTwice = { ...contents, lists: contents.lists.map((l, i) => (i === 1 ? { ...l, ids: Uint32Array.from(l.ids, (id, j) => (j === 0 ? contents.lists[0].ids[0] : id)) } : l)) };
    expect(contents.lists[0].ids.length).toBeGreaterThan(0);
    expect(contents.lists[1].ids.length).toBeGreaterThan(0);
    expect(() => copy.importLists(original.model()!, withTwice)).toThrow(EngineInputError);
    // An id far beyond the entries' count (the check keeps one bit per id only up to a bound): once is fine, twice is not.
    const withIdAt = (lists: number[]) => ({ ...contents, lists: contents.lists.map((l, i) => (lists.includes(i) ? { ...l, ids: Uint32Array.from(l.ids, (id, j) => (j === 0 ? 4_000_000_000 : id)) } : l)) });
    expect(contents.lists[2].ids.length).toBeGreaterThan(0);
    expect(() => fresh('ivf_sq8', 'euclidean').importLists(original.model()!, withIdAt([1]))).not.toThrow();
    expect(() => copy.importLists(original.model()!, withIdAt([1, 2]))).toThrow(/appears twice/);
    const shortCodes = { ...contents, lists: contents.lists.map((l, i) => (i === 2 ? { ...l, codes: l.codes!.subarray(1) } : l)) };
    expect(() => copy.importLists(original.model()!, shortCodes)).toThrow(EngineInputError);
    expect(() => fresh('ivf_flat', 'euclidean').importLists(original.model()!, contents)).toThrow(EngineInputError);
    expect(copy.size).toBe(1);
    expect(copy.isTrained).toBe(false);
  });
});
