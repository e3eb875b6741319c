// End to end over real HTTP and a real graphql-ws client: an index crosses RETRAIN_THRESHOLD,
// its automatic run streams every phase and iteration to a subscriber, and the trained index
// answers searches with high recall against exact results.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateIndexDocument,
  IndexDocument,
  SearchBatchDocument,
  TrainingQueueDocument,
  TrainingStatusDocument,
  type TrainingStatusSubscription,
  UpsertDocument,
} from '../generated/graphql.js';
import { collect, type HttpAnswer, newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { clusteredVectors, exactTopK, recall, toBase64 } from './vectors.js';

type StatusEvent = Extract<TrainingStatusSubscription['trainingStatus'], { __typename: 'TrainingStatus' }>;

const THRESHOLD = 300;
const DIMENSION = 16;
const TOP_K = 10;

describe('automatic training over the API', () => {
  let server: TestServer;
  const name = 'auto-train';
  const key = newIndexKey();
  const items = clusteredVectors(2 * THRESHOLD, DIMENSION, 12, 7).map((vector, i) => ({ id: `item-${i}`, vector }));
  const queries = clusteredVectors(40, DIMENSION, 12, 7).map((vector, i) => vector.map((x) => x + Math.sin(i + x) * 0.3));

  beforeAll(async () => {
    server = await startTestServer({ env: { RETRAIN_THRESHOLD: String(THRESHOLD) } });
    // IVF_FLAT: the last check is that probing every list equals brute force, which only an index
    // scanning float32 rows guarantees (a codes-only type re-ranks the best rerankMult x topK of its codes).
    const created = await server.request(CreateIndexDocument, { name, key, dimension: DIMENSION, type: 'IVF_FLAT' });
    expect(created.body.data?.createIndex.__typename).toBe('Index');
  });
  afterAll(async () => {
    await server.close();
  });

  async function searchAll(nProbes?: number) {
    const answer = await server.request(SearchBatchDocument, { index: name, key, vectors: queries.map(toBase64), topK: TOP_K, nProbes });
    const result = answer.body.data?.searchBatch;
    if (result?.__typename !== 'SearchBatchResults') throw new Error(`search failed: ${JSON.stringify(answer.body)}`);
    return result.results;
  }

  it('answers exactly while untrained', async () => {
    const below = items.slice(0, THRESHOLD - 50);
    const upserted = await server.request(UpsertDocument, {
      index: name,
      key,
      items: below.map((item) => ({ id: item.id, vector: toBase64(item.vector) })),
    });
    expect(upserted.body.data?.upsert).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: below.length });
    const queue = await server.request(TrainingQueueDocument, {});
    expect(queue.body.data?.trainingQueue).toMatchObject({ retrainThreshold: THRESHOLD, autoTrainEnabled: true, running: [], queued: [] });

    const results = await searchAll();
    results.forEach((result, q) => {
      expect(result.exact).toBe(true);
      expect(result.hits.map((hit) => hit.id)).toEqual(exactTopK(queries[q]!, below, TOP_K));
    });
  });

  it('streams QUEUED -> INITIALIZING -> ITERATING (every iteration) -> ... -> COMPLETED once the threshold is crossed', async () => {
    const events: StatusEvent[] = [];
    let crossing: Promise<HttpAnswer<unknown>> | undefined;
    const done = collect(server.wsClient(), TrainingStatusDocument, { index: name, key }, (result) => {
      const status = result.data?.trainingStatus;
      if (status?.__typename !== 'TrainingStatus') throw new Error(`unexpected event ${JSON.stringify(result)}`);
      events.push(status);
      if (status.phase === 'IDLE' && events.length === 1) {
        // Subscribed and told the current state: now cross the threshold, without waiting.
        crossing = server.request(UpsertDocument, {
          index: name,
          key,
          items: items.slice(THRESHOLD - 50).map((item) => ({ id: item.id, vector: Array.from(item.vector) })),
        });
      }
      return ['COMPLETED', 'FAILED', 'CANCELLED'].includes(status.phase);
    });
    await done;
    expect(JSON.stringify((await crossing)?.body)).toContain('UpsertSuccess');

    expect(events[0]).toMatchObject({ phase: 'IDLE', runId: null });
    const run = events.slice(1);
    expect(new Set(run.map((e) => e.runId)).size).toBe(1);
    expect(run.every((e) => e.trigger === 'AUTOMATIC')).toBe(true);

    const phases = run.map((e) => e.phase).filter((phase, i, all) => phase !== all[i - 1]);
    expect(phases).toEqual(['QUEUED', 'INITIALIZING', 'ITERATING', 'ASSIGNING', 'PERSISTING', 'COMPLETED']);

    const iterating = run.filter((e) => e.phase === 'ITERATING');
    const final = run.at(-1)!;
    // One event per iteration, in order, none skipped.
    expect(iterating.length).toBeGreaterThanOrEqual(2);
    expect(iterating.map((e) => e.iteration)).toEqual(Array.from({ length: final.iteration }, (_, i) => i + 1));
    expect(iterating.every((e) => typeof e.shift === 'number' && typeof e.inertia === 'number')).toBe(true);
    expect(final).toMatchObject({ phase: 'COMPLETED', progress: 1, vectorCount: items.length });
    expect(final.finishedAt).not.toBeNull();
    expect(final.nLists).toBeGreaterThan(1);

    const index = await server.request(IndexDocument, { name, key });
    expect(index.body.data?.index).toMatchObject({
      __typename: 'Index',
      isTrained: true,
      isTraining: false,
      vectorCount: items.length,
      nLists: final.nLists,
      lastTrainingRun: { runId: final.runId, phase: 'COMPLETED', trigger: 'AUTOMATIC' },
    });
  });

  it('searches the trained index with high recall against exact results', async () => {
    const index = await server.request(IndexDocument, { name, key });
    const nLists = index.body.data?.index.__typename === 'Index' ? index.body.data.index.nLists! : 0;

    const approximate = await searchAll(Math.max(1, Math.ceil(nLists / 4)));
    const expected = queries.map((query) => exactTopK(query, items, TOP_K));
    const meanRecall = approximate.reduce((sum, result, q) => sum + recall(result.hits.map((h) => h.id), expected[q]!), 0) / queries.length;
    expect(approximate.every((result) => !result.exact)).toBe(true);
    expect(meanRecall).toBeGreaterThanOrEqual(0.9);

    // Probing every list is a full scan again: exact, and the same as brute force.
    const full = await searchAll(nLists);
    full.forEach((result, q) => {
      expect(result.exact).toBe(true);
      expect(result.hits.map((hit) => hit.id)).toEqual(expected[q]);
    });
  });
});
