// Training control from any replica (two index services on one PostgreSQL schema and one Redis,
// as replicas are): cancelTraining on B cancels A's run, running or queued; trainIndex(wait: true)
// on B joins A's run when the arguments fit and returns it, else queues one follow-up run on B once
// A's has ended; trainingQueue (query and subscription) on B shows A's runs with A's replica name;
// and a cancel nobody answers fails with ReplicaUnavailableError after its timeout.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Config } from '../../../src/config.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import { ReplicaUnavailableError, TrainingNotRunningError } from '../../../src/service/errors.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import { redisNames } from '../../../src/service/replication/cluster-namespace.js';
import type { TrainingQueueInfo } from '../../../src/service/types.js';
import { probePostgres, probeRedis } from '../../support/services.js';
import { seededVectors } from '../reference-search.js';
import { newKey } from '../service-harness.js';
import { eventually } from '../../support/eventually.js';
import { useReplicaCluster } from './replica-cluster.js';

const postgres = await probePostgres();
const redis = await probeRedis();
const DIM = 8;
/** Mini-batch (more vectors than a batch) with tolerance 0: a run that lasts until cancelled. */
const ENDLESS = { nLists: 16, maxIters: 10_000, tolerance: 0 };

describe.skipIf(!postgres.available || !redis.available)('training control from any replica', () => {
  const cluster = useReplicaCluster('cluster_training', redis.url, { REPLICA_POLL_MS: '100' });
  const { services } = cluster;
  const key = newKey();
  let config: Config;
  let name: string;
  beforeEach(() => void ({ config, name } = cluster));

  async function replicas(): Promise<[CipherdexIndexService, CipherdexIndexService]> {
    const a = await createIndexService({ ...config, replicaName: 'replica-a' }, { sealWorkers: 0 });
    services.push(a);
    const b = await createIndexService({ ...config, replicaName: 'replica-b' }, { sealWorkers: 0 });
    services.push(b);
    return [a, b];
  }

  async function populated(a: CipherdexIndexService, b: CipherdexIndexService, index = name): Promise<void> {
    await a.createIndex(index, key, { dimension: DIM });
    await a.upsert(index, key, seededVectors(3000, DIM, 1).map((vector, i) => ({ id: `v${i}`, vector })));
    await eventually(() => b.describeIndex(index, key), (info) => info.vectorCount === 3000, 'B to catch up');
  }

  it("cancels A's running run from B", async () => {
    const [a, b] = await replicas();
    await populated(a, b);
    const run = await a.train(name, key, ENDLESS);
    await eventually(() => b.describeIndex(name, key), (info) => info.isTraining, 'B to hear of the run');
    const answer = await b.cancelTraining(name, key);
    expect(answer).toMatchObject({ runId: run.runId, index: name, replica: 'replica-a' });
    expect((await a.waitForRun(run.runId)).phase).toBe('CANCELLED');
    await eventually(() => b.describeIndex(name, key), (info) => !info.isTraining, 'B to hear the run ended');
    await expect(b.cancelTraining(name, key)).rejects.toBeInstanceOf(TrainingNotRunningError);
  });

  it("cancels A's queued run from B: CANCELLED at once, as on A", async () => {
    const [a, b] = await replicas();
    const other = `${name}-first`;
    await populated(a, b, other);
    await populated(a, b);
    const first = await a.train(other, key, ENDLESS); // takes A's one training slot
    const queued = await a.train(name, key, { nLists: 4 });
    expect(queued.phase).toBe('QUEUED');
    await eventually(() => b.describeIndex(name, key), (info) => info.isTraining, 'B to hear of the queued run');
    const answer = await b.cancelTraining(name, key);
    expect(answer).toMatchObject({ runId: queued.runId, phase: 'CANCELLED', replica: 'replica-a' });
    expect(a.trainingQueue().queued).toEqual([]);
    await a.cancelTraining(other, key);
    expect((await a.waitForRun(first.runId)).phase).toBe('CANCELLED');
  });

  it("joins A's run with wait: true on B and returns that run", async () => {
    const [a, b] = await replicas();
    await populated(a, b);
    const run = await a.train(name, key, ENDLESS);
    // Same arguments (or fewer): B waits for A's run instead of refusing.
    const joined = b.train(name, key, { nLists: ENDLESS.nLists, wait: true });
    const joinedToo = b.train(name, key, { wait: true });
    await eventually(() => a.describeIndex(name, key), (info) => info.lastTrainingRun?.phase === 'ITERATING', 'the run to iterate');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await a.cancelTraining(name, key);
    for (const ended of [await joined, await joinedToo]) {
      expect(ended).toMatchObject({ runId: run.runId, phase: 'CANCELLED', replica: 'replica-a' });
    }
  });

  it("queues one follow-up run on B when B's arguments differ from A's run, once A's has ended", async () => {
    const [a, b] = await replicas();
    await populated(a, b);
    const run = await a.train(name, key, ENDLESS);
    const followUp = b.train(name, key, { nLists: 4, wait: true });
    await eventually(() => b.describeIndex(name, key), (info) => info.isTraining, 'B to hear of the run');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await a.cancelTraining(name, key);
    const ended = await followUp;
    expect(ended).toMatchObject({ phase: 'COMPLETED', nLists: 4, replica: 'replica-b' });
    expect(ended.runId).not.toBe(run.runId);
    expect((await a.waitForRun(run.runId)).phase).toBe('CANCELLED');
    await eventually(() => a.describeIndex(name, key), (info) => info.isTrained && info.nLists === 4, "B's model on A");
  });

  it("shows A's runs in B's trainingQueue with A's replica name, and tells B's subscribers when they start and end", async () => {
    const [a, b] = await replicas();
    await populated(a, b);
    expect(b.trainingQueue()).toMatchObject({ running: [], queued: [] });
    const updates = b.trainingQueueUpdates();
    expect((await updates.next()).value).toMatchObject({ running: [], queued: [] });
    const run = await a.train(name, key, ENDLESS);
    const seen: TrainingQueueInfo[] = [];
    for (;;) {
      const queue = (await updates.next()).value as TrainingQueueInfo;
      seen.push(queue);
      if (queue.running.length > 0) break;
    }
    expect(seen.at(-1)!.running).toEqual([expect.objectContaining({ runId: run.runId, index: name, replica: 'replica-a' })]);
    expect(b.trainingQueue().running).toEqual([expect.objectContaining({ runId: run.runId, replica: 'replica-a' })]);
    // A's own queue shows it once, from A.
    expect(a.trainingQueue().running.map((running) => running.runId)).toEqual([run.runId]);
    // Iterations on A do not make B's subscribers a new queue each; the end does.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await a.cancelTraining(name, key);
    for (;;) {
      const queue = (await updates.next()).value as TrainingQueueInfo;
      seen.push(queue);
      if (queue.running.length === 0) break;
    }
    expect(seen.length).toBeLessThanOrEqual(4);
    await updates.return?.();
    expect(b.trainingQueue()).toMatchObject({ running: [], queued: [] });
  });

  it('answers ReplicaUnavailableError when the replica said to run the run does not answer, and changes nothing', async () => {
    const [, b] = await replicas();
    await b.createIndex(name, key, { dimension: DIM });
    // A run B hears of from a replica that is gone (published as a replica would, then silent).
    const publisher = new Redis(redis.url);
    const status = {
      runId: randomUUID(), index: name, trigger: 'MANUAL', phase: 'ITERATING', iteration: 3, maxIters: 10, nLists: 4, batchSize: 2048,
      tolerance: 0, shift: null, inertia: null, converged: false, progress: 0.3, elapsedMs: 10, etaMs: null, vectorCount: 10,
      startedAt: new Date().toISOString(), finishedAt: null, message: null, replica: 'replica-gone',
    };
    await publisher.publish(redisNames(b.redisNames.cluster).trainingTopicPrefix + name, JSON.stringify({ origin: 'gone', status, at: Date.now() }));
    await publisher.quit();
    await eventually(() => b.trainingQueue().running.length, (count) => count === 1, 'B to hear of the run');
    const started = Date.now();
    const failure = await b.cancelTraining(name, key).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReplicaUnavailableError);
    expect(failure).toMatchObject({ code: 'REPLICA_UNAVAILABLE', runId: status.runId });
    expect(Date.now() - started).toBeGreaterThanOrEqual(4000);
    expect(b.trainingQueue().running).toEqual([expect.objectContaining({ runId: status.runId, replica: 'replica-gone' })]);
  });
});
