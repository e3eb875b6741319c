// End to end over real HTTP: IVF_SQ8 and IVF_PQ indexes created (a PQ shape that does not fit is a
// typed ValidationError), trained, described with their measured resident bytes, and searched with
// the exact re-rank (the default) or on code distances (rerankMult 0, marked approximate), one
// query and a batch.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateIndexDocument, IndexDocument, SearchBatchDocument, SearchDocument, TrainIndexDocument, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { clusteredVectors, exactTopK, recall, toBase64 } from './vectors.js';

describe('index types over the API', () => {
  let server: TestServer;
  const key = newIndexKey();
  const vectors = clusteredVectors(400, 16, 8, 21);
  const items = vectors.map((vector, i) => ({ id: `v-${i}`, vector }));
  const queries = clusteredVectors(6, 16, 8, 22);

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    for (const [name, variables] of [
      ['sq8', { type: 'IVF_SQ8' }],
      ['pq', { type: 'IVF_PQ', pqSubvectors: 4, pqBits: 8 }],
    ] as const) {
      const created = await server.request(CreateIndexDocument, { name, key, dimension: 16, ...variables });
      expect(created.body.data?.createIndex).toMatchObject({ __typename: 'Index', type: variables.type, residentBytes: expect.any(Number), bytesPerVector: null });
      const upserted = await server.request(UpsertDocument, { index: name, key, items: items.map((item) => ({ id: item.id, vector: toBase64(item.vector) })) });
      expect(upserted.body.data?.upsert).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: 400 });
      const trained = await server.request(TrainIndexDocument, { index: name, key, nLists: 8, wait: true });
      expect(trained.body.data?.trainIndex).toMatchObject({ phase: 'COMPLETED' });
    }
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a PQ shape that does not divide the dimension with a typed ValidationError', async () => {
    const answer = await server.request(CreateIndexDocument, { name: 'bad', key, dimension: 16, type: 'IVF_PQ', pqSubvectors: 5 });
    expect(answer.body.data?.createIndex).toMatchObject({ __typename: 'ValidationError', argument: 'pqSubvectors' });
  });

  it('describes the PQ shape and the resident bytes per vector', async () => {
    const answer = await server.request(IndexDocument, { name: 'pq', key });
    const index = answer.body.data?.index;
    if (index?.__typename !== 'Index') throw new Error(JSON.stringify(answer.body));
    expect(index).toMatchObject({ type: 'IVF_PQ', pqSubvectors: 4, pqBits: 8, isTrained: true, vectorCount: 400 });
    expect(index.bytesPerVector).toBeCloseTo(index.residentBytes / 400, 6);
  });

  it.each(['sq8', 'pq'])('%s: re-ranks exactly by default, returns code distances with rerankMult 0', async (name) => {
    let sum = 0;
    for (const query of queries) {
      const exact = await server.request(SearchDocument, { index: name, key, vector: toBase64(query), topK: 5, nProbes: 8 });
      const result = exact.body.data?.search;
      if (result?.__typename !== 'SearchResults') throw new Error(JSON.stringify(exact.body));
      expect(result.approximate).toBe(false);
      sum += recall(result.hits.map((hit) => hit.id), exactTopK(query, items, 5));
      const codes = await server.request(SearchDocument, { index: name, key, vector: toBase64(query), topK: 5, nProbes: 8, rerankMult: 0 });
      expect(codes.body.data?.search).toMatchObject({ __typename: 'SearchResults', approximate: true });
    }
    expect(sum / queries.length).toBeGreaterThanOrEqual(0.95);
    const batch = await server.request(SearchBatchDocument, { index: name, key, vectors: queries.map(toBase64), topK: 5, rerankMult: 0 });
    const results = batch.body.data?.searchBatch;
    if (results?.__typename !== 'SearchBatchResults') throw new Error(JSON.stringify(batch.body));
    expect(results.results.map((r) => r.approximate)).toEqual(queries.map(() => true));
  });
});
