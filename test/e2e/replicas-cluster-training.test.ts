// Training across replicas, for real: three `cipherdex serve` processes (named A, B, C with
// CIPHERDEX_REPLICA_NAME) on one PostgreSQL schema and one Redis. A trainer paused with SIGSTOP
// past its lease, while another replica trains a newer model, cannot replace that model when it
// is resumed with SIGCONT: every replica serves the newer model and the stale run is reported
// FAILED (live and in the run history). And a client behind a balancer controls training from
// any replica: trainingQueue on B shows A's run with A's name, trainIndex(wait: true) on C joins
// it, and cancelTraining on B cancels it on A.

import { randomBytes, randomUUID } from 'node:crypto';
import { print } from 'graphql';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CancelTrainingDocument,
  CreateIndexDocument,
  IndexDocument,
  SearchDocument,
  TrainIndexDocument,
  TrainingQueueDocument,
  TrainingRunByIdDocument,
  TrainingStatusDocument,
  type TrainingStatusSubscription,
  UpsertDocument,
} from '../generated/graphql.js';
import { probePostgres, probeRedis } from '../support/services.js';
import { type Replica, useServedReplicas } from './replica-process.js';
import { clusteredVectors, toBase64 } from './vectors.js';
import { eventually } from '../support/eventually.js';

const postgres = await probePostgres();
const redis = await probeRedis();

const LEASE_MS = 2000;
const DIMENSION = 16;
/** Mini-batch (more vectors than a batch) with tolerance 0: a run that lasts until it is stopped. */
const ENDLESS = { nLists: 64, maxIters: 10_000, tolerance: 0 };
const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

type Status = Extract<TrainingStatusSubscription['trainingStatus'], { __typename: 'TrainingStatus' }>;

