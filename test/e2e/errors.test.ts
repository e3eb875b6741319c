// End to end: every typed error of the API, each from the input that causes it, as a member of
// the field's result union (never a request error); malformed scalars as BAD_USER_INPUT; and the
// subscription's typed error events.

import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/storage/open-store.js';
import {
  CancelTrainingDocument,
  CreateIndexDocument,
  DeleteIndexDocument,
  DeleteItemsDocument,
  IndexDocument,
  ItemIdsDocument,
  ItemsDocument,
  SearchBatchDocument,
  SearchDocument,
  TrainIndexDocument,
  TrainingStatusDocument,
  UpsertDocument,
} from '../generated/graphql.js';
import { collect, newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { clusteredVectors, toBase64 } from './vectors.js';

const DIMENSION = 4;
const BUDGET_MB = 49;

describe('typed errors over the API', () => {
  let server: TestServer;
  const key = newIndexKey();
  const wrongKey = newIndexKey();
  const name = 'errors';
  const vectors = clusteredVectors(40, DIMENSION, 4, 3);

  beforeAll(async () => {
    // A training job is estimated at 48 MiB of fixed working memory plus what its data needs:
    // with a 49 MiB budget small indexes train and a larger one cannot.
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', TRAINING_MEMORY_BUDGET_MB: String(BUDGET_MB) } });
    await server.request(CreateIndexDocument, { name, key, dimension: DIMENSION });
    const upserted = await server.request(UpsertDocument, {
      index: name,
      key,
      items: vectors.map((vector, i) => ({ id: `v${i}`, vector: Array.from(vector), metadata: { i } })),
    });
    expect(upserted.body.data?.upsert.__typename).toBe('UpsertSuccess');
  });
  afterAll(async () => {
    await server.close();
  });

  it('ValidationError: an argument out of range, with the argument and its range', async () => {
    const search = await server.request(SearchDocument, { index: name, key, vector: Array.from(vectors[0]!), topK: 0 });
    expect(search.body.errors).toBeUndefined();
    expect(search.body.data?.search).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR', argument: 'topK', min: 1 });

    const created = await server.request(CreateIndexDocument, { name: 'zero-dimension', key, dimension: 0 });
    expect(created.body.data?.createIndex).toMatchObject({ __typename: 'ValidationError', argument: 'dimension', min: 1 });

    const train = await server.request(TrainIndexDocument, { index: name, key, maxIters: 0 });
    expect(train.body.data?.trainIndex).toMatchObject({ __typename: 'ValidationError', argument: 'maxIters', min: 1 });
  });

  it('IndexNotFoundError from every index-scoped field', async () => {
    const missing = { index: 'no-such-index', key };
    const answers = [
      (await server.request(IndexDocument, { name: 'no-such-index', key })).body.data?.index,
      (await server.request(SearchDocument, { ...missing, vector: [1, 2, 3, 4] })).body.data?.search,
      (await server.request(SearchBatchDocument, { ...missing, vectors: [[1, 2, 3, 4]] })).body.data?.searchBatch,
      (await server.request(ItemsDocument, { ...missing, ids: ['a'] })).body.data?.items,
      (await server.request(ItemIdsDocument, missing)).body.data?.itemIds,
      (await server.request(UpsertDocument, { ...missing, items: [{ id: 'a', vector: [1, 2, 3, 4] }] })).body.data?.upsert,
      (await server.request(DeleteItemsDocument, { ...missing, ids: ['a'] })).body.data?.deleteItems,
      (await server.request(TrainIndexDocument, missing)).body.data?.trainIndex,
      (await server.request(CancelTrainingDocument, missing)).body.data?.cancelTraining,
      (await server.request(DeleteIndexDocument, { name: 'no-such-index', key })).body.data?.deleteIndex,
    ];
    for (const answer of answers) expect(answer).toMatchObject({ __typename: 'IndexNotFoundError', code: 'INDEX_NOT_FOUND', indexName: 'no-such-index' });
  });

  it('IndexAlreadyExistsError: creating a name twice', async () => {
    const again = await server.request(CreateIndexDocument, { name, key: newIndexKey(), dimension: DIMENSION });
    expect(again.body.data?.createIndex).toMatchObject({ __typename: 'IndexAlreadyExistsError', code: 'INDEX_ALREADY_EXISTS', indexName: name });
  });

  it('InvalidIndexKeyError: a well-formed key that does not open the index, on reads and writes alike', async () => {
    const read = await server.request(ItemsDocument, { index: name, key: wrongKey, ids: ['v0'] });
    expect(read.body.data?.items).toMatchObject({ __typename: 'InvalidIndexKeyError', code: 'INVALID_INDEX_KEY', indexName: name });
    const write = await server.request(DeleteIndexDocument, { name, key: wrongKey });
    expect(write.body.data?.deleteIndex).toMatchObject({ __typename: 'InvalidIndexKeyError' });
    const still = await server.request(ItemIdsDocument, { index: name, key });
    expect(still.body.data?.itemIds).toMatchObject({ __typename: 'ItemIdList' });
  });

  it('DimensionMismatchError: vectors of the wrong length, with expected and actual', async () => {
    const upsert = await server.request(UpsertDocument, { index: name, key, items: [{ id: 'short', vector: [1, 2, 3] }] });
    expect(upsert.body.data?.upsert).toMatchObject({ __typename: 'DimensionMismatchError', code: 'DIMENSION_MISMATCH', expected: 4, actual: 3 });
    const search = await server.request(SearchBatchDocument, { index: name, key, vectors: [toBase64(Float32Array.from([1, 2, 3, 4, 5, 6]))] });
    expect(search.body.data?.searchBatch).toMatchObject({ __typename: 'DimensionMismatchError', expected: 4, actual: 6 });
  });

  it('InsufficientVectorsError: nothing to train on, or fewer than twice nLists', async () => {
    await server.request(CreateIndexDocument, { name: 'empty', key, dimension: DIMENSION });
    const empty = await server.request(TrainIndexDocument, { index: 'empty', key });
    expect(empty.body.data?.trainIndex).toMatchObject({ __typename: 'InsufficientVectorsError', code: 'INSUFFICIENT_VECTORS', actual: 0 });
    const tooManyLists = await server.request(TrainIndexDocument, { index: name, key, nLists: 30 });
    expect(tooManyLists.body.data?.trainIndex).toMatchObject({ __typename: 'InsufficientVectorsError', required: 60, actual: vectors.length });
  });

  it('IncompatibleIndexError: training with nLists other than the one fixed at creation', async () => {
    await server.request(CreateIndexDocument, { name: 'fixed-lists', key, dimension: DIMENSION, nLists: 4 });
    await server.request(UpsertDocument, { index: 'fixed-lists', key, items: vectors.map((v, i) => ({ id: `v${i}`, vector: toBase64(v) })) });
    const answer = await server.request(TrainIndexDocument, { index: 'fixed-lists', key, nLists: 8 });
    expect(answer.body.data?.trainIndex).toMatchObject({ __typename: 'IncompatibleIndexError', code: 'INCOMPATIBLE_INDEX' });
    if (answer.body.data?.trainIndex.__typename === 'IncompatibleIndexError') expect(answer.body.data.trainIndex.reason).toMatch(/nLists 4/);
  });

  it('TrainingNotRunningError: cancelling when nothing runs', async () => {
    const answer = await server.request(CancelTrainingDocument, { index: name, key });
    expect(answer.body.data?.cancelTraining).toMatchObject({ __typename: 'TrainingNotRunningError', code: 'TRAINING_NOT_RUNNING', indexName: name });
  });

  it('InsufficientResourcesError: a job whose memory estimate exceeds TRAINING_MEMORY_BUDGET_MB', async () => {
    const dimension = 256;
    await server.request(CreateIndexDocument, { name: 'large', key, dimension });
    const large = clusteredVectors(2000, dimension, 8, 5);
    const upserted = await server.request(UpsertDocument, { index: 'large', key, items: large.map((v, i) => ({ id: `v${i}`, vector: toBase64(v) })) });
    expect(upserted.body.data?.upsert.__typename).toBe('UpsertSuccess');
    const answer = await server.request(TrainIndexDocument, { index: 'large', key });
    expect(answer.body.data?.trainIndex).toMatchObject({ __typename: 'InsufficientResourcesError', code: 'INSUFFICIENT_RESOURCES', availableBytes: BUDGET_MB * 2 ** 20 });
    if (answer.body.data?.trainIndex.__typename === 'InsufficientResourcesError') {
      expect(answer.body.data.trainIndex.requiredBytes).toBeGreaterThan(BUDGET_MB * 2 ** 20);
    }
  });

  it('ConvergenceError: wait with requireConvergence, and too few iterations to converge', async () => {
    const answer = await server.request(TrainIndexDocument, { index: name, key, nLists: 4, maxIters: 1, tolerance: 0, wait: true, requireConvergence: true });
    expect(answer.body.data?.trainIndex).toMatchObject({ __typename: 'ConvergenceError', code: 'CONVERGENCE_FAILED', iterations: 1, tolerance: 0 });
    if (answer.body.data?.trainIndex.__typename === 'ConvergenceError') expect(answer.body.data.trainIndex.lastShift).toBeGreaterThan(0);
  });

  it('answers malformed scalars as request errors with BAD_USER_INPUT', async () => {
    const badVector = await server.request(SearchDocument, { index: name, key, vector: 'not*base64' });
    expect(badVector.body.data ?? null).toBeNull();
    expect(badVector.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const oddBytes = await server.request(SearchDocument, { index: name, key, vector: Buffer.alloc(6).toString('base64') });
    expect(oddBytes.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const badKey = await server.request(IndexDocument, { name, key: 'too-short' });
    expect(badKey.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('delivers a wrong key or an unknown index on trainingStatus as one typed error event', async () => {
    const wrong = await collect(server.wsClient(), TrainingStatusDocument, { index: name, key: wrongKey });
    expect(wrong.map((event) => event.data?.trainingStatus)).toEqual([expect.objectContaining({ __typename: 'InvalidIndexKeyError', indexName: name })]);
    const unknown = await collect(server.wsClient(), TrainingStatusDocument, { index: 'no-such-index', key });
    expect(unknown.map((event) => event.data?.trainingStatus)).toEqual([expect.objectContaining({ __typename: 'IndexNotFoundError' })]);
  });
});

describe('IntegrityError over the API', () => {
  it('reports records moved in the database outside Cipherdex', async () => {
    const key = newIndexKey();
    const first = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    await first.request(CreateIndexDocument, { name: 'tampered', key, dimension: DIMENSION });
    await first.request(UpsertDocument, { index: 'tampered', key, items: clusteredVectors(2, DIMENSION, 2, 1).map((v, i) => ({ id: `v${i}`, vector: toBase64(v) })) });
    await first.close({ keepData: true });

    // Swap the sealed payloads of the two items: each is bound to its own slot, so neither opens.
    const db = new Database(join(first.dataDir, SQLITE_FILE_NAME));
    const rows = db.prepare<[], { id: number; sealed: Buffer }>('SELECT id, sealed FROM items ORDER BY id').all();
    expect(rows).toHaveLength(2);
    const update = db.prepare('UPDATE items SET sealed = ? WHERE id = ?');
    update.run(rows[1]!.sealed, rows[0]!.id);
    update.run(rows[0]!.sealed, rows[1]!.id);
    db.close();

    const second = await startTestServer({ dataDir: first.dataDir, env: { AUTO_TRAIN_DISABLED: 'true' } });
    try {
      const answer = await second.request(IndexDocument, { name: 'tampered', key });
      expect(answer.body.errors).toBeUndefined();
      expect(answer.body.data?.index).toMatchObject({ __typename: 'IntegrityError', code: 'INTEGRITY_ERROR' });
    } finally {
      await second.close();
    }
  });
});
