// Tenant-bound API keys end to end over real HTTP, WebSockets and SSE: a key bound to a name
// prefix (CIPHERDEX_API_KEY's key=prefix) reaches only its tenant's indexes. A table of every root
// field that names an index: on another tenant's index, even with that index's right key, each
// answers IndexNotFoundError, byte for byte the answer for an index that does not exist, and
// changes nothing. Listings (indexes, trainingQueue) leave other tenants out; creating outside the
// prefix is a ValidationError; /metrics is for unbound keys and the metrics token; an unbound key
// sees everything.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { randomBytes } from 'node:crypto';
import { parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/graphql/schema/index.js';
import { collect, newIndexKey, startTestServer, type TestServer } from '../server/harness.js';

type Data = Record<string, unknown>;
const gql = (text: string) => parse(text) as TypedDocumentNode<Data, Record<string, unknown>>;

const ops = `ops_${randomBytes(12).toString('hex')}`;
const acme = `acme_${randomBytes(12).toString('hex')}`;
const globex = `globex_${randomBytes(12).toString('hex')}`;
const metricsToken = `scrape_${randomBytes(12).toString('hex')}`;
const key = newIndexKey();

/** What every index-scoped answer selects: enough to tell any two error answers apart. */
const ANSWER = '__typename ... on Error { code message } ... on IndexNotFoundError { indexName }';

/** Every root field that names an index, each with arguments valid for an index that exists. */
const OPERATIONS: Array<{ name: string; document: TypedDocumentNode<Data, Record<string, unknown>> }> = [
  { name: 'index', document: gql(`query ($index: String!, $key: IndexKey!) { r: index(name: $index, key: $key) { ${ANSWER} } }`) },
  { name: 'search', document: gql(`query ($index: String!, $key: IndexKey!) { r: search(index: $index, key: $key, vector: [0, 0, 0, 0], topK: 1) { ${ANSWER} } }`) },
  { name: 'searchBatch', document: gql(`query ($index: String!, $key: IndexKey!) { r: searchBatch(index: $index, key: $key, vectors: [[0, 0, 0, 0]], topK: 1) { ${ANSWER} } }`) },
  { name: 'items', document: gql(`query ($index: String!, $key: IndexKey!) { r: items(index: $index, key: $key, ids: ["item-1"]) { ${ANSWER} } }`) },
  { name: 'itemIds', document: gql(`query ($index: String!, $key: IndexKey!) { r: itemIds(index: $index, key: $key) { ${ANSWER} } }`) },
  { name: 'browse', document: gql(`query ($index: String!, $key: IndexKey!) { r: browse(index: $index, key: $key, first: 2) { ${ANSWER} } }`) },
  { name: 'count', document: gql(`query ($index: String!, $key: IndexKey!) { r: count(index: $index, key: $key) { ${ANSWER} } }`) },
  { name: 'trainingRuns', document: gql(`query ($index: String!, $key: IndexKey!) { r: trainingRuns(index: $index, key: $key) { ${ANSWER} } }`) },
  { name: 'trainingRun', document: gql(`query ($index: String!, $key: IndexKey!) { r: trainingRun(index: $index, key: $key, runId: "no-such-run") { ${ANSWER} } }`) },
  { name: 'indexGrants', document: gql(`query ($index: String!, $key: IndexKey!) { r: indexGrants(index: $index, key: $key) { ${ANSWER} } }`) },
  { name: 'upsert', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: upsert(index: $index, key: $key, items: [{ id: "w", vector: [1, 2, 3, 4] }]) { ${ANSWER} } }`) },
  { name: 'updateItems', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: updateItems(index: $index, key: $key, ids: ["item-2"], contents: "changed") { ${ANSWER} } }`) },
  { name: 'deleteItems', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: deleteItems(index: $index, key: $key, ids: ["item-3"]) { ${ANSWER} } }`) },
  { name: 'trainIndex', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: trainIndex(index: $index, key: $key, nLists: 2, wait: true) { ${ANSWER} } }`) },
  { name: 'cancelTraining', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: cancelTraining(index: $index, key: $key) { ${ANSWER} } }`) },
  { name: 'createIndexGrant', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: createIndexGrant(index: $index, key: $key, permissions: [READ]) { ${ANSWER} } }`) },
  { name: 'revokeIndexGrant', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: revokeIndexGrant(index: $index, key: $key, grantId: "00000000000000000000000000000000") { ${ANSWER} } }`) },
  { name: 'rotateIndexKey', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: rotateIndexKey(name: $index, key: $key, newKey: "${newIndexKey()}") { ${ANSWER} } }`) },
  { name: 'deleteIndex', document: gql(`mutation ($index: String!, $key: IndexKey!) { r: deleteIndex(name: $index, key: $key) { ${ANSWER} } }`) },
];

