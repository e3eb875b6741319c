// Index types through the service, on both stores: IVF_SQ8 and IVF_PQ created, validated (typed
// errors, nothing created), trained (codec persisted in the sealed model, kept over a restart),
// searched with the exact re-rank (recall against brute force, exact distances) or without it
// (code distances, marked approximate), and their measured resident bytes.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/service/errors.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import type { IndexType, ItemInput } from '../../src/service/types.js';
import { bruteForce, distance, recall, seededVectors } from './reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from './service-harness.js';

const DIM = 32;
const COUNT = 600;

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  let service: CipherdexIndexService;
  const key = newKey();
  const vectors = seededVectors(COUNT, DIM, 71);
  const items: ItemInput[] = vectors.map((vector, i) => ({ id: `v-${i}`, vector }));
  const queries = seededVectors(12, DIM, 72);

  beforeEach(async () => {
    harness = await fresh();
    service = await harness.service();
  });
  afterEach(async () => harness.dispose());

  async function trained(name: string, type: IndexType, options: { pqSubvectors?: number } = {}): Promise<void> {
    await service.createIndex(name, key, { dimension: DIM, metric: 'cosine', type, ...options });
    await service.upsert(name, key, items);
    await service.train(name, key, { wait: true, nLists: 8 });
  }

  it('refuses bad PQ shapes and PQ options on other types with ValidationError, creating nothing', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ type: 'ivf_pq', pqSubvectors: 5 }, 'pqSubvectors'],
      [{ type: 'ivf_pq', pqSubvectors: 0 }, 'pqSubvectors'],
      [{ type: 'ivf_pq', pqBits: 9 }, 'pqBits'],
      [{ type: 'ivf_pq', pqBits: 2.5 }, 'pqBits'],
      [{ type: 'ivf_sq8', pqBits: 8 }, 'pqBits'],
      [{ type: 'ivf_flat', pqSubvectors: 4 }, 'pqSubvectors'],
      [{ type: 'hnsw' }, 'type'],
    ];
    for (const [options, argument] of cases) {
      const error = await service.createIndex('bad', key, { dimension: DIM, ...options } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).argument).toBe(argument);
    }
    expect(await service.listIndexes()).toEqual([]);
  });

  it('describes each type with its PQ shape and measured resident bytes, SQ8 below IVF_FLAT', async () => {
    await trained('flat', 'ivf_flat');
    await trained('sq8', 'ivf_sq8');
    await trained('pq', 'ivf_pq', { pqSubvectors: 8 });
    const [flat, sq8, pq] = await Promise.all(['flat', 'sq8', 'pq'].map((name) => service.describeIndex(name, key)));
    expect(flat).toMatchObject({ type: 'ivf_flat', pqSubvectors: null, pqBits: null, isTrained: true });
    expect(sq8).toMatchObject({ type: 'ivf_sq8', pqSubvectors: null, pqBits: null, isTrained: true });
    expect(pq).toMatchObject({ type: 'ivf_pq', pqSubvectors: 8, pqBits: 8, isTrained: true });
    for (const info of [flat, sq8, pq]) expect(info.bytesPerVector).toBeCloseTo(info.residentBytes / COUNT, 6);
    // At 600 vectors PQ's fixed cost (codebooks, encoder memory) outweighs its codes; the tiers
    // benchmark compares the types per vector at scale.
    expect(sq8.residentBytes).toBeLessThan(flat.residentBytes);
    expect(pq.residentBytes).toBeGreaterThan(0);
    const empty = await service.createIndex('empty', key, { dimension: DIM, type: 'ivf_sq8' });
    expect(empty.bytesPerVector).toBeNull();
  });

  describe.each([
    ['ivf_sq8', {}],
    ['ivf_pq', { pqSubvectors: 8 }],
  ] as const)('%s', (type, options) => {
    it('re-ranks on the exact vectors by default (exact distances, recall against brute force) and returns code distances with rerankMult 0', async () => {
      await trained('docs', type, options);
      const reference = items.map((item) => ({ id: item.id, vector: item.vector as number[] }));
      let reranked = 0;
      for (const query of queries) {
        const truth = bruteForce('cosine', reference, query, 10);
        const [result] = await service.search('docs', key, [query], { topK: 10, nProbes: 8 });
        expect(result.approximate).toBe(false);
        for (const hit of result.hits) expect(hit.distance).toBeCloseTo(distance('cosine', query, vectors[Number(hit.id.slice(2))]), 5);
        reranked += recall(result.hits.map((h) => h.id), truth.map((t) => t.id));
        const [codes] = await service.search('docs', key, [query], { topK: 10, nProbes: 8, rerankMult: 0 });
        expect(codes.approximate).toBe(true);
        expect(codes.hits).toHaveLength(10);
      }
      expect(reranked / queries.length).toBeGreaterThanOrEqual(0.97);
      const batch = await service.search('docs', key, queries, { topK: 10, nProbes: 8 });
      for (const [q, query] of queries.entries()) {
        const [single] = await service.search('docs', key, [query], { topK: 10, nProbes: 8 });
        expect(batch[q].hits.map((h) => h.id)).toEqual(single.hits.map((h) => h.id));
      }
      await expect(service.search('docs', key, [queries[0]], { rerankMult: -1 })).rejects.toMatchObject({ argument: 'rerankMult' });
    });

    it('keeps its trained codec over a restart: the same answers, codes distances included', async () => {
      await trained('docs', type, options);
      const before = await service.search('docs', key, queries, { topK: 10, nProbes: 3, rerankMult: 0 });
      await service.close();
      const reopened = await harness.service();
      const after = await reopened.search('docs', key, queries, { topK: 10, nProbes: 3, rerankMult: 0 });
      expect(after.map((r) => r.hits)).toEqual(before.map((r) => r.hits));
      expect(after.every((r) => r.approximate)).toBe(true);
      expect(await reopened.describeIndex('docs', key)).toMatchObject({ type, isTrained: true, vectorCount: COUNT });
    });

    it('retrains a codes-only index and codes writes made after training', async () => {
      await trained('docs', type, options);
      await service.upsert('docs', key, [{ id: 'late', vector: queries[0] }]);
      const [found] = await service.search('docs', key, [queries[0]], { topK: 1, nProbes: 8 });
      expect(found.hits[0]).toMatchObject({ id: 'late' });
      expect(found.hits[0].distance).toBeCloseTo(0, 5);
      await service.train('docs', key, { wait: true, nLists: 4 });
      expect(await service.describeIndex('docs', key)).toMatchObject({ nLists: 4, vectorCount: COUNT + 1 });
      const [again] = await service.search('docs', key, [queries[0]], { topK: 1, nProbes: 4 });
      expect(again.hits[0]).toMatchObject({ id: 'late' });
    });
  });
});
