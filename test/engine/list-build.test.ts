// Lists built off the index's thread (list-build.ts, the training worker): adopting them gives
// exactly the lists the index's own rebuild gives, for every type; writes made after the snapshot
// (new, replaced, removed) are in place after the swap; the worker path is deterministic.
import { describe, expect, it } from 'vitest';
import { createVectorIndex } from '../../src/engine/index-factory.js';
import { trainListCodec, type IndexTypeName } from '../../src/engine/index-types.js';
import { IvfIndex } from '../../src/engine/ivf-index.js';
import { buildLists } from '../../src/engine/list-build.js';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import type { InvertedLists } from '../../src/engine/inverted-lists.js';
import type { KernelHeap } from '../../src/engine/kernel-heap.js';
import { rowStride, type Metric } from '../../src/engine/metric.js';
import { placeRows } from '../../src/engine/shared-rows.js';
import { trainInWorker } from '../../src/engine/train-in-worker.js';
import type { ModelAssignment, TrainingSnapshot, VectorIndex } from '../../src/engine/vector-index.js';
import { clusteredVectors, randomVectors, row } from './helpers.js';

const D = 24;
const centres = randomVectors(20, D, 71);
const data = clusteredVectors(centres, D, 150, 0.4, 72);
const N = data.length / D;
const ids = Uint32Array.from({ length: N }, (_, i) => i * 3 + 5);
const N_LISTS = 20;
const PARAMS = { nLists: N_LISTS, batchSize: 512, maxIters: 15, tolerance: 0, seed: 9 };

/** Every list as the index holds it: ids in order with each entry's stored row, norm and code. */
function dump(index: VectorIndex): { ids: number[]; rows: number[]; norms: number[]; codes: number[] }[] {
  const { lists, heap } = (index as unknown as { state: { lists: InvertedLists; heap: KernelHeap } }).state;
  const stride = lists.rowBytes / 4;
  const out = [];
  for (let l = 0; l < lists.count; l++) {
    const n = lists.length(l);
    out.push({
      ids: Array.from(lists.ids(l).subarray(0, n)),
      rows: Array.from(heap.f32.subarray(lists.rowsAt(l) >> 2, (lists.rowsAt(l) >> 2) + n * stride)),
      norms: Array.from(heap.f32.subarray(lists.normsAt(l) >> 2, (lists.normsAt(l) >> 2) + n)),
      codes: Array.from(heap.i8.subarray(lists.codesAt(l), lists.codesAt(l) + n * lists.codeBytes)),
    });
  }
  return out;
}

/** Each list's ids, sorted, with each id's list from the locator and its epoch. */
function membership(index: VectorIndex): number[][] {
  const { lists } = (index as unknown as { state: { lists: InvertedLists } }).state;
  const out: number[][] = [];
  for (let l = 0; l < lists.count; l++) {
    const members = Array.from(lists.ids(l).subarray(0, lists.length(l))).sort((a, b) => a - b);
    for (const id of members) expect(lists.listOf(id)).toBe(l);
    out.push(members);
  }
  return out;
}

interface Setup {
  index: VectorIndex;
  snapshot: TrainingSnapshot;
  model: { centroids: Float32Array; nLists: number; lists: Uint32Array; codec?: Uint8Array };
  vectors: Map<number, Float32Array>;
}

function setup(type: IndexTypeName, metric: Metric, prescan = true): Setup {
  const index = type === 'ivf_flat'
    ? new IvfIndex({ dimension: D, metric, prescan })
    : createVectorIndex({ type, dimension: D, metric, ...(type === 'ivf_pq' ? { pqSubvectors: 6 } : {}) });
  index.addBatch(ids, data);
  const vectors = new Map<number, Float32Array>();
  ids.forEach((id, i) => vectors.set(id, row(data, D, i).slice()));
  const snapshot = index.trainingSnapshot((id) => vectors.get(id));
  const trained = trainKMeans(snapshot.vectors, D, metric, PARAMS);
  const stride = rowStride(D);
  const padded = new Float32Array(snapshot.ids.length * stride);
  for (let i = 0; i < snapshot.ids.length; i++) padded.set(row(snapshot.vectors[0], D, i), i * stride);
  const codec = trainListCodec(index.spec, { source: padded, rows: Array.from({ length: snapshot.ids.length }, (_, i) => i * stride), dimension: D }, trained.centroids, 9);
  return { index, snapshot, vectors, model: { centroids: trained.centroids, nLists: trained.nLists, lists: trained.lists, ...(codec ? { codec } : {}) } };
}

