// /metrics over real HTTP, scraped and parsed with a Prometheus text-format parser: it is closed
// without the API key or the metrics token, counts requests per operation and root field, the
// search stages, upserts, training runs, store calls and authentication refusals, reads queue
// depth and resident memory from the service, and never labels a series with an id, a content,
// metadata or a key (index names only when METRICS_INDEX_LABELS is on).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateIndexDocument, SearchBatchDocument, SearchDocument, TrainIndexDocument, UpsertDocument } from '../../generated/graphql.js';
import { clusteredVectors, toBase64 } from '../../e2e/vectors.js';
import { scrapeMetrics } from '../../support/scrape-metrics.js';
import { newIndexKey, startTestServer, type TestServer } from '../harness.js';

const METRICS_TOKEN = 'scraper-token-0123456789';
const INDEX = 'metered';
const SECRET_CONTENTS = 'contents-that-must-not-leak';

async function populate(server: TestServer, key: string) {
  const vectors = clusteredVectors(300, 8, 6, 5);
  expect((await server.request(CreateIndexDocument, { name: INDEX, key, dimension: 8 })).body.data?.createIndex.__typename).toBe('Index');
  const items = vectors.map((vector, i) => ({ id: `item-${i}`, vector: toBase64(vector), contents: SECRET_CONTENTS, metadata: { tag: 'meta-value' } }));
  const upserted = await server.request(UpsertDocument, { index: INDEX, key, items });
  expect(upserted.body.data?.upsert.__typename).toBe('UpsertSuccess');
  return vectors;
}

describe('useMetrics: Prometheus /metrics', () => {
  let server: TestServer;
  const key = newIndexKey();
  let runIterations = 0;

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', CIPHERDEX_METRICS_TOKEN: METRICS_TOKEN } });
    const vectors = await populate(server, key);
    const run = await server.request(TrainIndexDocument, { index: INDEX, key, nLists: 4, maxIters: 7, tolerance: 0, wait: true });
    const trained = run.body.data?.trainIndex;
    expect(trained).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED' });
    runIterations = trained?.__typename === 'TrainingRun' ? trained.iteration : -1;
    expect(runIterations).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) {
      const found = await server.request(SearchDocument, { index: INDEX, key, vector: toBase64(vectors[i]), topK: 3, nProbes: 2 });
      expect(found.body.data?.search.__typename).toBe('SearchResults');
    }
    const batch = await server.request(SearchBatchDocument, { index: INDEX, key, vectors: vectors.slice(0, 5).map(toBase64), topK: 2 });
    expect(batch.body.data?.searchBatch.__typename).toBe('SearchBatchResults');
    // One wrong API key: an authentication failure.
    expect((await server.request(SearchDocument, { index: INDEX, key, vector: toBase64(vectors[0]) }, { apiKey: 'wrong-key' })).status).toBe(401);
  });
  afterAll(async () => {
    await server.close();
  });

  it('refuses a scrape without a key or with a wrong one, and counts the wrong one', async () => {
    const none = await scrapeMetrics(server.url, {});
    expect(none.status).toBe(401);
    expect(none.text).toContain('UNAUTHENTICATED');
    expect((await scrapeMetrics(server.url, { authorization: 'Bearer not-the-token' })).status).toBe(401);
    const scrape = await scrapeMetrics(server.url, { 'x-api-key': server.apiKey });
    expect(scrape.status).toBe(200);
    expect(scrape.contentType).toContain('text/plain');
    // The failed GraphQL request and the failed scrape.
    expect(scrape.value('cipherdex_auth_failures_total')).toBe(2);
  });

  it('opens with the API key or with CIPHERDEX_METRICS_TOKEN as a bearer token', async () => {
    const byToken = await scrapeMetrics(server.url, { authorization: `Bearer ${METRICS_TOKEN}` });
    expect(byToken.status).toBe(200);
    expect(byToken.families.length).toBeGreaterThan(10);
  });

  it('counts and times requests per operation and per root field', async () => {
    const scrape = await scrapeMetrics(server.url, { 'x-api-key': server.apiKey });
    expect(scrape.count('graphql_envelop_request_duration', { operationName: 'Search', operationType: 'query', rootField: 'search' })).toBe(3);
    expect(scrape.count('graphql_envelop_request_duration', { operationName: 'Upsert', operationType: 'mutation', rootField: 'upsert' })).toBe(1);
    expect(scrape.count('graphql_envelop_request_duration', { operationName: 'TrainIndex', rootField: 'trainIndex' })).toBe(1);
    expect(scrape.count('graphql_envelop_request_duration', { rootField: 'searchBatch' })).toBe(1);
    // Only root fields: nested fields (hits, id, distance) get no series.
    const rootFields = new Set(scrape.samples('graphql_envelop_request_duration').map((sample) => sample.labels?.rootField));
    expect([...rootFields].every((field) => ['search', 'searchBatch', 'upsert', 'createIndex', 'trainIndex', 'multiple'].includes(field ?? ''))).toBe(true);
  });

  it('reports search stages, upserts, the training run, store calls and resident memory', async () => {
    const scrape = await scrapeMetrics(server.url, { 'x-api-key': server.apiKey });
    expect(scrape.value('cipherdex_search_queries_total')).toBe(3 + 5);
    expect(scrape.count('cipherdex_search_duration_seconds')).toBe(4);
    for (const stage of ['decrypt', 'probe', 'scan', 'rerank']) expect(scrape.count('cipherdex_search_stage_seconds', { stage })).toBe(4);
    expect(scrape.sum('cipherdex_search_stage_seconds', { stage: 'scan' })).toBeGreaterThan(0);
    expect(scrape.value('cipherdex_upserted_items_total')).toBe(300);
    expect(scrape.count('cipherdex_upsert_duration_seconds')).toBe(1);
    expect(scrape.value('cipherdex_training_runs_total', { outcome: 'completed', trigger: 'manual' })).toBe(1);
    expect(scrape.sum('cipherdex_training_iterations', { outcome: 'completed' })).toBe(runIterations);
    expect(scrape.count('cipherdex_training_duration_seconds', { outcome: 'completed' })).toBe(1);
    expect(scrape.count('cipherdex_store_call_duration_seconds', { operation: 'putItems' })).toBe(1);
    expect(scrape.count('cipherdex_store_call_duration_seconds', { operation: 'saveModel' })).toBe(1);
    expect(scrape.samples('cipherdex_store_faults_total')).toHaveLength(0);
    expect(scrape.value('cipherdex_training_queue_depth', { state: 'running' })).toBe(0);
    expect(scrape.value('cipherdex_training_queue_depth', { state: 'queued' })).toBe(0);
    expect(scrape.value('cipherdex_open_indexes')).toBe(1);
    // 300 float32 rows of 8 plus int8 codes at least.
    expect(scrape.value('cipherdex_resident_bytes')).toBeGreaterThan(300 * 8 * 4);
    expect(scrape.value('cipherdex_auth_rate_limited_total')).toBe(0);
  });

  it('labels nothing with an id, contents, metadata, a key or (by default) the index name', async () => {
    const scrape = await scrapeMetrics(server.url, { 'x-api-key': server.apiKey });
    const labelValues = scrape.families.flatMap((family) => family.metrics.flatMap((sample) => Object.values(sample.labels ?? {})));
    expect(labelValues.length).toBeGreaterThan(30);
    for (const secret of [INDEX, 'item-0', SECRET_CONTENTS, 'meta-value', key, server.apiKey, METRICS_TOKEN]) {
      expect(scrape.text).not.toContain(secret);
    }
  });
});

