// End to end with a real client library: Apollo Client 4 (HttpLink + PersistedQueryLink,
// GraphQLWsLink, InMemoryCache with the generated possibleTypes) against the real server. Payload
// fields come back exactly when selected, through aliases and fragments; the APQ round trip runs
// through the client's own link; mutations, typed errors and the subscription work through it.
import { gql } from '@apollo/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateIndexDocument, TrainIndexDocument, TrainingStatusDocument, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { type ApolloTestClient, createApolloTestClient } from './apollo-client.js';
import { uniformVectors } from './vectors.js';

const PAYLOAD = ['vector', 'contents', 'metadata'] as const;
type Payload = (typeof PAYLOAD)[number];

/** Every subset of the payload fields, the empty one included. */
const COMBINATIONS: Payload[][] = Array.from({ length: 8 }, (_, mask) => PAYLOAD.filter((_, bit) => mask & (1 << bit)));

/**
 * A hit selection that reaches each chosen field a different way: vector under an alias, contents
 * in an inline fragment, metadata in the named fragment's own selection.
 */
function hitSelection(fields: readonly Payload[]): string {
  return [
    'hitId: id distance',
    fields.includes('vector') ? 'v: vector' : '',
    fields.includes('contents') ? '... on SearchHit { contents }' : '',
    fields.includes('metadata') ? 'metadata' : '',
  ].join(' ');
}

/** The response keys each payload field arrives under in hitSelection. */
const RESPONSE_KEY: Record<Payload, string> = { vector: 'v', contents: 'contents', metadata: 'metadata' };