function builtAssignment(s: Setup): ModelAssignment {
  const built = buildLists(placeRows(s.snapshot.vectors[0], D, s.index.metric), s.snapshot.ids, s.model.lists, s.model, s.snapshot.layout, 'auto');
  return { ids: s.snapshot.ids, lists: s.model.lists, built };
}

/** Writes after the snapshot: a new id, a replaced one (moved into another cluster), a removed one. */
function writeAfterSnapshot(s: Setup): void {
  const moved = row(data, D, 1000).slice();
  const added = row(data, D, 2000).map((v) => v + 0.01);
  s.index.add(ids[3], moved);
  s.vectors.set(ids[3], moved);
  s.index.add(1_000_000, added);
  s.vectors.set(1_000_000, Float32Array.from(added));
  s.index.remove(ids[7]);
  s.vectors.delete(ids[7]);
}

const cases: [IndexTypeName, Metric, boolean][] = [
  ['ivf_flat', 'squared_euclidean', true],
  ['ivf_flat', 'cosine', true],
  ['ivf_flat', 'euclidean', false],
  ['ivf_sq8', 'squared_euclidean', true],
  ['ivf_pq', 'cosine', true],
];

describe('lists built off the index thread', () => {
  it.each(cases)('%s (%s, prescan %s): adopting them gives exactly the lists of the in-thread rebuild', (type, metric, prescan) => {
    const inThread = setup(type, metric, prescan);
    const offThread = setup(type, metric, prescan);
    inThread.index.applyModel(inThread.model, { ids: inThread.snapshot.ids, lists: inThread.model.lists }, (id) => inThread.vectors.get(id));
    offThread.index.applyModel(offThread.model, builtAssignment(offThread), (id) => offThread.vectors.get(id));
    expect(offThread.index.isTrained).toBe(true);
    expect(offThread.index.size).toBe(N);
    expect(dump(offThread.index)).toEqual(dump(inThread.index));
    const query = row(data, D, 17);
    for (const nProbes of [1, 4, N_LISTS]) {
      expect(offThread.index.search(query, { topK: 10, nProbes })).toEqual(inThread.index.search(query, { topK: 10, nProbes }));
    }
  });

  it.each(cases)('%s (%s): writes after the snapshot are in place after the swap, as with the in-thread rebuild', (type, metric, prescan) => {
    const inThread = setup(type, metric, prescan);
    const offThread = setup(type, metric, prescan);
    const assignment = builtAssignment(offThread);
    writeAfterSnapshot(inThread);
    writeAfterSnapshot(offThread);
    inThread.index.applyModel(inThread.model, { ids: inThread.snapshot.ids, lists: inThread.model.lists }, (id) => inThread.vectors.get(id));
    offThread.index.applyModel(offThread.model, assignment, (id) => offThread.vectors.get(id));
    const index = offThread.index;
    expect(index.size).toBe(N);
    expect(index.has(1_000_000)).toBe(true);
    expect(index.has(ids[7])).toBe(false);
    expect(membership(index)).toEqual(membership(inThread.index));
    // The replaced vector is found at its new place, the new one too, the removed one nowhere.
    // (Code distances rank only roughly: a codes-only index is asked for more candidates.)
    const topK = index.approximate ? 50 : 3;
    expect(Array.from(index.search(row(data, D, 1000), { topK, nProbes: N_LISTS }).ids)).toContain(ids[3]);
    expect(Array.from(index.search(offThread.vectors.get(1_000_000)!, { topK, nProbes: N_LISTS }).ids)).toContain(1_000_000);
    for (let q = 0; q < 40; q++) {
      expect(Array.from(index.search(row(data, D, q * 50), { topK: 20, nProbes: N_LISTS }).ids)).not.toContain(ids[7]);
    }
    index.add(ids[7], row(data, D, 7)); // writable after the swap, and the lists stay consistent
    expect(index.size).toBe(N + 1);
  });

  it.each([['ivf_flat'], ['ivf_sq8']] as [IndexTypeName][])('%s: retraining a trained index from built lists matches the in-thread rebuild, writes included', (type) => {
    const both = [setup(type, 'squared_euclidean'), setup(type, 'squared_euclidean')];
    for (const s of both) s.index.applyModel(s.model, { ids: s.snapshot.ids, lists: s.model.lists }, (id) => s.vectors.get(id));
    // The second run starts from trained lists (a different order) and sees writes after its snapshot.
    const second = both.map((s) => {
      const snapshot = s.index.trainingSnapshot((id) => s.vectors.get(id));
      const trained = trainKMeans(snapshot.vectors, D, 'squared_euclidean', { ...PARAMS, nLists: 8, seed: 3 });
      return { ...s, snapshot, model: { centroids: trained.centroids, nLists: 8, lists: trained.lists, ...(s.model.codec ? { codec: s.model.codec } : {}) } };
    });
    const assignment = builtAssignment(second[1]);
    for (const s of second) writeAfterSnapshot(s);
    second[0].index.applyModel(second[0].model, { ids: second[0].snapshot.ids, lists: second[0].model.lists }, (id) => second[0].vectors.get(id));
    second[1].index.applyModel(second[1].model, assignment, (id) => second[1].vectors.get(id));
    expect(second[1].index.nLists).toBe(8);
    expect(second[1].index.size).toBe(N);
    expect(membership(second[1].index)).toEqual(membership(second[0].index));
    expect(second[1].index.has(1_000_000)).toBe(true);
  });

  it('applyModelInSteps with built lists keeps the previous model until the last step and refuses writes meanwhile', () => {
    const s = setup('ivf_flat', 'squared_euclidean');
    const query = row(data, D, 5);
    const before = s.index.search(query, { topK: 10 });
    const steps = s.index.applyModelInSteps(s.model, builtAssignment(s));
    while (steps.next().done !== true) {
      expect(s.index.isTrained).toBe(false);
      expect(s.index.search(query, { topK: 10 })).toEqual(before);
      expect(() => s.index.add(1, query)).toThrow(/being applied/);
    }
    expect(s.index.isTrained).toBe(true);
  });

  it('refuses built lists that do not fit the index, changing nothing', () => {
    const s = setup('ivf_flat', 'squared_euclidean');
    const assignment = builtAssignment(s);
    const other = new IvfIndex({ dimension: D, metric: 'squared_euclidean', prescan: false });
    other.addBatch(ids, data);
    const snapshot = other.trainingSnapshot();
    expect(() => other.applyModel(s.model, { ids: snapshot.ids, lists: s.model.lists, built: assignment.built })).toThrow(/do not match/);
    expect(other.isTrained).toBe(false);
    expect(other.size).toBe(N);
  });

  it('the training worker builds the same lists, deterministically under a seed, and a write during the run is kept', async () => {
    const runs = [];
    for (let r = 0; r < 2; r++) {
      const index = new IvfIndex({ dimension: D, metric: 'squared_euclidean' });
      index.addBatch(ids, data);
      const snapshot = index.trainingSnapshot();
      const result = await trainInWorker(snapshot.vectors, D, 'squared_euclidean', PARAMS, {}, { lists: { ids: snapshot.ids, layout: snapshot.layout } });
      expect(result.built).toBeDefined();
      if (r === 1) index.add(1_000_000, row(data, D, 4)); // lands while the new lists exist only in the worker's memory
      index.applyModel(result, { ids: snapshot.ids, lists: result.lists, built: result.built });
      runs.push({ index, result });
    }
    expect(runs[1].result.centroids).toEqual(runs[0].result.centroids);
    expect(runs[1].index.has(1_000_000)).toBe(true);
    expect(runs[1].index.search(row(data, D, 4), { topK: 2, nProbes: N_LISTS }).ids).toContain(1_000_000);
    const inThread = new IvfIndex({ dimension: D, metric: 'squared_euclidean' });
    inThread.addBatch(ids, data);
    const snapshot = inThread.trainingSnapshot();
    inThread.applyModel(runs[0].result, { ids: snapshot.ids, lists: runs[0].result.lists });
    expect(dump(runs[0].index)).toEqual(dump(inThread));
  });
});
