// End to end: trainIndex with each argument, wait: true, a search answered while a run iterates,
// a second run refused while one holds the index, and cancelTraining, over real HTTP and graphql-ws.

import type { FormattedExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelTrainingDocument,
  CreateIndexDocument,
  IndexDocument,
  SearchDocument,
  TrainIndexDocument,
  type TrainIndexMutationVariables,
  TrainingStatusDocument,
  type TrainingStatusSubscription,
  UpsertDocument,
} from '../generated/graphql.js';
import { collect, newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { clusteredVectors, toBase64, uniformVectors } from './vectors.js';

type Status = Extract<TrainingStatusSubscription['trainingStatus'], { __typename: 'TrainingStatus' }>;

const FINAL = ['COMPLETED', 'FAILED', 'CANCELLED'];

describe('trainIndex over the API', () => {
  let server: TestServer;
  const key = newIndexKey();

  async function createWith(name: string, vectors: Float32Array[]) {
    const created = await server.request(CreateIndexDocument, { name, key, dimension: vectors[0]!.length });
    expect(created.body.data?.createIndex.__typename).toBe('Index');
    for (let start = 0; start < vectors.length; start += 5000) {
      const batch = vectors.slice(start, start + 5000).map((vector, i) => ({ id: `v${start + i}`, vector: toBase64(vector) }));
      const upserted = await server.request(UpsertDocument, { index: name, key, items: batch });
      expect(upserted.body.data?.upsert.__typename).toBe('UpsertSuccess');
    }
  }

  async function train(variables: Omit<TrainIndexMutationVariables, 'key'>) {
    const answer = await server.request(TrainIndexDocument, { key, ...variables });
    return answer.body.data!.trainIndex;
  }

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    await createWith('params', clusteredVectors(400, 8, 10, 11));
  });
  afterAll(async () => {
    await server.close();
  });

  it('trains with the documented defaults and, with wait: true, answers when the run has ended', async () => {
    const run = await train({ index: 'params', wait: true });
    expect(run).toMatchObject({
      __typename: 'TrainingRun',
      trigger: 'MANUAL',
      phase: 'COMPLETED',
      batchSize: 2048,
      maxIters: 100,
      tolerance: 1e-6,
      vectorCount: 400,
      progress: 1,
    });
    if (run.__typename !== 'TrainingRun') return;
    expect(run.nLists).toBeGreaterThan(1);
    expect(run.finishedAt).not.toBeNull();
    expect(run.iteration).toBeGreaterThanOrEqual(1);
    const index = await server.request(IndexDocument, { name: 'params', key });
    expect(index.body.data?.index).toMatchObject({ isTrained: true, nLists: run.nLists, lastTrainingRun: { runId: run.runId } });
  });

  it.each([
    ['nLists', { nLists: 5 }, { nLists: 5, batchSize: 2048, maxIters: 100, tolerance: 1e-6 }],
    ['batchSize', { batchSize: 64 }, { batchSize: 64, maxIters: 100, tolerance: 1e-6 }],
    ['maxIters', { maxIters: 2 }, { batchSize: 2048, maxIters: 2, tolerance: 1e-6 }],
    ['tolerance', { tolerance: 0.25 }, { batchSize: 2048, maxIters: 100, tolerance: 0.25 }],
  ])('uses %s as given and defaults the rest', async (_argument, args, expected) => {
    const run = await train({ index: 'params', wait: true, ...args });
    expect(run).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED', ...expected });
    if (run.__typename === 'TrainingRun') expect(run.iteration).toBeLessThanOrEqual(run.maxIters);
  });

  it('returns the queued run at once without wait, and the run then ends on its own', async () => {
    const statuses: Status[] = [];
    const follow = collect(server.wsClient(), TrainingStatusDocument, { index: 'params', key }, (result) => {
      const status = result.data?.trainingStatus;
      if (status?.__typename === 'TrainingStatus') statuses.push(status);
      return status?.__typename === 'TrainingStatus' && statuses.length > 1 && FINAL.includes(status.phase);
    });
    // The subscription's first event (the current state) proves it is listening before the run starts.
    while (statuses.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const run = await train({ index: 'params', nLists: 4 });
    expect(run.__typename).toBe('TrainingRun');
    if (run.__typename !== 'TrainingRun') return;
    expect(FINAL).not.toContain(run.phase);
    expect(run.finishedAt).toBeNull();
    await follow;
    expect(statuses.at(-1)).toMatchObject({ runId: run.runId, phase: 'COMPLETED', nLists: 4 });
  });

  describe('a long run', () => {
    const name = 'long';
    let events: Status[];
    let following: Promise<FormattedExecutionResult<TrainingStatusSubscription, unknown>[]>;
    let runId: string;

    beforeAll(async () => {
      // Uniform data never settles, so with tolerance 0 the run iterates until cancelled.
      await createWith(name, uniformVectors(20_000, 32, 5));
      events = [];
      following = collect(server.wsClient(), TrainingStatusDocument, { index: name, key }, (result) => {
        const status = result.data?.trainingStatus;
        if (status?.__typename === 'TrainingStatus') events.push(status);
        return status?.__typename === 'TrainingStatus' && events.length > 1 && FINAL.includes(status.phase);
      });
      while (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      const run = await train({ index: name, nLists: 64, maxIters: 10_000, tolerance: 0 });
      if (run.__typename !== 'TrainingRun') throw new Error(JSON.stringify(run));
      runId = run.runId;
      while (!events.some((e) => e.phase === 'ITERATING')) await new Promise((resolve) => setTimeout(resolve, 5));
    });

    it('answers a search issued while the run is iterating, from the previous (untrained, exact) state', async () => {
      const answer = await server.request(SearchDocument, { index: name, key, vector: toBase64(uniformVectors(1, 32, 99)[0]!), topK: 5 });
      // Phases only move forward: ITERATING before the search and after it means ITERATING throughout.
      const after = await server.request(IndexDocument, { name, key });
      expect(answer.body.data?.search).toMatchObject({ __typename: 'SearchResults', exact: true });
      if (answer.body.data?.search.__typename === 'SearchResults') expect(answer.body.data.search.hits).toHaveLength(5);
      expect(after.body.data?.index).toMatchObject({ isTraining: true, isTrained: false, lastTrainingRun: { runId, phase: 'ITERATING' } });
    });

    it('refuses a second run while one holds the index', async () => {
      const second = await train({ index: name, nLists: 8 });
      expect(second).toMatchObject({ __typename: 'TrainingInProgressError', code: 'TRAINING_IN_PROGRESS', indexName: name, activeRunId: runId });
    });

    it('cancels the run: CANCELLED on the stream, and the index keeps serving untrained', async () => {
      const cancelled = await server.request(CancelTrainingDocument, { index: name, key });
      expect(cancelled.body.data?.cancelTraining).toMatchObject({ __typename: 'TrainingRun', runId });
      await following;
      const last = events.at(-1)!;
      expect(last).toMatchObject({ runId, phase: 'CANCELLED' });
      expect(last.iteration).toBeGreaterThanOrEqual(1);
      expect(last.iteration).toBeLessThan(10_000);
      const index = await server.request(IndexDocument, { name, key });
      expect(index.body.data?.index).toMatchObject({ isTraining: false, isTrained: false, lastTrainingRun: { runId, phase: 'CANCELLED' } });
    });
  });
});