describe('Apollo Client 4 against Cipherdex', () => {
  let server: TestServer;
  let apollo: ApolloTestClient;
  const index = 'apollo';
  const key = newIndexKey();
  const vectors = uniformVectors(20, 4, 5);
  const items = vectors.map((vector, i) => ({ id: `doc-${i}`, vector: Array.from(vector), contents: `text ${i}`, metadata: { n: i } }));
  const byId = new Map(items.map((item) => [item.id, item]));

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    apollo = createApolloTestClient({ url: server.url, wsUrl: server.wsUrl, apiKey: server.apiKey });
    const created = await apollo.client.mutate({ mutation: CreateIndexDocument, variables: { name: index, key, dimension: 4 } });
    expect(created.data?.createIndex.__typename).toBe('Index');
    const upserted = await apollo.client.mutate({ mutation: UpsertDocument, variables: { index, key, items } });
    expect(upserted.data?.upsert).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: 20 });
  });
  afterAll(async () => {
    await apollo.dispose();
    await server.close();
  });

  describe.each(COMBINATIONS.map((fields) => [fields.join(' + ') || 'no payload', fields] as const))('search selecting %s', (_name, fields) => {
    it('answers each hit with exactly the selected fields, right for its item', async () => {
      const query = gql`
        query SearchSome($key: IndexKey!, $vector: Vector!) {
          found: search(index: "apollo", key: $key, vector: $vector, topK: 3) {
            __typename
            ... on SearchResults { exact top: hits { ...HitFields } }
            ... on Error { code message }
          }
        }
        fragment HitFields on SearchHit { ${hitSelection(fields)} }
      `;
      const { data, error } = await apollo.client.query({ query, variables: { key, vector: items[7]!.vector }, fetchPolicy: 'network-only' });
      expect(error).toBeUndefined();
      const found = (data as { found: { __typename: string; top: Record<string, unknown>[] } }).found;
      expect(found.__typename).toBe('SearchResults');
      expect(found.top).toHaveLength(3);
      expect(found.top[0]!.hitId).toBe('doc-7');
      for (const hit of found.top) {
        const item = byId.get(hit.hitId as string)!;
        const expected = ['__typename', 'hitId', 'distance', ...fields.map((field) => RESPONSE_KEY[field])].sort();
        expect(Object.keys(hit).sort()).toEqual(expected);
        if (fields.includes('vector')) expect(hit.v).toEqual(item.vector.map((x) => Math.fround(x)));
        if (fields.includes('contents')) expect(hit.contents).toBe(item.contents);
        if (fields.includes('metadata')) expect(hit.metadata).toEqual(item.metadata);
      }
    });
  });

  it('searchBatch and items follow their own selections too', async () => {
    const query = gql`
      query BatchAndItems($key: IndexKey!, $vectors: [Vector!]!) {
        searchBatch(index: "apollo", key: $key, vectors: $vectors, topK: 1) {
          ... on SearchBatchResults { results { hits { id text: contents } } }
        }
        items(index: "apollo", key: $key, ids: ["doc-2"]) { ... on ItemList { items { id ... ItemMeta } } }
      }
      fragment ItemMeta on Item { metadata }
    `;
    const { data } = await apollo.client.query({ query, variables: { key, vectors: [items[3]!.vector, items[4]!.vector] }, fetchPolicy: 'network-only' });
    const answer = data as { searchBatch: { results: { hits: object[] }[] }; items: { items: object[] } };
    expect(answer.searchBatch.results.map((result) => result.hits)).toEqual([
      [{ __typename: 'SearchHit', id: 'doc-3', text: 'text 3' }],
      [{ __typename: 'SearchHit', id: 'doc-4', text: 'text 4' }],
    ]);
    expect(answer.items.items).toEqual([{ __typename: 'Item', id: 'doc-2', metadata: { n: 2 } }]);
  });

  it('reads typed errors through fragments on the Error interface, matched by the generated possibleTypes', async () => {
    const query = gql`
      query Missing($key: IndexKey!) {
        search(index: "no-such-index", key: $key, vector: [0, 0, 0, 0]) { __typename ...Problem }
      }
      fragment Problem on Error { code message }
    `;
    const { data } = await apollo.client.query({ query, variables: { key } });
    expect((data as { search: object }).search).toMatchObject({ __typename: 'IndexNotFoundError', code: 'INDEX_NOT_FOUND' });

    // The same query through a cache without the map loses the interface fragment's fields.
    const bare = createApolloTestClient({ url: server.url, wsUrl: server.wsUrl, apiKey: server.apiKey, possibleTypes: {} });
    try {
      const without = await bare.client.query({ query, variables: { key } });
      expect((without.data as { search: object }).search).not.toHaveProperty('code');
    } finally {
      await bare.dispose();
    }
  });

  it('runs the APQ round trip through PersistedQueryLink: a miss, the registration, then hits by hash over GET', async () => {
    const client = createApolloTestClient({ url: server.url, wsUrl: server.wsUrl, apiKey: server.apiKey, useGETForHashedQueries: true });
    try {
      const query = gql`
        query PersistedSearch($key: IndexKey!, $vector: Vector!) {
          search(index: "apollo", key: $key, vector: $vector, topK: 1) { ... on SearchResults { hits { id } } }
        }
      `;
      const first = await client.client.query({ query, variables: { key, vector: items[1]!.vector }, fetchPolicy: 'network-only' });
      expect(first.data).toEqual({ search: { __typename: 'SearchResults', hits: [{ __typename: 'SearchHit', id: 'doc-1' }] } });
      expect(client.requests).toEqual([
        { method: 'GET', sentQuery: false, sentHash: true, status: 404 },
        { method: 'POST', sentQuery: true, sentHash: true, status: 200 },
      ]);
      client.requests.length = 0;
      const second = await client.client.query({ query, variables: { key, vector: items[2]!.vector }, fetchPolicy: 'network-only' });
      expect(second.data).toEqual({ search: { __typename: 'SearchResults', hits: [{ __typename: 'SearchHit', id: 'doc-2' }] } });
      expect(client.requests).toEqual([{ method: 'GET', sentQuery: false, sentHash: true, status: 200 }]);

      // Mutations never go by GET, persisted or not.
      client.requests.length = 0;
      const upsert = await client.client.mutate({ mutation: UpsertDocument, variables: { index, key, items: [items[0]!] } });
      expect(upsert.data?.upsert.__typename).toBe('UpsertSuccess');
      expect(client.requests.map((request) => request.method)).toEqual(client.requests.map(() => 'POST'));
      expect(client.requests.at(-1)).toMatchObject({ status: 200 });
    } finally {
      await client.dispose();
    }
  });

  it('trains with wait and watches it over GraphQLWsLink', async () => {
    const events: { phase: string; runId: string | null }[] = [];
    const completed = new Promise<void>((resolve, reject) => {
      const subscription = apollo.client.subscribe({ query: TrainingStatusDocument, variables: { index, key } }).subscribe({
        next: ({ data }) => {
          const status = data?.trainingStatus;
          if (status?.__typename !== 'TrainingStatus') return reject(new Error(JSON.stringify(data)));
          events.push({ phase: status.phase, runId: status.runId ?? null });
          if (status.phase === 'COMPLETED') {
            subscription.unsubscribe();
            resolve();
          }
        },
        error: reject,
      });
    });
    // The subscription answers its current state first; train once it is listening.
    await expect.poll(() => events.length, { timeout: 30_000 }).toBeGreaterThan(0);
    const trained = await apollo.client.mutate({ mutation: TrainIndexDocument, variables: { index, key, nLists: 2, wait: true } });
    expect(trained.data?.trainIndex).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED' });
    await completed;
    // Progress events may be coalesced for a slow subscriber; the final one never is.
    const runId = trained.data?.trainIndex.__typename === 'TrainingRun' ? trained.data.trainIndex.runId : null;
    expect(events.at(-1)).toEqual({ phase: 'COMPLETED', runId });
  });
});
