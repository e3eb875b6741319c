// Two index services on one PostgreSQL schema and one Redis, assembled by createIndexService as
// replicas are: a write on A reaches B through the change notice alone (B's periodic check is an
// hour away), B's trainingStatus starts from A's run as it stands and streams it, simultaneous
// trainIndex calls on A and B make one run, B swaps in the trained model, and closing a replica
// releases its leases. Without Redis, the periodic check alone keeps B in step.

import { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Config } from '../../../src/config.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import { TrainingInProgressError } from '../../../src/service/errors.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import type { TrainingRun, TrainingStatus } from '../../../src/service/types.js';
import { probePostgres, probeRedis } from '../../support/services.js';
import { seededVectors } from '../reference-search.js';
import { newKey } from '../service-harness.js';
import { eventually } from '../../support/eventually.js';
import { useReplicaCluster } from './replica-cluster.js';

const postgres = await probePostgres();
const redis = await probeRedis();
const DIM = 8;

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

describe.skipIf(!postgres.available || !redis.available)('replicas on PostgreSQL and Redis', () => {
  // An hour: whatever reaches B in these tests came through Redis.
  const cluster = useReplicaCluster('replication', redis.url, { REPLICA_POLL_MS: '3600000' });
  const { services } = cluster;
  const key = newKey();
  let config: Config;
  let name: string;
  beforeEach(() => void ({ config, name } = cluster));

  async function replica(overrides: Partial<Config> = {}): Promise<CipherdexIndexService> {
    const service = await createIndexService({ ...config, ...overrides }, { sealWorkers: 0 });
    services.push(service);
    return service;
  }

  async function populated(a: CipherdexIndexService, count: number): Promise<void> {
    await a.createIndex(name, key, { dimension: DIM });
    await a.upsert(name, key, seededVectors(count, DIM, 1).map((vector, i) => ({ id: `v${i}`, vector })));
  }

  /** Rotates the index key on A and waits until B refuses the old one; answers the new key. */
  async function rotateOnAUntilBRefusesTheOldKey(a: CipherdexIndexService, b: CipherdexIndexService): Promise<string> {
    const rotated = newKey();
    await a.rotateIndexKey(name, key, rotated);
    await eventually(
      () => b.describeIndex(name, key).then(() => 'accepted', (error: unknown) => (error as Error).name),
      (outcome) => outcome === 'InvalidIndexKeyError',
      'B to refuse the old key',
    );
    return rotated;
  }

  it('makes a write on A searchable on B through the change notice', async () => {
    const [a, b] = [await replica(), await replica()];
    await populated(a, 20);
    expect((await b.describeIndex(name, key)).vectorCount).toBe(20);
    const target = Array(DIM).fill(3);
    await a.upsert(name, key, [{ id: 'new', vector: target }]);
    const [result] = await eventually(
      () => b.search(name, key, [target], { topK: 1 }),
      ([found]) => found.hits[0]?.id === 'new',
      'the new item on B',
    );
    expect(result.hits[0]).toMatchObject({ id: 'new', distance: 0 });
    await a.delete(name, key, ['new']);
    await eventually(() => b.get(name, key, ['new']), (items) => items.length === 0, 'the delete on B');
  });

  it('refuses a rotated-away key on B too, where B remembered it as accepted', async () => {
    const [a, b] = [await replica(), await replica()];
    await populated(a, 20);
    // B opens the index and remembers the key as accepted.
    expect((await b.describeIndex(name, key)).vectorCount).toBe(20);
    const rotated = await rotateOnAUntilBRefusesTheOldKey(a, b);
    expect((await b.describeIndex(name, rotated)).vectorCount).toBe(20);
    expect(b.residentIndexes()).toContain(name);
  });

  it("streams A's run to a subscriber on B, starting from the run's current state", async () => {
    const [a, b] = [await replica(), await replica()];
    await populated(a, 3000);
    await eventually(() => b.describeIndex(name, key), (info) => info.vectorCount === 3000, 'B to catch up');
    // Mini-batch (more vectors than a batch) with tolerance 0: it runs until cancelled.
    const run = await a.train(name, key, { nLists: 64, maxIters: 10_000, tolerance: 0 });
    // B learns of the run through Redis, then a subscriber on B starts from where the run is.
    await eventually(() => b.describeIndex(name, key), (info) => info.isTraining, 'B to know A trains');
    const stream = await b.trainingStatus(name, key);
    const first = (await stream.next()).value as TrainingStatus;
    expect(first).toMatchObject({ runId: run.runId, index: name });
    expect(FINAL.has(first.phase) || first.phase === 'IDLE').toBe(false);
    await a.cancelTraining(name, key);
    const seen: TrainingStatus[] = [first];
    for await (const status of stream) {
      seen.push(status);
      if (FINAL.has(status.phase)) break;
    }
    expect(seen.at(-1)).toMatchObject({ runId: run.runId, phase: 'CANCELLED' });
    expect(seen.every((status) => status.runId === run.runId)).toBe(true);
    await eventually(() => b.describeIndex(name, key), (info) => !info.isTraining, 'B to know the run ended');
  });

  it('makes one run of two simultaneous trainIndex calls, and swaps a model trained on one replica into the other', async () => {
    const [a, b] = [await replica(), await replica()];
    await populated(a, 3000);
    await eventually(() => b.describeIndex(name, key), (info) => info.vectorCount === 3000, 'B to catch up');
    // Runs that last seconds: more vectors than a batch makes them mini-batch runs, whose shift
    // never reaches a tolerance of 0 (a full-batch run can, and may end before the other call).
    const long = { nLists: 64, maxIters: 10_000, tolerance: 0 };
    const outcomes = await Promise.allSettled([a.train(name, key, long), b.train(name, key, long)]);
    const runs = outcomes.filter((outcome): outcome is PromiseFulfilledResult<TrainingRun> => outcome.status === 'fulfilled').map((outcome) => outcome.value);
    expect(runs).toHaveLength(1);
    const refusal = (outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult).reason;
    expect(refusal).toBeInstanceOf(TrainingInProgressError);
    expect(refusal).toMatchObject({ runId: runs[0].runId });
    const winner = outcomes[0].status === 'fulfilled' ? a : b;
    await winner.cancelTraining(name, key);
    expect((await winner.waitForRun(runs[0].runId)).phase).toBe('CANCELLED');

    // A run that completes on one replica is swapped in on the other.
    const trainer = winner === a ? b : a;
    const other = winner;
    await eventually(() => trainer.describeIndex(name, key), (described) => !described.isTraining, 'the cancellation to be heard');
    const run = await trainer.train(name, key, { nLists: 4, wait: true });
    expect(run.phase).toBe('COMPLETED');
    const info = await eventually(() => other.describeIndex(name, key), (described) => described.isTrained, 'the model on the other replica');
    expect(info).toMatchObject({ nLists: 4, isTraining: false, lastTrainingRun: { runId: run.runId, phase: 'COMPLETED' } });
    const query = seededVectors(1, DIM, 7)[0];
    const [onTrainer] = await trainer.search(name, key, [query], { topK: 5, nProbes: 4 });
    const [onOther] = await other.search(name, key, [query], { topK: 5, nProbes: 4 });
    expect(onOther.hits).toEqual(onTrainer.hits);
  });

  it('releases the leases of a replica that shuts down, so another can train at once', async () => {
    const a = await replica();
    await populated(a, 400);
    await a.train(name, key, { nLists: 4, maxIters: 10_000, tolerance: 0 });
    await a.close();
    const b = await replica();
    const run = await b.train(name, key, { nLists: 4, wait: true });
    expect(run.phase).toBe('COMPLETED');
  });

  it('keeps B in step through the periodic check alone when there is no Redis', async () => {
    const a = await replica({ redisUrl: null, replicaPollMs: 50 });
    const b = await replica({ redisUrl: null, replicaPollMs: 50 });
    await populated(a, 10);
    expect((await b.describeIndex(name, key)).vectorCount).toBe(10);
    await a.upsert(name, key, [{ id: 'late', vector: Array(DIM).fill(2) }]);
    await eventually(() => b.get(name, key, ['late']), (items) => items.length === 1, 'the write on B');
  });

  it('refuses a rotated-away key on B through the periodic check alone when there is no Redis', async () => {
    const a = await replica({ redisUrl: null, replicaPollMs: 50 });
    const b = await replica({ redisUrl: null, replicaPollMs: 50 });
    await populated(a, 10);
    expect((await b.describeIndex(name, key)).vectorCount).toBe(10);
    const rotated = await rotateOnAUntilBRefusesTheOldKey(a, b);
    expect((await b.describeIndex(name, rotated)).vectorCount).toBe(10);
  });
});