const SUBSCRIPTIONS: Array<{ name: string; document: TypedDocumentNode<Data, Record<string, unknown>> }> = [
  { name: 'trainingStatus', document: gql(`subscription ($index: String!, $key: IndexKey!) { r: trainingStatus(index: $index, key: $key) { ${ANSWER} } }`) },
  { name: 'indexStats', document: gql(`subscription ($index: String!, $key: IndexKey!) { r: indexStats(index: $index, key: $key) { ${ANSWER} } }`) },
];

const CREATE = gql(`mutation ($index: String!, $key: IndexKey!) { r: createIndex(name: $index, key: $key, dimension: 4) { __typename ... on Error { code message } ... on ValidationError { argument } } }`);
const UPSERT = gql('mutation ($index: String!, $key: IndexKey!, $items: [ItemInput!]!) { r: upsert(index: $index, key: $key, items: $items) { __typename } }');
const DESCRIBE = gql('query ($index: String!, $key: IndexKey!) { r: index(name: $index, key: $key) { __typename ... on Index { vectorCount } } }');
const ITEM = gql('query ($index: String!, $key: IndexKey!) { r: items(index: $index, key: $key, ids: ["item-2"]) { __typename ... on ItemList { items { id contents } } } }');
const GRANTS = gql('query ($index: String!, $key: IndexKey!) { r: indexGrants(index: $index, key: $key) { __typename ... on QueryIndexGrantsSuccess { data { id } } } }');
const INDEXES = gql('query { indexes }');
/** The dashboard's own query (src/dashboard/dashboard.js), over its WebSocket. */
const DASHBOARD = gql('query { indexes trainingQueue { autoTrainEnabled retrainThreshold running { index runId phase } queued { index runId } } }');
const QUEUE = gql('subscription { trainingQueue { running { index runId phase } queued { index runId phase } } }');
const TRAIN = gql('mutation ($index: String!, $key: IndexKey!) { r: trainIndex(index: $index, key: $key, nLists: 2, wait: true) { __typename ... on TrainingRun { phase } } }');

let server: TestServer;

async function post(document: TypedDocumentNode<Data, Record<string, unknown>>, variables: Record<string, unknown>, apiKey: string): Promise<{ status: number; body: string }> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': apiKey },
    body: JSON.stringify({ query: print(document), variables }),
  });
  return { status: response.status, body: await response.text() };
}

async function createIndex(index: string, apiKey: string): Promise<void> {
  expect((await server.request(CREATE, { index, key }, { apiKey })).body.data?.r).toEqual({ __typename: 'Index' });
  const items = Array.from({ length: 12 }, (_, i) => ({ id: `item-${i}`, vector: [i, i % 3, 1, -i], contents: `c${i}` }));
  expect((await server.request(UPSERT, { index, key, items }, { apiKey })).body.data?.r).toEqual({ __typename: 'UpsertSuccess' });
}

/** Every operation and subscription on `index` with `apiKey`, as the raw HTTP body and the first WebSocket event. */
async function answers(index: string, apiKey: string): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  for (const operation of OPERATIONS) seen[operation.name] = await post(operation.document, { index, key }, apiKey);
  const client = server.wsClient(apiKey);
  for (const subscription of SUBSCRIPTIONS) {
    seen[subscription.name] = await collect(client, subscription.document, { index, key }, () => true);
  }
  await client.dispose();
  return seen;
}

