// End to end over real HTTP: browse (Relay connection, sealed cursors), count, paged itemIds,
// deleteItems by filter, updateItems (merge patch), and the search controls maxDistance, exact
// and nearItem, with every typed error these fields add.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrowseDocument,
  CountDocument,
  CreateIndexDocument,
  DeleteItemsDocument,
  ItemIdsDocument,
  ItemsDocument,
  SearchBatchDocument,
  SearchDocument,
  TrainIndexDocument,
  UpdateItemsDocument,
  UpsertDocument,
  type BrowseQueryVariables,
  type ItemIdsQuery,
  type ItemIdsQueryVariables,
} from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { exactTopK, toBase64, uniformVectors } from './vectors.js';

const DIM = 8;

describe('browse, count, bulk changes and search controls over the API', () => {
  let server: TestServer;
  const key = newIndexKey();
  const vectors = uniformVectors(120, DIM, 3);
  const items = vectors.map((vector, i) => ({ id: `doc-${i}`, vector, metadata: { shelf: i % 4, tags: i % 3 === 0 ? ['three'] : ['other'] } }));

  async function createFilled(name: string): Promise<void> {
    await server.request(CreateIndexDocument, { name, key, dimension: DIM, metric: 'EUCLIDEAN' });
    const answer = await server.request(UpsertDocument, {
      index: name,
      key,
      items: items.map((item) => ({ id: item.id, vector: toBase64(item.vector), contents: `text ${item.id}`, metadata: item.metadata })),
    });
    expect(answer.body.data?.upsert.__typename).toBe('UpsertSuccess');
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    await createFilled('shelf');
  });
  afterAll(async () => {
    await server.close();
  });

  async function browse(variables: Omit<BrowseQueryVariables, 'index' | 'key'>) {
    const answer = await server.request(BrowseDocument, { index: 'shelf', key, ...variables });
    return answer.body.data!.browse;
  }

  it('browses every item once through its pages, with sealed cursors and the fields selected', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await browse({ first: 25, after });
      if (result.__typename !== 'ItemConnection') throw new Error(JSON.stringify(result));
      seen.push(...result.edges.map((edge) => edge.node!.id));
      for (const edge of result.edges) {
        const written = items.find((item) => item.id === edge.node!.id)!;
        expect(edge.node).toEqual({ id: written.id, vector: Array.from(written.vector), contents: `text ${written.id}`, metadata: written.metadata });
        // Opaque: no id, no token in the clear.
        expect(edge.cursor).not.toContain(edge.node!.id);
      }
      if (!result.pageInfo.hasNextPage) break;
      expect(result.pageInfo.endCursor).toBe(result.edges.at(-1)!.cursor);
      after = result.pageInfo.endCursor!;
    }
    expect(seen).toHaveLength(items.length);
    expect([...seen].sort()).toEqual(items.map((item) => item.id).sort());

    const filtered = await browse({ filter: { shelf: 2, tags: { $contains: 'three' } }, first: 1000 });
    if (filtered.__typename !== 'ItemConnection') throw new Error(JSON.stringify(filtered));
    const expected = items.filter((item) => item.metadata.shelf === 2 && item.metadata.tags.includes('three')).map((item) => item.id);
    expect(filtered.edges.map((edge) => edge.node!.id).sort()).toEqual(expected.sort());
    expect(filtered.edges[0]!.node).toMatchObject({ contents: expect.stringMatching(/^text doc-/), vector: expect.any(Array) });
    expect(filtered.pageInfo.hasNextPage).toBe(false);
  });

  it('answers a forged or foreign cursor, a bad page size and a bad filter with a ValidationError', async () => {
    await createFilled('other');
    const foreign = await server.request(BrowseDocument, { index: 'other', key, first: 1 });
    const foreignCursor = foreign.body.data?.browse.__typename === 'ItemConnection' ? foreign.body.data.browse.pageInfo.endCursor : null;
    expect(foreignCursor).toEqual(expect.any(String));
    for (const variables of [{ after: foreignCursor }, { after: 'Zm9yZ2Vk' }, { first: 0 }, { first: 1001 }, { filter: { shelf: { $near: 1 } } }]) {
      const result = await browse(variables);
      expect(result).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR' });
    }
    expect(await browse({ after: foreignCursor })).toMatchObject({ argument: 'after' });
    expect(await browse({ first: 1001 })).toMatchObject({ argument: 'first', min: 1, max: 1000 });
  });

  it('answers a wrong key and an unknown index with their typed errors on every new field', async () => {
    const wrong = newIndexKey();
    const calls = [
      server.request(BrowseDocument, { index: 'shelf', key: wrong }).then((a) => a.body.data?.browse),
      server.request(CountDocument, { index: 'shelf', key: wrong }).then((a) => a.body.data?.count),
      server.request(ItemIdsDocument, { index: 'shelf', key: wrong, first: 5 }).then((a) => a.body.data?.itemIds),
      server.request(DeleteItemsDocument, { index: 'shelf', key: wrong, filter: { shelf: 1 } }).then((a) => a.body.data?.deleteItems),
      server.request(UpdateItemsDocument, { index: 'shelf', key: wrong, ids: ['doc-1'], contents: 'x' }).then((a) => a.body.data?.updateItems),
    ];
    for (const result of await Promise.all(calls)) expect(result).toMatchObject({ __typename: 'InvalidIndexKeyError', indexName: 'shelf' });
    const ghost = await server.request(CountDocument, { index: 'ghost', key });
    expect(ghost.body.data?.count).toMatchObject({ __typename: 'IndexNotFoundError', indexName: 'ghost' });
    expect(await server.request(CountDocument, { index: 'shelf', key, filter: { $xor: [] } }).then((a) => a.body.data?.count)).toMatchObject({
      __typename: 'ValidationError',
      argument: 'filter',
    });
  });

  it('counts with and without a filter', async () => {
    const all = await server.request(CountDocument, { index: 'shelf', key });
    expect(all.body.data?.count).toEqual({ __typename: 'ItemCount', count: items.length });
    const some = await server.request(CountDocument, { index: 'shelf', key, filter: { $nor: [{ shelf: 0 }, { shelf: { $gte: 3 } }] } });
    expect(some.body.data?.count).toEqual({ __typename: 'ItemCount', count: items.filter((item) => item.metadata.shelf === 1 || item.metadata.shelf === 2).length });
  });

  it('pages itemIds with first and after, and keeps the unpaged answer without them', async () => {
    const unpaged = await server.request(ItemIdsDocument, { index: 'shelf', key });
    expect(unpaged.body.data?.itemIds).toMatchObject({ ids: items.map((item) => item.id).sort(), pageInfo: { hasNextPage: false, endCursor: null } });
    const ids: string[] = [];
    let after: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof server.request<ItemIdsQuery, ItemIdsQueryVariables>>> = await server.request(ItemIdsDocument, { index: 'shelf', key, first: 50, after });
      const result = page.body.data!.itemIds;
      if (result.__typename !== 'ItemIdList') throw new Error(JSON.stringify(result));
      ids.push(...result.ids);
      after = result.pageInfo.hasNextPage ? result.pageInfo.endCursor! : null;
    } while (after !== null);
    expect(ids).toHaveLength(items.length);
    expect(new Set(ids)).toEqual(new Set(items.map((item) => item.id)));
    const bad = await server.request(ItemIdsDocument, { index: 'shelf', key, first: 5, after: 'bm90LWEtY3Vyc29y' });
    expect(bad.body.data?.itemIds).toMatchObject({ __typename: 'ValidationError', argument: 'after' });
  });

  it('updates by merge patch, keeping vectors, and names unknown ids in an ItemsNotFoundError', async () => {
    const updated = await server.request(UpdateItemsDocument, { index: 'shelf', key, ids: ['doc-1', 'doc-2'], metadata: { shelf: null, note: 'checked' }, contents: 'new text' });
    expect(updated.body.data?.updateItems).toEqual({ __typename: 'UpdateItemsSuccess', updatedCount: 2 });
    const read = await server.request(ItemsDocument, { index: 'shelf', key, ids: ['doc-1', 'doc-2'], include: ['VECTOR', 'CONTENTS', 'METADATA'] });
    expect(read.body.data?.items).toMatchObject({
      items: [
        { id: 'doc-1', contents: 'new text', metadata: { tags: ['other'], note: 'checked' }, vector: Array.from(vectors[1]!) },
        { id: 'doc-2', contents: 'new text', metadata: { tags: ['other'], note: 'checked' }, vector: Array.from(vectors[2]!) },
      ],
    });
    const missing = await server.request(UpdateItemsDocument, { index: 'shelf', key, ids: ['doc-3', 'nope'], contents: 'x' });
    expect(missing.body.data?.updateItems).toMatchObject({ __typename: 'ItemsNotFoundError', code: 'ITEMS_NOT_FOUND', ids: ['nope'] });
    const nothing = await server.request(UpdateItemsDocument, { index: 'shelf', key, ids: ['doc-3'] });
    expect(nothing.body.data?.updateItems).toMatchObject({ __typename: 'ValidationError', argument: 'metadata' });
    const unchanged = await server.request(ItemsDocument, { index: 'shelf', key, ids: ['doc-3'], include: ['CONTENTS'] });
    expect(unchanged.body.data?.items).toMatchObject({ items: [{ contents: 'text doc-3' }] });
  });

  it('deletes by filter or by ids, exactly one of them', async () => {
    await createFilled('pruned');
    const both = await server.request(DeleteItemsDocument, { index: 'pruned', key, ids: ['doc-1'], filter: { shelf: 1 } });
    expect(both.body.data?.deleteItems).toMatchObject({ __typename: 'ValidationError', argument: 'ids' });
    const neither = await server.request(DeleteItemsDocument, { index: 'pruned', key });
    expect(neither.body.data?.deleteItems).toMatchObject({ __typename: 'ValidationError', argument: 'ids' });
    const empty = await server.request(DeleteItemsDocument, { index: 'pruned', key, filter: {} });
    expect(empty.body.data?.deleteItems).toMatchObject({ __typename: 'ValidationError', argument: 'filter' });

    const doomed = items.filter((item) => item.metadata.shelf === 1 || item.metadata.tags.includes('three'));
    const deleted = await server.request(DeleteItemsDocument, { index: 'pruned', key, filter: { $or: [{ shelf: 1 }, { tags: 'three' }] } });
    expect(deleted.body.data?.deleteItems).toEqual({ __typename: 'DeleteItemsSuccess', deletedCount: doomed.length });
    const left = await server.request(ItemIdsDocument, { index: 'pruned', key });
    expect(left.body.data?.itemIds).toMatchObject({ ids: items.filter((item) => !doomed.includes(item)).map((item) => item.id).sort() });
    const byIds = await server.request(DeleteItemsDocument, { index: 'pruned', key, ids: ['doc-0', 'doc-2'] });
    expect(byIds.body.data?.deleteItems).toEqual({ __typename: 'DeleteItemsSuccess', deletedCount: 1 });
  });

  it('searches with maxDistance, exact and nearItem, and refuses contradictory controls', async () => {
    await createFilled('near');
    const trained = await server.request(TrainIndexDocument, { index: 'near', key, nLists: 6, wait: true });
    expect(trained.body.data?.trainIndex).toMatchObject({ phase: 'COMPLETED' });
    const query = uniformVectors(1, DIM, 50)[0]!;
    const exact = await server.request(SearchDocument, { index: 'near', key, vector: toBase64(query), topK: 10, exact: true });
    const exactResult = exact.body.data?.search;
    if (exactResult?.__typename !== 'SearchResults') throw new Error(JSON.stringify(exact.body));
    expect(exactResult.exact).toBe(true);
    expect(exactResult.hits.map((hit) => hit.id)).toEqual(exactTopK(query, items, 10));

    const bound = exactResult.hits[3]!.distance;
    const bounded = await server.request(SearchDocument, { index: 'near', key, vector: toBase64(query), topK: 10, exact: true, maxDistance: bound });
    expect(bounded.body.data?.search).toMatchObject({ hits: exactResult.hits.slice(0, 4).map((hit) => ({ id: hit.id })) });

    const near = await server.request(SearchDocument, { index: 'near', key, nearItem: 'doc-7', topK: 5, exact: true });
    const others = items.filter((item) => item.id !== 'doc-7');
    expect(near.body.data?.search).toMatchObject({ hits: exactTopK(vectors[7]!, others, 5).map((id) => ({ id })) });
    const batch = await server.request(SearchBatchDocument, { index: 'near', key, nearItem: 'doc-7', topK: 5, exact: true });
    expect(batch.body.data?.searchBatch).toMatchObject({ results: [{ hits: exactTopK(vectors[7]!, others, 5).map((id) => ({ id })) }] });

    const unknown = await server.request(SearchDocument, { index: 'near', key, nearItem: 'ghost' });
    expect(unknown.body.data?.search).toMatchObject({ __typename: 'ItemsNotFoundError', ids: ['ghost'] });
    const both = await server.request(SearchDocument, { index: 'near', key, nearItem: 'doc-7', vector: toBase64(query) });
    expect(both.body.data?.search).toMatchObject({ __typename: 'ValidationError', argument: 'nearItem' });
    const neither = await server.request(SearchBatchDocument, { index: 'near', key });
    expect(neither.body.data?.searchBatch).toMatchObject({ __typename: 'ValidationError', argument: 'vectors' });
    const contradictory = await server.request(SearchDocument, { index: 'near', key, vector: toBase64(query), exact: true, nProbes: 2 });
    expect(contradictory.body.data?.search).toMatchObject({ __typename: 'ValidationError', argument: 'nProbes' });
    const negative = await server.request(SearchDocument, { index: 'near', key, vector: toBase64(query), maxDistance: -1 });
    expect(negative.body.data?.search).toMatchObject({ __typename: 'ValidationError', argument: 'maxDistance' });
  });
});
