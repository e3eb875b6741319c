// Vectors are not kept in JavaScript: IVF_SQ8 / IVF_PQ re-rank their candidates on float32 vectors
// read from the store (one query per search, then the shared cache), and must find exactly what a
// re-rank on the vectors in memory found; the cache forgets what upserts, deletes and replica
// changes replace; items read back their vectors bit for bit after a restart, for every type and metric.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refineCandidates } from '../../../src/engine/index.js';
import { IndexKeyCredential } from '../../../src/service/access/credentials.js';
import { parseKeyArgument } from '../../../src/service/input/input-validation.js';
import { IndexCache } from '../../../src/service/open/index-cache.js';
import type { OpenIndex } from '../../../src/service/open/open-index.js';
import type { Metric, IndexType } from '../../../src/service/types.js';
import type { Store } from '../../../src/storage/index.js';
import { seededVectors } from '../reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from '../service-harness.js';

/** The real store, counting getItems calls (store reads of items by token). */
function countingReads(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === 'getItems') {
        return (index: string, tokens: Buffer[]) => {
          reads++;
          return target.getItems(index, tokens);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, reads: () => reads };
}

const EMBEDDINGS = fileURLToPath(new URL('../../../../shared/data/bge-m3-alice-pp-1000x1024/', import.meta.url));
const haveEmbeddings = existsSync(`${EMBEDDINGS}paragraph-queries.f32`);

