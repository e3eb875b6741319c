// Revoking a grant on one replica takes effect on another (two servers on one PostgreSQL schema and
// one Redis): the other replica, which has the index open and has accepted the grant before, refuses
// its very next request, and a trainingStatus subscription it serves for that grant ends with the
// error at the next event.
import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { parse } from 'graphql';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { collect, newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { createPostgresTestSchema, probePostgres, probeRedis, type PostgresTestSchema } from '../support/services.js';

const postgres = await probePostgres();
const redis = await probeRedis();
const available = postgres.available && redis.available;

type Data = { r: { __typename: string; id?: string; token?: string; code?: string } };
const gql = (text: string) => parse(text) as TypedDocumentNode<Data, Record<string, unknown>>;

const CREATE = gql('mutation ($index: String!, $key: IndexKey!) { r: createIndex(name: $index, key: $key, dimension: 4) { __typename } }');
const UPSERT = gql('mutation ($index: String!, $key: IndexKey!, $items: [ItemInput!]!) { r: upsert(index: $index, key: $key, items: $items) { __typename } }');
const GRANT = gql('mutation ($index: String!, $key: IndexKey!) { r: createIndexGrant(index: $index, key: $key, permissions: [READ, OBSERVE]) { __typename ... on IndexGrant { id token } } }');
const REVOKE = gql('mutation ($index: String!, $key: IndexKey!, $grantId: ID!) { r: revokeIndexGrant(index: $index, key: $key, grantId: $grantId) { __typename } }');
const SEARCH = gql('query ($index: String!, $key: IndexKey!) { r: search(index: $index, key: $key, vector: [0, 0, 0, 0], topK: 2) { __typename } }');
const TRAIN = gql('mutation ($index: String!, $key: IndexKey!) { r: trainIndex(index: $index, key: $key, nLists: 2) { __typename } }');
const STATUS = gql('subscription ($index: String!, $key: IndexKey!) { r: trainingStatus(index: $index, key: $key) { __typename ... on InvalidIndexKeyError { code } } }');

let schema: PostgresTestSchema;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  if (!available) return;
  schema = await createPostgresTestSchema('grant_replicas');
  const env = {
    CIPHERDEX_DB_TYPE: 'postgres',
    CIPHERDEX_CONNECTION_STRING: schema.connectionString,
    REDIS_URL: redis.url,
    CIPHERDEX_CLUSTER: `grants-${randomBytes(4).toString('hex')}`,
  };
  a = await startTestServer({ env });
  b = await startTestServer({ env });
});

afterAll(async () => {
  if (!available) return;
  await a?.close();
  await b?.close();
  await schema?.drop();
});

it.skipIf(!available)('a grant revoked on replica A is refused by replica B at its next request and subscription event', async () => {
  const key = newIndexKey();
  const index = 'shared';
  expect((await a.request(CREATE, { index, key })).body.data?.r.__typename).toBe('Index');
  const items = Array.from({ length: 8 }, (_, i) => ({ id: `i${i}`, vector: [i, 1, -i, 2] }));
  expect((await a.request(UPSERT, { index, key, items })).body.data?.r.__typename).toBe('UpsertSuccess');
  const granted = (await a.request(GRANT, { index, key })).body.data!.r;
  expect(granted.__typename).toBe('IndexGrant');
  const token = granted.token!;
  // B opens the index through the grant and remembers it.
  expect((await b.request(SEARCH, { index, key: token })).body.data?.r.__typename).toBe('SearchResults');
  expect((await b.request(SEARCH, { index, key: token })).body.data?.r.__typename).toBe('SearchResults');
  const seen: string[] = [];
  const subscription = collect(b.wsClient(), STATUS, { index, key: token }, (result, all) => {
    seen.push(String(result.data?.r.__typename));
    return all.length > 1;
  });
  await expect.poll(() => seen.length).toBe(1);

  expect((await a.request(REVOKE, { index, key, grantId: granted.id })).body.data?.r.__typename).toBe('IndexGrant');
  expect((await b.request(SEARCH, { index, key: token })).body.data?.r.__typename).toBe('InvalidIndexKeyError');
  expect((await b.request(TRAIN, { index, key })).body.data?.r.__typename).toBe('TrainingRun');
  const events = await subscription;
  expect(events.at(-1)?.data?.r).toEqual({ __typename: 'InvalidIndexKeyError', code: 'INVALID_INDEX_KEY' });
  // The index key still opens the index on both.
  expect((await a.request(SEARCH, { index, key })).body.data?.r.__typename).toBe('SearchResults');
});
