// Training events between replicas over real Redis, with the latest status of every index: events
// reach the other replica's subscribers (and the publisher's own subscribers once), every replica
// knows the latest status per index (also one that starts later, from the stored hash), a
// scheduler reports another replica's run as the current state, a deleted index's history is
// forgotten for later replicas too, a service without replication shares events over the same
// transport, and messages parse once into Date-safe statuses.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReplicaRedis } from '../../../src/service/replication/replica-redis.js';
import { redisNames } from '../../../src/service/replication/cluster-namespace.js';
import {
  createReplicaTrainingEvents,
  openRedisTrainingEvents,
  parseTrainingMessage,
  type ReplicaTrainingEvents,
} from '../../../src/service/replication/replica-training-events.js';
import { TrainingScheduler } from '../../../src/service/training/training-scheduler.js';
import { queuedRun } from '../../../src/service/training/training-status.js';
import type { TrainingPhase, TrainingStatus } from '../../../src/service/types.js';
import { probeRedis } from '../../support/services.js';

const redis = await probeRedis();
// This file's own cluster: other test runs on this Redis neither hear nor are heard.
const NAMES = redisNames(`test-${randomUUID()}`);
const PARAMS = { nLists: 4, batchSize: 64, maxIters: 10, tolerance: 1e-4 };

function runStatus(index: string, runId: string, phase: TrainingPhase, iteration = 0): TrainingStatus {
  const started = phase === 'QUEUED' ? null : new Date('2030-01-01T00:00:00Z');
  return {
    ...queuedRun({ runId, index, trigger: 'MANUAL', params: PARAMS, vectorCount: 100 }),
    phase,
    iteration,
    startedAt: started,
    finishedAt: ['COMPLETED', 'FAILED', 'CANCELLED'].includes(phase) ? new Date('2030-01-01T00:00:05Z') : null,
  };
}

