// End to end: the training run history. Runs that end (completed, cancelled) are recorded sealed
// in the store, listed newest first in pages by trainingRuns, found by id by trainingRun (the
// activeRunId of a TrainingInProgressError included), and still there after a restart.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CancelTrainingDocument,
  CreateIndexDocument,
  TrainIndexDocument,
  TrainingRunByIdDocument,
  TrainingRunsDocument,
  UpsertDocument,
} from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { toBase64, uniformVectors } from './vectors.js';

describe('training run history', () => {
  let server: TestServer;
  const key = newIndexKey();
  const runIds: string[] = [];
  let refusedFor = '';

  const history = (variables: { first?: number; after?: string | null } = {}) => server.request(TrainingRunsDocument, { index: 'runs', key, ...variables });
  const byId = (runId: string, indexKey = key) => server.request(TrainingRunByIdDocument, { index: 'runs', key: indexKey, runId });

  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    expect((await server.request(CreateIndexDocument, { name: 'runs', key, dimension: 8 })).body.data?.createIndex.__typename).toBe('Index');
    const items = uniformVectors(2000, 8, 5).map((vector, i) => ({ id: `v${i}`, vector: toBase64(vector) }));
    expect((await server.request(UpsertDocument, { index: 'runs', key, items })).body.data?.upsert.__typename).toBe('UpsertSuccess');

    // 1: completed. 2: a long run, refused a second start while it runs, then cancelled. 3: completed.
    const first = (await server.request(TrainIndexDocument, { index: 'runs', key, nLists: 4, maxIters: 5, wait: true })).body.data?.trainIndex;
    if (first?.__typename !== 'TrainingRun') throw new Error(`first run: ${JSON.stringify(first)}`);
    runIds.push(first.runId);
    const long = (await server.request(TrainIndexDocument, { index: 'runs', key, nLists: 4, maxIters: 10_000, tolerance: 0, batchSize: 32 })).body.data?.trainIndex;
    if (long?.__typename !== 'TrainingRun') throw new Error(`long run: ${JSON.stringify(long)}`);
    runIds.push(long.runId);
    const refused = (await server.request(TrainIndexDocument, { index: 'runs', key, nLists: 4 })).body.data?.trainIndex;
    if (refused?.__typename !== 'TrainingInProgressError') throw new Error(`expected a refusal: ${JSON.stringify(refused)}`);
    refusedFor = refused.activeRunId;
    await server.request(CancelTrainingDocument, { index: 'runs', key });
    const third = (await server.request(TrainIndexDocument, { index: 'runs', key, nLists: 4, maxIters: 3, wait: true })).body.data?.trainIndex;
    if (third?.__typename !== 'TrainingRun') throw new Error(`third run: ${JSON.stringify(third)}`);
    runIds.push(third.runId);
  }, 60_000);
  afterAll(async () => {
    await server.close();
  });

  it('lists ended runs newest first, in pages', async () => {
    const page1 = (await history({ first: 2 })).body.data?.trainingRuns;
    if (page1?.__typename !== 'TrainingRunPage') throw new Error(JSON.stringify(page1));
    expect(page1.runs.map((run) => run.runId)).toEqual([runIds[2], runIds[1]]);
    expect(page1.runs.map((run) => run.phase)).toEqual(['COMPLETED', 'CANCELLED']);
    expect(page1.hasNextPage).toBe(true);
    const page2 = (await history({ first: 2, after: page1.endCursor })).body.data?.trainingRuns;
    if (page2?.__typename !== 'TrainingRunPage') throw new Error(JSON.stringify(page2));
    expect(page2.runs.map((run) => run.runId)).toEqual([runIds[0]]);
    expect(page2.runs[0]).toMatchObject({ phase: 'COMPLETED', trigger: 'MANUAL', nLists: 4, vectorCount: 2000 });
    expect(page2.runs[0].finishedAt).not.toBeNull();
    expect(page2.hasNextPage).toBe(false);
  });

  it("finds a run by id, including a refusal's activeRunId once that run ended", async () => {
    expect(refusedFor).toBe(runIds[1]);
    const found = (await byId(refusedFor)).body.data?.trainingRun;
    expect(found).toMatchObject({ __typename: 'TrainingRun', runId: refusedFor, phase: 'CANCELLED' });
    expect((await byId('no-such-run')).body.data?.trainingRun).toMatchObject({ __typename: 'TrainingRunNotFoundError', code: 'TRAINING_RUN_NOT_FOUND', runId: 'no-such-run' });
  });

  it('answers a wrong key, a bad page size and a forged cursor with typed errors', async () => {
    expect((await byId(runIds[0], newIndexKey())).body.data?.trainingRun.__typename).toBe('InvalidIndexKeyError');
    expect((await history({ first: 0 })).body.data?.trainingRuns).toMatchObject({ __typename: 'ValidationError', argument: 'first' });
    expect((await history({ after: 'not-a-cursor' })).body.data?.trainingRuns).toMatchObject({ __typename: 'ValidationError', argument: 'after' });
  });

  it('keeps the history sealed at rest and across a restart', async () => {
    const files = (await readdir(server.dataDir)).filter((name) => !name.endsWith('.sha256'));
    const bytes = Buffer.concat(await Promise.all(files.map((name) => readFile(join(server.dataDir, name)).catch(() => Buffer.alloc(0)))));
    expect(bytes.length).toBeGreaterThan(0);
    for (const runId of runIds) expect(bytes.includes(Buffer.from(runId))).toBe(false);
    expect(bytes.includes(Buffer.from('CANCELLED'))).toBe(false);

    const dataDir = server.dataDir;
    await server.close({ keepData: true });
    server = await startTestServer({ dataDir, env: { AUTO_TRAIN_DISABLED: 'true' } });
    const after = (await history()).body.data?.trainingRuns;
    if (after?.__typename !== 'TrainingRunPage') throw new Error(JSON.stringify(after));
    expect(after.runs.map((run) => run.runId)).toEqual([...runIds].reverse());
    expect((await byId(runIds[1])).body.data?.trainingRun).toMatchObject({ __typename: 'TrainingRun', phase: 'CANCELLED' });
  }, 30_000);
});