beforeAll(async () => {
  server = await startTestServer({
    env: {
      CIPHERDEX_API_KEY: `${ops}, ${acme}=acme-, ${globex}=globex-`,
      CIPHERDEX_METRICS_TOKEN: metricsToken,
      METRICS_INDEX_LABELS: 'true',
      AUTO_TRAIN_DISABLED: 'true',
    },
  });
  await createIndex('acme-docs', acme);
  await createIndex('globex-docs', globex);
  await createIndex('shared', ops);
});

afterAll(async () => {
  await server.close();
});

describe('listings', () => {
  it("indexes lists only the tenant's indexes, over HTTP and over the dashboard's WebSocket; an unbound key lists all", async () => {
    expect((await server.request(INDEXES, {}, { apiKey: acme })).body.data).toEqual({ indexes: ['acme-docs'] });
    expect((await server.request(INDEXES, {}, { apiKey: globex })).body.data).toEqual({ indexes: ['globex-docs'] });
    expect((await server.request(INDEXES, {}, { apiKey: ops })).body.data).toEqual({ indexes: ['acme-docs', 'globex-docs', 'shared'] });
    const [dashboard] = await collect(server.wsClient(acme), DASHBOARD, {});
    expect(dashboard.data).toMatchObject({ indexes: ['acme-docs'], trainingQueue: { running: [], queued: [] } });
  });

  it("a tenant's trainingQueue subscription sees its own runs and never hears of another tenant's", async () => {
    const tenant: Array<Record<string, unknown>> = [];
    const operator: Array<Record<string, unknown>> = [];
    const mentions = (value: unknown, name: string) => JSON.stringify(value).includes(name);
    const tenantDone = collect(server.wsClient(acme), QUEUE, {}, (result, all) => {
      tenant.push(result.data!);
      return all.length >= 2;
    });
    const operatorDone = collect(server.wsClient(ops), QUEUE, {}, (result) => {
      operator.push(result.data!);
      return mentions(result.data, 'acme-docs');
    });
    await expect.poll(() => tenant.length > 0 && operator.length > 0).toBe(true);
    // Globex trains first: the operator sees it; acme's next event is about acme's run, not globex's.
    expect((await server.request(TRAIN, { index: 'globex-docs', key }, { apiKey: globex })).body.data?.r).toEqual({ __typename: 'TrainingRun', phase: 'COMPLETED' });
    expect((await server.request(TRAIN, { index: 'acme-docs', key }, { apiKey: acme })).body.data?.r).toEqual({ __typename: 'TrainingRun', phase: 'COMPLETED' });
    await Promise.all([tenantDone, operatorDone]);
    expect(operator.some((event) => mentions(event, 'globex-docs'))).toBe(true);
    expect(tenant.some((event) => mentions(event, 'globex'))).toBe(false);
    expect(tenant[0]).toEqual({ trainingQueue: { running: [], queued: [] } });
    expect(mentions(tenant[1], 'acme-docs')).toBe(true);
  });
});