async function take(iterator: AsyncIterator<TrainingStatus>, count: number): Promise<TrainingStatus[]> {
  const got: TrainingStatus[] = [];
  while (got.length < count) {
    const result = await iterator.next();
    if (result.done) break;
    got.push(result.value);
  }
  return got;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe.skipIf(!redis.available)(`replica training events over Redis${redis.available ? '' : ` (skipped: ${redis.reason})`}`, () => {
  const opened: { replica: ReplicaTrainingEvents; connections: ReplicaRedis }[] = [];
  const indexes: string[] = [];

  afterEach(async () => {
    for (const { replica, connections } of opened.splice(0)) {
      await replica.events.close();
      await Promise.all([connections.publisher.quit(), connections.subscriber.quit()]);
    }
    const admin = new Redis(redis.url);
    if (indexes.length > 0) await admin.hdel(NAMES.trainingStatus, ...indexes.splice(0));
    await admin.quit();
  });

  async function replica(subscriberName = `replica-events-${randomUUID()}`): Promise<ReplicaTrainingEvents> {
    const connections = {
      publisher: new Redis(redis.url, { maxRetriesPerRequest: null }),
      subscriber: new Redis(redis.url, { maxRetriesPerRequest: null, connectionName: subscriberName }),
    };
    const made = await createReplicaTrainingEvents(connections, NAMES);
    opened.push({ replica: made, connections });
    return made;
  }

  function newIndex(): string {
    const index = `replica-events-${randomUUID()}`;
    indexes.push(index);
    return index;
  }

  it("delivers a run's events to the other replica in order, and to the publisher's subscribers once", async () => {
    const index = newIndex();
    const [a, b] = [await replica(), await replica()];
    const onA = a.events.subscribe(index);
    const onB = b.events.subscribe(index);
    const run = [runStatus(index, 'r1', 'QUEUED'), runStatus(index, 'r1', 'ITERATING', 1), runStatus(index, 'r1', 'COMPLETED', 1)];
    for (const status of run) a.events.publish(index, status);
    expect(await take(onB, 3)).toEqual(run);
    expect(await take(onA, 3)).toEqual(run);
    // Nothing more reached A (no echo): the next thing it sees is B's marker.
    const marker = runStatus(index, 'r2', 'QUEUED');
    b.events.publish(index, marker);
    expect(await take(onA, 1)).toEqual([marker]);
    await Promise.all([onA.return!(), onB.return!()]);
  });

  it('knows the latest status of every index, also on a replica started after the run ended', async () => {
    const index = newIndex();
    const a = await replica();
    const b = await replica();
    a.events.publish(index, runStatus(index, 'r1', 'QUEUED'));
    a.events.publish(index, runStatus(index, 'r1', 'COMPLETED', 4));
    await a.flush();
    await until(() => b.runs.latest(index)?.phase === 'COMPLETED', 'B to hear the end of the run');
    expect(a.runs.latest(index)).toMatchObject({ runId: 'r1', phase: 'COMPLETED', iteration: 4 });
    const late = await replica();
    expect(late.runs.latest(index)).toEqual(runStatus(index, 'r1', 'COMPLETED', 4));
    expect(late.runs.latest(newIndex())).toBeNull();
  });

  it("makes a scheduler report another replica's run as the current state, then stream it", async () => {
    const index = newIndex();
    const a = await replica();
    const b = await replica();
    const scheduler = new TrainingScheduler({ maxConcurrent: 1, events: b.events, remote: b.runs });
    a.events.publish(index, runStatus(index, 'r1', 'ITERATING', 2));
    await a.flush();
    await until(() => b.runs.latest(index) !== null, 'B to hear the run');
    expect(scheduler.isTraining(index)).toBe(true);
    expect(scheduler.lastRun(index)).toMatchObject({ runId: 'r1', phase: 'ITERATING' });
    const stream = scheduler.subscribe(index);
    a.events.publish(index, runStatus(index, 'r1', 'COMPLETED', 3));
    expect((await take(stream, 2)).map((status) => [status.phase, status.iteration])).toEqual([
      ['ITERATING', 2],
      ['COMPLETED', 3],
    ]);
    expect(scheduler.isTraining(index)).toBe(false);
    await stream.return!();
    await scheduler.close();
  });

  it("gives subscribers the end of a run published while their replica's subscription was cut", async () => {
    const index = newIndex();
    const subscriberName = `cut-${randomUUID()}`;
    const a = await replica();
    const b = await replica(subscriberName);
    const onB = b.events.subscribe(index);
    a.events.publish(index, runStatus(index, 'r1', 'ITERATING', 1));
    expect(await take(onB, 1)).toEqual([runStatus(index, 'r1', 'ITERATING', 1)]);

    // Redis drops B's subscription connection; the run ends before B is back.
    const admin = new Redis(redis.url);
    const clients = (await admin.client('LIST')) as string;
    const id = /id=(\d+) .*name=(\S+)/g;
    const victim = [...clients.matchAll(id)].find((match) => match[2] === subscriberName)![1];
    await admin.client('KILL', 'ID', victim!);
    await admin.quit();
    a.events.publish(index, runStatus(index, 'r1', 'COMPLETED', 2));
    expect(await take(onB, 1)).toEqual([runStatus(index, 'r1', 'COMPLETED', 2)]);
    expect(b.runs.latest(index)?.phase).toBe('COMPLETED');
    await onB.return!();
  });

  it('forgets a deleted index here and for replicas that start later', async () => {
    const index = newIndex();
    const a = await replica();
    a.events.publish(index, runStatus(index, 'r1', 'COMPLETED', 1));
    await a.flush();
    await until(() => a.runs.latest(index) !== null, 'A to hear its own event');
    a.runs.forget(index);
    expect(a.runs.latest(index)).toBeNull();
    await a.flush();
    expect((await replica()).runs.latest(index)).toBeNull();
  });
});

describe.skipIf(!redis.available)('Redis training events without replication (REDIS_URL with SQLite)', () => {
  it('carries events between processes with Dates intact, delivers local ones once, and ends with close()', async () => {
    const index = `redis-events-${randomUUID()}`;
    const a = await openRedisTrainingEvents(redis.url, NAMES);
    const b = await openRedisTrainingEvents(redis.url, NAMES);
    try {
      const onA = a.subscribe(index);
      const onB = b.subscribe(index);
      const run = [runStatus(index, 'r1', 'QUEUED'), runStatus(index, 'r1', 'ITERATING', 1), runStatus(index, 'r1', 'COMPLETED', 1)];
      for (const status of run) a.publish(index, status);
      const fromB = await take(onB, 3);
      expect(fromB).toEqual(run);
      expect(fromB[2].finishedAt).toBeInstanceOf(Date);
      const marker = runStatus(index, 'r2', 'QUEUED');
      b.publish(index, marker);
      expect(await take(onA, 4)).toEqual([...run, marker]);
      await Promise.all([onA.return!(), onB.return!()]);
      expect(a.subscriberCount() + b.subscriberCount()).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
      const admin = new Redis(redis.url);
      await admin.hdel(NAMES.trainingStatus, index);
      await admin.quit();
    }
    // A closed bus ends new subscriptions at once.
    const after = a.subscribe(index);
    await expect(after.next()).resolves.toEqual({ value: undefined, done: true });
  });
});

describe('training messages', () => {
  it('round-trip a status through JSON with its Dates and the time of publication', () => {
    const status = { ...runStatus('a', 'r1', 'COMPLETED', 12), shift: 0.5, inertia: 3, etaMs: 0 };
    const parsed = parseTrainingMessage(JSON.stringify({ origin: 'replica-1', status, at: 1234 }));
    expect(parsed).toEqual({ origin: 'replica-1', status, at: 1234 });
    expect(parsed!.status.startedAt).toBeInstanceOf(Date);
    expect(parsed!.status.finishedAt).toBeInstanceOf(Date);
    // Without its time of publication a message is older than any other.
    expect(parseTrainingMessage(JSON.stringify({ origin: 'replica-1', status }))!.at).toBe(0);
  });

  it('are null when they are not training messages', () => {
    const good = { origin: 'r', status: runStatus('a', 'r1', 'QUEUED'), at: 1 };
    expect(parseTrainingMessage('not json')).toBeNull();
    expect(parseTrainingMessage(JSON.stringify({ status: good.status }))).toBeNull();
    expect(parseTrainingMessage(JSON.stringify({ ...good, status: { ...good.status, phase: 'DANCING' } }))).toBeNull();
    expect(parseTrainingMessage(JSON.stringify({ ...good, status: { ...good.status, startedAt: 'yesterday' } }))).toBeNull();
    expect(parseTrainingMessage(JSON.stringify({ ...good, status: { ...good.status, iteration: '3' } }))).toBeNull();
  });
});