describe.skipIf(!postgres.available || !redis.available)('training across replica processes', () => {
  const cluster = useServedReplicas({ schema: 'cluster_training_e2e', redisUrl: redis.url, leaseMs: LEASE_MS, apiKeyPrefix: 'cluster' });
  let a: Replica;
  let b: Replica;
  let c: Replica;
  const key = randomBytes(32).toString('base64');
  const prefix = `cluster-training-${randomUUID().slice(0, 8)}`;

  const serve = (name: string) => cluster.start(name, { CIPHERDEX_REPLICA_NAME: `replica-${name}` });

  /** Every trainingStatus event of the index on `replica`, with a way to wait for one. */
  function watch(replica: Replica, index: string) {
    const client = replica.ws();
    const events: Status[] = [];
    const waiters: Array<() => void> = [];
    client.subscribe<TrainingStatusSubscription>(
      { query: print(TrainingStatusDocument), variables: { index, key } },
      {
        next(result) {
          const status = result.data?.trainingStatus;
          if (status?.__typename === 'TrainingStatus') events.push(status);
          for (const wake of waiters.splice(0)) wake();
        },
        error: () => {},
        complete: () => {},
      },
    );
    return {
      events,
      async until(match: (status: Status) => boolean, timeoutMs = 30_000): Promise<Status> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const found = events.find(match);
          if (found !== undefined) return found;
          if (Date.now() > deadline) throw new Error(`no matching status on ${replica.name}; saw ${JSON.stringify(events.slice(-3))}`);
          await new Promise<void>((resolve) => {
            waiters.push(resolve);
            setTimeout(resolve, 200);
          });
        }
      },
    };
  }

  async function populated(index: string, count: number): Promise<void> {
    cluster.indexNames.push(index);
    const created = await b.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
    expect(created.body.data?.createIndex.__typename).toBe('Index');
    const vectors = clusteredVectors(count, DIMENSION, 16, 11);
    for (let start = 0; start < count; start += 2000) {
      const items = vectors.slice(start, start + 2000).map((vector, i) => ({ id: `v${start + i}`, vector: toBase64(vector) }));
      const answer = await b.request(UpsertDocument, { index, key, items });
      expect(answer.body.data?.upsert.__typename).toBe('UpsertSuccess');
    }
    for (const replica of [a, c]) {
      await eventually(
        () => replica.request(IndexDocument, { name: index, key }),
        (answer) => answer.body.data?.index.__typename === 'Index' && answer.body.data.index.vectorCount === count,
        `${count} items on ${replica.name}`,
      );
    }
  }

  beforeAll(async () => {
    [a, b, c] = await Promise.all([serve('A'), serve('B'), serve('C')]);
  });

  it('keeps the newer model on every replica when a trainer paused past its lease (SIGSTOP) resumes (SIGCONT), and reports the stale run FAILED', async () => {
    const index = `${prefix}-paused`;
    await populated(index, 6000);
    const onC = watch(c, index);
    await onC.until((status) => status.phase === 'IDLE' || FINAL.has(status.phase));

    const started = await a.request(TrainIndexDocument, { index, key, ...ENDLESS });
    const stale = started.body.data!.trainIndex;
    if (stale.__typename !== 'TrainingRun') throw new Error(JSON.stringify(started.body));
    await onC.until((status) => status.runId === stale.runId && status.phase === 'ITERATING');

    a.child.kill('SIGSTOP');
    const pausedAt = Date.now();
    try {
      // Past its lease, another replica announces the paused run FAILED and the index is free.
      const abandoned = await onC.until((status) => status.runId === stale.runId && FINAL.has(status.phase), 4 * LEASE_MS + 10_000);
      expect(abandoned).toMatchObject({ phase: 'FAILED', message: expect.stringContaining('lease') });
      const newer = await b.request(TrainIndexDocument, { index, key, nLists: 16, wait: true });
      expect(newer.body.data?.trainIndex).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED', nLists: 16 });
      console.log(`[cluster-training] paused trainer's run announced FAILED ${Date.now() - pausedAt} ms after SIGSTOP (lease ${LEASE_MS} ms)`);
    } finally {
      a.child.kill('SIGCONT');
    }

    // Resumed, A stops its run without saving: its own report of the run is FAILED too.
    const resumed = await onC.until((status) => status.runId === stale.runId && status.phase === 'FAILED' && /this replica/i.test(status.message));
    expect(resumed.message).toMatch(/lease/);
    console.log(`[cluster-training] the resumed trainer reported: ${resumed.message}`);
    expect(onC.events.filter((status) => status.runId === stale.runId).map((status) => status.phase)).not.toContain('COMPLETED');
    const recorded = await eventually(
      () => b.request(TrainingRunByIdDocument, { index, key, runId: stale.runId }),
      (answer) => answer.body.data?.trainingRun.__typename === 'TrainingRun',
      'the stale run in the history',
    );
    expect(recorded.body.data?.trainingRun).toMatchObject({ phase: 'FAILED' });

    // Every replica, A included, serves the newer model: 16 lists, the same answers.
    for (const replica of [a, b, c]) {
      await eventually(
        () => replica.request(IndexDocument, { name: index, key }),
        (answer) => answer.body.data?.index.__typename === 'Index' && answer.body.data.index.isTrained && answer.body.data.index.nLists === 16,
        `the newer model on ${replica.name}`,
      );
    }
    const query = toBase64(clusteredVectors(1, DIMENSION, 16, 12)[0]!);
    const answers = await Promise.all([a, b, c].map((replica) => replica.request(SearchDocument, { index, key, vector: query, topK: 10, nProbes: 16 })));
    expect(answers[0]!.body.data?.search.__typename).toBe('SearchResults');
    expect(answers[1]!.body.data?.search).toEqual(answers[0]!.body.data?.search);
    expect(answers[2]!.body.data?.search).toEqual(answers[0]!.body.data?.search);
  });

  it("controls A's run from the other replicas: B's trainingQueue names A, wait: true on C joins it, cancelTraining on B cancels it", async () => {
    const index = `${prefix}-control`;
    await populated(index, 4000);
    const started = await a.request(TrainIndexDocument, { index, key, ...ENDLESS });
    const run = started.body.data!.trainIndex;
    if (run.__typename !== 'TrainingRun') throw new Error(JSON.stringify(started.body));

    const queue = await eventually(
      () => b.request(TrainingQueueDocument, {}),
      (answer) => (answer.body.data?.trainingQueue.running ?? []).some((running) => running.runId === run.runId),
      "A's run in B's queue",
    );
    expect(queue.body.data!.trainingQueue.running.find((running) => running.runId === run.runId)).toMatchObject({ index, replica: 'replica-A' });

    const joined = c.request(TrainIndexDocument, { index, key, nLists: ENDLESS.nLists, wait: true });
    // Time for C to meet A's lease and start waiting (nothing outside C shows that it waits; had C
    // come after the cancel, it would have run a finite run of its own, with another runId).
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const cancelled = await b.request(CancelTrainingDocument, { index, key });
    expect(cancelled.body.data?.cancelTraining).toMatchObject({ __typename: 'TrainingRun', runId: run.runId });
    const ended = await joined;
    expect(ended.body.data?.trainIndex).toMatchObject({ __typename: 'TrainingRun', runId: run.runId, phase: 'CANCELLED' });
    await eventually(
      () => c.request(TrainingQueueDocument, {}),
      (answer) => answer.body.data?.trainingQueue.running.length === 0,
      "the run gone from C's queue",
    );
  });
});