describe("another tenant's index", () => {
  it('the table below holds every root field that names an index; the others are the listings, health and createIndex', () => {
    const fields = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].flatMap((type) => Object.values(type!.getFields()));
    const naming = (field: (typeof fields)[number]) => field.args.some((arg) => arg.name === 'index' || arg.name === 'name');
    const tabled = [...OPERATIONS, ...SUBSCRIPTIONS].map(({ name }) => name).sort();
    expect(tabled).toEqual(fields.filter((field) => naming(field) && field.name !== 'createIndex').map((field) => field.name).sort());
    // A new root field that names no index still has to be judged here: could it show another tenant's?
    expect(fields.filter((field) => !naming(field)).map((field) => field.name).sort()).toEqual(['health', 'indexes', 'trainingQueue', 'trainingQueue']);
  });

  it('every root field answers IndexNotFoundError, identical to an absent index, and changes nothing, over HTTP and WebSockets', async () => {
    // acme's key on globex's index, with globex's index key: refused as absent...
    const foreign = await answers('globex-docs', acme);
    for (const operation of OPERATIONS) {
      const { status, body } = foreign[operation.name] as { status: number; body: string };
      expect(status, operation.name).toBe(200);
      expect(JSON.parse(body), operation.name).toEqual({
        data: { r: { __typename: 'IndexNotFoundError', code: 'INDEX_NOT_FOUND', message: 'Index "globex-docs" does not exist.', indexName: 'globex-docs' } },
      });
    }
    for (const subscription of SUBSCRIPTIONS) {
      expect(foreign[subscription.name], subscription.name).toEqual([{ data: { r: { __typename: 'IndexNotFoundError', code: 'INDEX_NOT_FOUND', message: 'Index "globex-docs" does not exist.', indexName: 'globex-docs' } } }]);
    }
    // ...and nothing happened to it: not deleted, not rotated (its key opens it), items and grants as they were.
    expect((await server.request(DESCRIBE, { index: 'globex-docs', key }, { apiKey: globex })).body.data?.r).toEqual({ __typename: 'Index', vectorCount: 12 });
    expect((await server.request(ITEM, { index: 'globex-docs', key }, { apiKey: globex })).body.data?.r).toEqual({ __typename: 'ItemList', items: [{ id: 'item-2', contents: 'c2' }] });
    expect((await server.request(GRANTS, { index: 'globex-docs', key }, { apiKey: globex })).body.data?.r).toEqual({ __typename: 'QueryIndexGrantsSuccess', data: [] });

    // Once globex's index is gone, an unbound key and acme's key get exactly those answers.
    expect((await server.request(OPERATIONS.at(-1)!.document, { index: 'globex-docs', key }, { apiKey: globex })).body.data?.r).toMatchObject({ __typename: 'DeleteIndexSuccess' });
    expect(await answers('globex-docs', ops)).toEqual(foreign);
    expect(await answers('globex-docs', acme)).toEqual(foreign);
  });

  it('the same holds for an SSE subscription', async () => {
    await createIndex('globex-sse', globex);
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': acme },
      body: JSON.stringify({ query: print(SUBSCRIPTIONS[0]!.document), variables: { index: 'globex-sse', key } }),
    });
    const text = await response.text();
    expect(text).toContain('"__typename":"IndexNotFoundError"');
    expect(text).not.toContain('"TrainingStatus"');
  });

  it('createIndex outside the prefix is a ValidationError on name, the same whether or not the name is taken, and creates nothing', async () => {
    const refusal = { __typename: 'ValidationError', code: 'VALIDATION_ERROR', argument: 'name', message: 'this API key creates only indexes whose names start with the prefix it is bound to' };
    for (const index of ['shared', 'globex-new', 'acme']) {
      expect((await server.request(CREATE, { index, key }, { apiKey: acme })).body.data?.r, index).toEqual(refusal);
    }
    expect((await server.request(INDEXES, {}, { apiKey: ops })).body.data?.indexes).not.toContain('globex-new');
    expect((await server.request(CREATE, { index: 'acme-new', key }, { apiKey: acme })).body.data?.r).toEqual({ __typename: 'Index' });
  });

  it('an unbound key reaches every tenant', async () => {
    expect((await server.request(DESCRIBE, { index: 'acme-docs', key }, { apiKey: ops })).body.data?.r).toEqual({ __typename: 'Index', vectorCount: 12 });
    expect((await server.request(CREATE, { index: 'globex-by-ops', key }, { apiKey: ops })).body.data?.r).toEqual({ __typename: 'Index' });
  });
});

describe('/metrics', () => {
  const scrape = (headers: Record<string, string>) => fetch(server.url.replace(/\/graphql$/, '/metrics'), { headers });

  it("serves unbound keys and the metrics token; refuses a tenant's key with 403, not counted as a wrong key", async () => {
    const operator = await scrape({ 'x-api-key': ops });
    expect(operator.status).toBe(200);
    expect(await operator.text()).toContain('index="acme-docs"');
    expect((await scrape({ authorization: `Bearer ${metricsToken}` })).status).toBe(200);
    for (let attempt = 0; attempt < 12; attempt++) {
      const tenant = await scrape({ 'x-api-key': acme });
      expect(tenant.status).toBe(403);
      const body = await tenant.text();
      expect(JSON.parse(body).errors[0].extensions.code).toBe('FORBIDDEN');
      expect(body).not.toContain('acme-docs');
    }
    // Twelve refusals past the failed-authentication limit (10), and the address is not rate limited.
    expect((await scrape({ 'x-api-key': ops })).status).toBe(200);
  });
});