function loadF32(name: string): Float32Array {
  const bytes = readFileSync(`${EMBEDDINGS}${name}`);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Vectors whose low mantissa bits are not zero (a text round trip or a normalisation would change them). */
function awkwardVectors(n: number, dimension: number, seed: number): Float32Array[] {
  return seededVectors(n, dimension, seed).map((vector) => Float32Array.from(vector, (x, j) => x * 1.000_000_1 + j * 1e-7 + 3e-8));
}

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  let store: Store;
  const key = newKey();

  beforeEach(async () => {
    harness = await fresh();
    store = await harness.openStore();
  });

  afterEach(async () => {
    await harness.dispose();
    await store.close();
  });

  /** Creates, fills and trains `name` through a service, then opens it in a cache of its own over `cacheStore`. */
  async function trainedIndex(name: string, type: IndexType, metric: Metric, vectors: Float32Array[], nLists: number, cacheStore: Store, vectorCacheBytes = 64 << 20): Promise<{ open: OpenIndex; cache: IndexCache }> {
    const setup = await harness.service({}, { store });
    await setup.createIndex(name, key, { dimension: vectors[0].length, metric, type });
    for (let start = 0; start < vectors.length; start += 500) {
      await setup.upsert(name, key, vectors.slice(start, start + 500).map((vector, i) => ({ id: `v${start + i}`, vector: Array.from(vector), contents: `text ${start + i}` })));
    }
    const run = await setup.train(name, key, { nLists, wait: true });
    expect(run.phase).toBe('COMPLETED');
    await setup.close();
    const cache = new IndexCache({ store: cacheStore, idleEvictMs: 600_000, vectorCacheBytes });
    const open = await cache.acquire(name, new IndexKeyCredential(parseKeyArgument(key)));
    return { open, cache };
  }

  /** What a re-rank on the vectors in memory finds: the engine's candidates refined on `vectors` (by item id). */
  function rerankInMemory(open: OpenIndex, vectors: Float32Array[], query: Float32Array, topK: number, rerankMult: number, nProbes: number): { id: string; distance: number }[] {
    const candidates = open.engine.search(query, { topK: topK * rerankMult, nProbes });
    const source = (slot: number) => vectors[Number(open.recordAtSlot(slot)!.id.slice(1))];
    const refined = refineCandidates(open.config.metric, open.config.dimension, query, candidates, source, topK);
    return Array.from(refined.ids, (slot, i) => ({ id: open.recordAtSlot(slot)!.id, distance: refined.distances[i] }));
  }

  async function rerankFromStore(open: OpenIndex, query: Float32Array, topK: number, rerankMult: number, nProbes: number) {
    const [result] = await open.search(query, { topK, nProbes, filter: null, rerankMult }, (record, distance) => ({ id: record.id, distance }));
    expect(result.approximate).toBe(false);
    return result.hits;
  }

  describe.each([
    ['ivf_sq8', 'euclidean'],
    ['ivf_pq', 'squared_euclidean'],
    ['ivf_sq8', 'cosine'],
  ] as const)('%s (%s) on synthetic data', (type, metric) => {
    it('re-ranks from the store exactly as from memory, one store query per search, none once cached', async () => {
      const vectors = awkwardVectors(1200, 32, 11);
      const { store: counted, reads } = countingReads(store);
      const { open, cache } = await trainedIndex('docs', type, metric, vectors, 8, counted);
      try {
        const queries = awkwardVectors(8, 32, 12);
        for (const query of queries) {
          const before = reads();
          const hits = await rerankFromStore(open, query, 10, 4, 3);
          expect(reads() - before).toBe(1);
          expect(hits).toEqual(rerankInMemory(open, vectors, query, 10, 4, 3));
          // The same search again: every candidate's vector is in the cache.
          expect(await rerankFromStore(open, query, 10, 4, 3)).toEqual(hits);
          expect(reads() - before).toBe(1);
        }
        const [batch] = [await open.search(Float32Array.from(queries.flatMap((q) => Array.from(q))), { topK: 10, nProbes: 3, filter: null, rerankMult: 4 }, (record) => record.id)];
        expect(batch.map((result) => result.hits)).toEqual(queries.map((query) => rerankInMemory(open, vectors, query, 10, 4, 3).map((hit) => hit.id)));
      } finally {
        void cache.close();
      }
    });
  });

  describe.skipIf(!haveEmbeddings)('real bge-m3 embeddings (1024-d, cosine)', () => {
    it.each(['ivf_sq8', 'ivf_pq'] as const)('%s: re-ranks from the store exactly as from memory', async (type) => {
      const base = loadF32('paragraph-queries.f32');
      const probes = loadF32('sentence-queries.f32');
      const dimension = 1024;
      const vectors = Array.from({ length: base.length / dimension }, (_, i) => base.slice(i * dimension, (i + 1) * dimension));
      const { open, cache } = await trainedIndex('bge', type, 'cosine', vectors, 16, store);
      try {
        for (let q = 0; q < Math.min(20, probes.length / dimension); q++) {
          const query = probes.slice(q * dimension, (q + 1) * dimension);
          expect(await rerankFromStore(open, query, 10, 10, 4)).toEqual(rerankInMemory(open, vectors, query, 10, 10, 4));
        }
      } finally {
        void cache.close();
      }
    }, 120_000);
  });

  it('keeps the vectors of new writes in the cache where the engine keeps only codes: their re-ranks read no record', async () => {
    const vectors = awkwardVectors(600, 16, 41);
    const { store: counted, reads } = countingReads(store);
    const { open, cache } = await trainedIndex('docs', 'ivf_sq8', 'euclidean', vectors, 4, counted);
    try {
      const fresh = awkwardVectors(50, 16, 42);
      const prepared = await open.prepare(fresh.map((vector, i) => ({ id: `new${i}`, vector, contents: null, metadata: null, metadataJson: null })));
      await store.putItems('docs', prepared.map((item) => item.stored));
      const before = { reads: reads(), cached: cache.storedItems.vectors.size };
      open.applyUpserts(prepared.map((item) => item.record), { remember: true });
      expect(cache.storedItems.vectors.size).toBe(before.cached + 50);
      // The new items' vectors come back bit for bit without a store read...
      const slots = Array.from({ length: 2000 }, (_, slot) => slot).filter((slot) => open.recordAtSlot(slot)?.id.startsWith('new'));
      expect(slots).toHaveLength(50);
      const found = await open.vectorsOfSlots(slots);
      expect(reads()).toBe(before.reads);
      for (const slot of slots) expect(found.get(slot)).toEqual(fresh[Number(open.recordAtSlot(slot)!.id.slice(3))]);
      // ...and a search for one finds it with its exact distance.
      const [result] = await open.search(fresh[7], { topK: 3, nProbes: 4, filter: null, rerankMult: 2 }, (record, distance) => ({ id: record.id, distance }));
      expect(result.hits[0]).toEqual({ id: 'new7', distance: 0 });
      // What an open loads (no `remember`) is not cached: the cache fills with what is used.
      const more = await open.prepare([{ id: 'loaded', vector: fresh[0], contents: null, metadata: null, metadataJson: null }]);
      await store.putItems('docs', more.map((item) => item.stored));
      const size = cache.storedItems.vectors.size;
      open.applyUpserts(more.map((item) => item.record));
      expect(cache.storedItems.vectors.size).toBe(size);
    } finally {
      void cache.close();
    }
  });

  it('forgets cached vectors the index no longer holds: replaced, deleted, changed by a replica, or the index closed', async () => {
    const vectors = awkwardVectors(600, 16, 21);
    const { open, cache } = await trainedIndex('docs', 'ivf_sq8', 'euclidean', vectors, 4, store);
    try {
      const query = vectors[5];
      const cached = cache.storedItems.vectors;
      const [first] = await open.search(query, { topK: 5, nProbes: 4, filter: null, rerankMult: 4 }, (record) => record.id);
      expect(first.hits[0]).toBe('v5');
      const entries = cached.size;
      expect(entries).toBeGreaterThanOrEqual(5);
      // Replaced (as an upsert or a replica's change applies it): the old slot's entry goes, the new vector is found.
      const moved = Float32Array.from(query, (x) => x + 50);
      const [write] = await open.prepare([{ id: 'v5', vector: moved, contents: null, metadata: null, metadataJson: null }]);
      await store.putItems('docs', [write.stored]);
      open.applyUpserts([write.record]);
      expect(cached.size).toBe(entries - 1);
      // The old slot is gone and the new record lies far from the query.
      const [afterReplace] = await open.search(query, { topK: 5, nProbes: 4, filter: null, rerankMult: 4 }, (record) => record.id);
      expect(afterReplace.hits).not.toContain('v5');
      // Deleted: its entry goes.
      const victim = afterReplace.hits[0];
      const before = cached.size;
      open.applyDeletes([victim]);
      expect(cached.size).toBe(before - 1);
      expect((await open.search(query, { topK: 5, nProbes: 4, filter: null, rerankMult: 4 }, (record) => record.id))[0].hits).not.toContain(victim);
      // Closed: every entry of the index goes.
      cache.drop('docs');
      expect(cached.size).toBe(0);
    } finally {
      void cache.close();
    }
  });

  describe('items read back their vectors bit for bit after a restart (engine rows or the store)', () => {
    it.each([
      ['ivf_flat', 'euclidean'],
      ['ivf_flat', 'squared_euclidean'],
      ['ivf_flat', 'cosine'],
      ['ivf_sq8', 'euclidean'],
      ['ivf_sq8', 'cosine'],
      ['ivf_pq', 'squared_euclidean'],
      ['ivf_pq', 'cosine'],
    ] as const)('%s with %s', async (type, metric) => {
      const vectors = awkwardVectors(300, 16, 31);
      const service = await harness.service({}, { store });
      await service.createIndex('docs', key, { dimension: 16, metric, type });
      await service.upsert('docs', key, vectors.map((vector, i) => ({ id: `v${i}`, vector: Array.from(vector), contents: `text ${i}`, metadata: { i } })));
      await service.train('docs', key, { nLists: 4, wait: true });
      // A metadata-only update re-seals the record: its vector must survive it unchanged.
      await service.update('docs', key, ['v3', 'v4'], { metadata: { patched: true } });
      await service.close();
      const restarted = await harness.service({}, { store });
      const ids = vectors.map((_, i) => `v${i}`);
      const items = await restarted.get('docs', key, ids, ['vector', 'contents', 'metadata']);
      expect(items.map((item) => item.id)).toEqual(ids);
      items.forEach((item, i) => {
        expect(new Uint32Array(Float32Array.from(item.vector!).buffer)).toEqual(new Uint32Array(vectors[i].buffer));
        expect(item.contents).toBe(`text ${i}`);
      });
      expect(items[3].metadata).toEqual({ i: 3, patched: true });
      const page = await restarted.browse('docs', key, { first: 1000, include: ['vector'] });
      for (const { item } of page.items) expect(new Uint32Array(Float32Array.from(item.vector!).buffer)).toEqual(new Uint32Array(vectors[Number(item.id.slice(1))].buffer));
      // Near an item: its own vector is the query, so the nearest other item is as brute force finds.
      const [near] = await restarted.search('docs', key, null, { nearItem: 'v7', topK: 1, exact: true, include: ['vector'] });
      expect(near.hits).toHaveLength(1);
      expect(near.hits[0].id).not.toBe('v7');
      await restarted.close();
    }, 60_000);
  });
});
