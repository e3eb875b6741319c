// End to end over graphql-ws: the trainingQueue subscription (the queue now, then each change as
// runs are queued, started and end) and indexStats (the index now, then at most once per second,
// with upsert and search rates and search latency percentiles from real traffic).

import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelTrainingDocument,
  CreateIndexDocument,
  IndexStatsDocument,
  type IndexStatsSubscription,
  SearchDocument,
  TrainIndexDocument,
  TrainingQueueUpdatesDocument,
  type TrainingQueueUpdatesSubscription,
  UpsertDocument,
} from '../generated/graphql.js';
import { collect, newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { toBase64, uniformVectors } from './vectors.js';

type Queue = TrainingQueueUpdatesSubscription['trainingQueue'];
type Stats = Extract<IndexStatsSubscription['indexStats'], { __typename: 'IndexStats' }>;

describe('live subscriptions over graphql-ws', () => {
  let server: TestServer;
  const key = newIndexKey();
  const vectors = uniformVectors(3000, 16, 3);

  async function create(name: string): Promise<void> {
    expect((await server.request(CreateIndexDocument, { name, key, dimension: 16 })).body.data?.createIndex.__typename).toBe('Index');
    const items = vectors.map((vector, i) => ({ id: `${name}-${i}`, vector: toBase64(vector) }));
    expect((await server.request(UpsertDocument, { index: name, key, items })).body.data?.upsert.__typename).toBe('UpsertSuccess');
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', MAX_CONCURRENT_TRAININGS: '1' } });
    await create('first');
    await create('second');
  });
  afterAll(async () => {
    await server.close();
  });

  it('trainingQueue: the queue now, then every change as runs are queued, started and end', async () => {
    const client = server.wsClient();
    const seen: Queue[] = [];
    const waiters: Array<{ test: (q: Queue) => boolean; resolve: () => void }> = [];
    const until = (test: (q: Queue) => boolean) =>
      new Promise<void>((resolve) => {
        if (seen.length > 0 && test(seen[seen.length - 1])) resolve();
        else waiters.push({ test, resolve });
      });
    const names = (runs: Queue['running']) => runs.map((run) => run.index);
    const stop = client.subscribe<TrainingQueueUpdatesSubscription>(
      { query: print(TrainingQueueUpdatesDocument) },
      {
        next: (result) => {
          const queue = result.data!.trainingQueue;
          seen.push(queue);
          for (const waiter of [...waiters]) if (waiter.test(queue)) waiters.splice(waiters.indexOf(waiter), 1) && waiter.resolve();
        },
        error: (error) => {
          throw error;
        },
        complete: () => {},
      },
    );
    try {
      await until(() => true);
      expect(seen[0]).toMatchObject({ maxConcurrentTrainings: 1, running: [], queued: [] });

      // Long runs (many iterations, no early stop), so each state lasts until the test changes it.
      const long = { maxIters: 10_000, tolerance: 0, nLists: 8, batchSize: 64 };
      expect((await server.request(TrainIndexDocument, { index: 'first', key, ...long })).body.data?.trainIndex.__typename).toBe('TrainingRun');
      await until((q) => names(q.running).join() === 'first' && q.queued.length === 0);
      expect((await server.request(TrainIndexDocument, { index: 'second', key, ...long })).body.data?.trainIndex.__typename).toBe('TrainingRun');
      await until((q) => names(q.running).join() === 'first' && names(q.queued).join() === 'second');
      expect(seen.at(-1)!.queued[0]).toMatchObject({ phase: 'QUEUED', trigger: 'MANUAL' });

      // Cancelling the running run starts the queued one; cancelling that empties the queue.
      await server.request(CancelTrainingDocument, { index: 'first', key });
      await until((q) => names(q.running).join() === 'second' && q.queued.length === 0);
      await server.request(CancelTrainingDocument, { index: 'second', key });
      await until((q) => q.running.length === 0 && q.queued.length === 0);
      expect(seen.length).toBeGreaterThanOrEqual(5);
    } finally {
      stop();
    }
  }, 60_000);

  it('indexStats: the index now, then at most once per second, with the rates and latencies of real searches', async () => {
    const client = server.wsClient();
    const events: Stats[] = [];
    let searching = true;
    let searches = 0;
    const traffic = (async () => {
      while (searching) {
        const found = await server.request(SearchDocument, { index: 'first', key, vector: toBase64(vectors[searches % 100]), topK: 5 });
        expect(found.body.data?.search.__typename).toBe('SearchResults');
        searches++;
      }
    })();
    const results = await collect(client, IndexStatsDocument, { index: 'first', key }, (result, all) => {
      const stats = result.data?.indexStats;
      if (stats?.__typename === 'IndexStats') events.push(stats);
      return all.length >= 4;
    });
    searching = false;
    await traffic;

    expect(results.every((result) => result.data?.indexStats.__typename === 'IndexStats')).toBe(true);
    expect(events[0]).toMatchObject({ index: 'first', vectorCount: 3000, intervalMs: 1000 });
    for (const stats of events) {
      expect(stats.residentBytes).toBeGreaterThan(3000 * 16 * 4);
      if (stats.searchP50Ms !== null) expect(stats.searchP99Ms!).toBeGreaterThanOrEqual(stats.searchP50Ms);
    }
    // At most one event per second (the timer's own jitter aside).
    const times = events.map((stats) => new Date(stats.at as string).getTime());
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(900);
    // The later events describe a second full of searches.
    const busy = events.slice(1).filter((stats) => stats.searchesPerSecond > 0);
    expect(busy.length).toBeGreaterThanOrEqual(2);
    for (const stats of busy) {
      expect(stats.searchP50Ms).toBeGreaterThan(0);
      expect(stats.searchesPerSecond).toBeLessThanOrEqual(searches);
    }
  }, 30_000);

  it('indexStats: a wrong key is one typed error event', async () => {
    const results = await collect(server.wsClient(), IndexStatsDocument, { index: 'first', key: newIndexKey() });
    expect(results).toHaveLength(1);
    expect(results[0].data?.indexStats).toMatchObject({ __typename: 'InvalidIndexKeyError', code: 'INVALID_INDEX_KEY' });
  });
});
