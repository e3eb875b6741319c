// End to end: the item and index life cycle over real HTTP: upsert with contents and metadata,
// read back by id, list ids, search with selected fields and a metadata filter, delete items, delete the index.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateIndexDocument,
  DeleteIndexDocument,
  DeleteItemsDocument,
  IndexesDocument,
  ItemIdsDocument,
  ItemsDocument,
  SearchBatchDocument,
  SearchDocument,
  UpsertDocument,
} from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { exactTopK, toBase64, uniformVectors } from './vectors.js';

describe('items and search over the API', () => {
  let server: TestServer;
  const name = 'library';
  const key = newIndexKey();
  const vectors = uniformVectors(60, 8, 21);
  const items = vectors.map((vector, i) => ({
    id: `doc-${i}`,
    vector,
    contents: `contents of document ${i}`,
    metadata: { shelf: i % 3, tags: i % 2 === 0 ? ['even'] : ['odd'] },
  }));

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    const created = await server.request(CreateIndexDocument, { name, key, dimension: 8, metric: 'EUCLIDEAN' });
    expect(created.body.data?.createIndex).toMatchObject({ __typename: 'Index', name, dimension: 8, metric: 'EUCLIDEAN', type: 'IVF_SQ8', vectorCount: 0, isTrained: false });
    const upserted = await server.request(UpsertDocument, {
      index: name,
      key,
      items: items.map((item) => ({ id: item.id, vector: toBase64(item.vector), contents: item.contents, metadata: item.metadata })),
    });
    expect(upserted.body.data?.upsert).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: 60, index: { vectorCount: 60 } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('reads items back by id, in the order asked, with the fields selected', async () => {
    const answer = await server.request(ItemsDocument, { index: name, key, ids: ['doc-5', 'missing', 'doc-2'] });
    const result = answer.body.data?.items;
    expect(result?.__typename).toBe('ItemList');
    if (result?.__typename !== 'ItemList') return;
    expect(result.items.map((item) => item.id)).toEqual(['doc-5', 'doc-2']);
    expect(result.items[0]).toMatchObject({ contents: 'contents of document 5', metadata: { shelf: 2, tags: ['odd'] } });
    expect(result.items[0]!.vector).toEqual(Array.from(vectors[5]!));

    // A selected field is never null for want of being asked for: null means the item has none.
    await server.request(UpsertDocument, { index: name, key, items: [{ id: 'doc-bare', vector: Array.from(vectors[0]!) }] });
    const bare = await server.request(ItemsDocument, { index: name, key, ids: ['doc-bare'] });
    expect(bare.body.data?.items).toMatchObject({ items: [{ id: 'doc-bare', vector: Array.from(vectors[0]!), contents: null, metadata: null }] });
    await server.request(DeleteItemsDocument, { index: name, key, ids: ['doc-bare'] });
  });

  it('lists every id', async () => {
    const answer = await server.request(ItemIdsDocument, { index: name, key });
    const result = answer.body.data?.itemIds;
    expect(result?.__typename === 'ItemIdList' ? [...result.ids].sort() : null).toEqual(items.map((item) => item.id).sort());
  });

  it('searches exactly, nearest first, with the selected fields and a metadata filter', async () => {
    const query = uniformVectors(1, 8, 77)[0]!;
    const plain = await server.request(SearchDocument, { index: name, key, vector: Array.from(query), topK: 5 });
    const result = plain.body.data?.search;
    if (result?.__typename !== 'SearchResults') throw new Error(JSON.stringify(plain.body));
    expect(result.exact).toBe(true);
    expect(result.hits.map((hit) => hit.id)).toEqual(exactTopK(query, items, 5));
    const distances = result.hits.map((hit) => hit.distance!);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));

    const filtered = await server.request(SearchDocument, {
      index: name,
      key,
      vector: toBase64(query),
      topK: 5,
      filter: { shelf: { $eq: 1 } },
    });
    const hits = filtered.body.data?.search.__typename === 'SearchResults' ? filtered.body.data.search.hits : [];
    const shelfOne = items.filter((item) => item.metadata.shelf === 1);
    expect(hits.map((hit) => hit.id)).toEqual(exactTopK(query, shelfOne, 5));
    for (const hit of hits) {
      expect(hit.metadata).toMatchObject({ shelf: 1 });
      expect(hit.contents).toBe(`contents of document ${hit.id.slice(4)}`);
      expect(hit.vector).toEqual(Array.from(vectors[Number(hit.id.slice(4))]!));
    }
  });

  it('answers a batch search with one result per query, in order', async () => {
    const queries = uniformVectors(3, 8, 78);
    const answer = await server.request(SearchBatchDocument, { index: name, key, vectors: queries.map(toBase64), topK: 3 });
    const result = answer.body.data?.searchBatch;
    if (result?.__typename !== 'SearchBatchResults') throw new Error(JSON.stringify(answer.body));
    expect(result.results.map((r) => r.hits.map((hit) => hit.id))).toEqual(queries.map((query) => exactTopK(query, items, 3)));
  });

  it('replaces an item on re-upsert', async () => {
    await server.request(UpsertDocument, { index: name, key, items: [{ id: 'doc-0', vector: Array.from(vectors[1]!), contents: 'replaced' }] });
    const answer = await server.request(ItemsDocument, { index: name, key, ids: ['doc-0'] });
    expect(answer.body.data?.items).toMatchObject({ items: [{ id: 'doc-0', contents: 'replaced', vector: Array.from(vectors[1]!) }] });
  });

  it('deletes items, counting only those that existed', async () => {
    const answer = await server.request(DeleteItemsDocument, { index: name, key, ids: ['doc-1', 'doc-2', 'missing'] });
    expect(answer.body.data?.deleteItems).toEqual({ __typename: 'DeleteItemsSuccess', deletedCount: 2 });
    const ids = await server.request(ItemIdsDocument, { index: name, key });
    expect(ids.body.data?.itemIds.__typename === 'ItemIdList' ? ids.body.data.itemIds.ids : []).not.toContain('doc-1');
  });

  it('deletes the index', async () => {
    expect((await server.request(IndexesDocument, {})).body.data?.indexes).toContain(name);
    const answer = await server.request(DeleteIndexDocument, { name, key });
    expect(answer.body.data?.deleteIndex).toEqual({ __typename: 'DeleteIndexSuccess', name });
    expect((await server.request(IndexesDocument, {})).body.data?.indexes).not.toContain(name);
  });
});