describe('useMetrics with METRICS_INDEX_LABELS', () => {
  it('labels per-index series with the index name, and counts rate-limited refusals', async () => {
    const server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', METRICS_INDEX_LABELS: 'true', AUTH_FAILURE_LIMIT: '1', TRUSTED_PROXIES: 'loopback' } });
    try {
      const key = newIndexKey();
      const vectors = await populate(server, key);
      await server.request(SearchDocument, { index: INDEX, key, vector: toBase64(vectors[0]) });
      const scrape = await scrapeMetrics(server.url, { 'x-api-key': server.apiKey });
      expect(scrape.value('cipherdex_search_queries_total', { index: INDEX })).toBe(1);
      expect(scrape.value('cipherdex_upserted_items_total', { index: INDEX })).toBe(300);
      expect(scrape.text).not.toContain('item-0');

      // One wrong key uses the limit up; the next attempt is refused before its key is checked.
      expect((await server.request(SearchDocument, { index: INDEX, key, vector: toBase64(vectors[0]) }, { apiKey: 'wrong' })).status).toBe(401);
      expect((await server.request(SearchDocument, { index: INDEX, key, vector: toBase64(vectors[0]) }, { apiKey: 'wrong' })).status).toBe(429);
      expect((await scrapeMetrics(server.url, { 'x-api-key': 'wrong' })).status).toBe(429);
      // The limit is per address: even the right key is refused from there, but not from elsewhere.
      expect((await scrapeMetrics(server.url, { 'x-api-key': server.apiKey })).status).toBe(429);
      const elsewhere = await scrapeMetrics(server.url, { 'x-api-key': server.apiKey, 'x-forwarded-for': '10.0.0.9' });
      expect(elsewhere.status).toBe(200);
      expect(elsewhere.value('cipherdex_auth_failures_total')).toBe(1);
      expect(elsewhere.value('cipherdex_auth_rate_limited_total')).toBe(3);
    } finally {
      await server.close();
    }
  });
});
