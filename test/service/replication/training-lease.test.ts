// Training leases between replicas, on real PostgreSQL: one run per index across replicas (the
// loser gets TrainingInProgressError naming the winner's run), a lease that follows its run from
// claim to release, an abandoned run (its replica stopped renewing) announced FAILED by another
// replica from the run's last known state, and a run that can no longer renew stopped with
// TrainingLeaseLostError before it commits.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TrainingInProgressError } from '../../../src/service/errors.js';
import { createLocalTrainingEvents, type TrainingEventBus } from '../../../src/service/training/training-events.js';
import { ABANDONED_RUN_MESSAGE, TrainingLeaseLostError, TrainingLeases, abandonedRun } from '../../../src/service/replication/training-lease.js';
import type { RemoteTrainingStatuses, TrainingJobContext } from '../../../src/service/training/training-scheduler.js';
import { queuedRun } from '../../../src/service/training/training-status.js';
import type { TrainingStatus } from '../../../src/service/types.js';
import { PostgresStore } from '../../../src/storage/postgres-store.js';
import { createPostgresTestSchema, probePostgres, type PostgresTestSchema } from '../../support/services.js';

const postgres = await probePostgres();
const PARAMS = { nLists: 4, batchSize: 64, maxIters: 10, tolerance: 1e-4 };

/** The last statuses as a Redis-connected replica would know them. */
function knownStatuses(): RemoteTrainingStatuses & { set(status: TrainingStatus): void } {
  const statuses = new Map<string, TrainingStatus>();
  return {
    latest: (index) => statuses.get(index) ?? null,
    forget: (index) => void statuses.delete(index),
    set: (status) => void statuses.set(status.index, status),
  };
}

async function next(iterator: AsyncIterator<TrainingStatus>): Promise<TrainingStatus> {
  const result = await iterator.next();
  if (result.done) throw new Error('the topic ended');
  return result.value;
}

describe.skipIf(!postgres.available)(`TrainingLeases${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  let schema: PostgresTestSchema;
  let storeA: PostgresStore;
  let storeB: PostgresStore;
  let eventsB: TrainingEventBus;
  const leases: TrainingLeases[] = [];

  beforeEach(async () => {
    schema = await createPostgresTestSchema('training_lease');
    [storeA, storeB] = await Promise.all([PostgresStore.open(schema.connectionString), PostgresStore.open(schema.connectionString)]);
    eventsB = createLocalTrainingEvents();
  });

  afterEach(async () => {
    await Promise.all(leases.splice(0).map((lease) => lease.close()));
    await eventsB.close();
    await Promise.all([storeA.close(), storeB.close()]);
    await schema.drop();
  });

  function leasesOn(store: PostgresStore, leaseMs: number, runs: RemoteTrainingStatuses | null = null, events = createLocalTrainingEvents()): TrainingLeases {
    const made = new TrainingLeases({ store: store.replication, leaseMs, events, runs });
    leases.push(made);
    return made;
  }

  it('gives a simultaneous second claim TrainingInProgressError with the first run, until it is released', async () => {
    const onA = leasesOn(storeA, 60_000);
    const onB = leasesOn(storeB, 60_000);
    const outcomes = await Promise.allSettled([onA.claim('docs', 'run-a', 'MANUAL'), onB.claim('docs', 'run-b', 'MANUAL')]);
    const won = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    expect(won).toHaveLength(1);
    const winner = (won[0] as PromiseFulfilledResult<{ runId: string; release(): Promise<void> }>).value;
    const refusal = (outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult).reason;
    expect(refusal).toBeInstanceOf(TrainingInProgressError);
    expect(refusal).toMatchObject({ index: 'docs', runId: winner.runId });

    // Another index is free meanwhile.
    await expect(onB.claim('other', 'run-c', 'AUTOMATIC')).resolves.toMatchObject({ index: 'other', runId: 'run-c' });
    await winner.release();
    await expect(onB.claim('docs', 'run-d', 'MANUAL')).resolves.toMatchObject({ runId: 'run-d' });
  });

  it('keeps a lease while its run lasts longer than the lease time (renewed)', async () => {
    const onA = leasesOn(storeA, 600);
    const held = await onA.claim('docs', 'run-a', 'MANUAL');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(held.lost.aborted).toBe(false);
    await expect(leasesOn(storeB, 600).claim('docs', 'run-b', 'MANUAL')).rejects.toBeInstanceOf(TrainingInProgressError);
  });

  it('announces a run whose replica stopped renewing as FAILED, from its last known state, and frees the index', async () => {
    const runs = knownStatuses();
    const running: TrainingStatus = {
      ...queuedRun({ runId: 'run-a', index: 'docs', trigger: 'AUTOMATIC', params: PARAMS, vectorCount: 500 }),
      phase: 'ITERATING',
      iteration: 3,
      progress: 0.3,
      startedAt: new Date(Date.now() - 2000),
      elapsedMs: 1500,
    };
    runs.set(running);
    // Replica A claims and then dies: nothing renews its lease.
    expect(await storeA.replication.claimLease({ index: 'docs', runId: 'run-a', trigger: 'AUTOMATIC' }, 300)).toEqual({ claimed: true });
    const onB = leasesOn(storeB, 300, runs, eventsB);
    const topic = eventsB.subscribe('docs');
    const failed = await next(topic);
    expect(failed).toMatchObject({ runId: 'run-a', trigger: 'AUTOMATIC', phase: 'FAILED', iteration: 3, progress: 0.3, vectorCount: 500, message: ABANDONED_RUN_MESSAGE });
    expect(failed.elapsedMs).toBeGreaterThanOrEqual(2000);
    await expect(onB.claim('docs', 'run-b', 'MANUAL')).resolves.toMatchObject({ runId: 'run-b' });
    await topic.return!();
  });

  it('announces nothing for a run that ended and only lost the removal of its lease', async () => {
    const runs = knownStatuses();
    runs.set({ ...queuedRun({ runId: 'run-a', index: 'docs', trigger: 'MANUAL', params: PARAMS, vectorCount: 10 }), phase: 'COMPLETED' });
    await storeA.replication.claimLease({ index: 'docs', runId: 'run-a', trigger: 'MANUAL' }, -1000);
    const onB = leasesOn(storeB, 60_000, runs, eventsB);
    const topic = eventsB.subscribe('docs');
    await onB.sweep();
    const marker = queuedRun({ runId: 'marker', index: 'docs', trigger: 'MANUAL', params: PARAMS, vectorCount: 0 });
    eventsB.publish('docs', marker);
    expect((await next(topic)).runId).toBe('marker');
    await expect(onB.claim('docs', 'run-b', 'MANUAL')).resolves.toBeDefined();
    await topic.return!();
  });

  it('takes the lease of an abandoned run at once on claim, announcing that run FAILED first', async () => {
    await storeA.replication.claimLease({ index: 'docs', runId: 'run-a', trigger: 'MANUAL' }, -1000);
    const onB = leasesOn(storeB, 60_000, null, eventsB);
    const topic = eventsB.subscribe('docs');
    await expect(onB.claim('docs', 'run-b', 'MANUAL')).resolves.toMatchObject({ runId: 'run-b' });
    expect(await next(topic)).toMatchObject({ runId: 'run-a', phase: 'FAILED', trigger: 'MANUAL' });
    await topic.return!();
  });

  it('reaps an expired lease this process left behind (its removal failed) when it no longer holds it', async () => {
    await storeA.replication.claimLease({ index: 'docs', runId: 'left-behind', trigger: 'MANUAL' }, -1000);
    const onA = leasesOn(storeA, 60_000);
    await expect(onA.claim('docs', 'run-2', 'MANUAL')).resolves.toMatchObject({ runId: 'run-2' });
  });

  it('stops a run that can no longer renew its lease, before its commit point, with TrainingLeaseLostError', async () => {
    const onA = leasesOn(storeA, 600);
    const held = await onA.claim('docs', 'run-a', 'MANUAL');
    const job = held.guard(
      (ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('aborted')));
        }),
    );
    const controller = new AbortController();
    const ctx: TrainingJobContext = { runId: 'run-a', signal: controller.signal, report: () => {} };
    const outcome = job(ctx);
    // Someone with database access (or a sweep that found it expired) removed the lease.
    await schema.query('DELETE FROM training_leases');
    await expect(outcome).rejects.toBeInstanceOf(TrainingLeaseLostError);
    expect(held.lost.aborted).toBe(true);
    // A job that starts after the loss does not start at all.
    await expect(held.guard(async () => ({ iterations: 0, shift: 0, inertia: 0, converged: true }))(ctx)).rejects.toBeInstanceOf(TrainingLeaseLostError);
  });

  it('passes an ordinary cancellation through unchanged', async () => {
    const held = await leasesOn(storeA, 60_000).claim('docs', 'run-a', 'MANUAL');
    const controller = new AbortController();
    const outcome = held.guard(
      (ctx) =>
        new Promise((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => reject(new Error('cancelled by the user')));
        }),
    )({ runId: 'run-a', signal: controller.signal, report: () => {} });
    controller.abort();
    await expect(outcome).rejects.toThrow('cancelled by the user');
  });
});

describe('abandonedRun', () => {
  it('ends the known run FAILED, keeping its progress; an unknown run gets the lease facts', () => {
    const now = new Date('2030-01-01T00:00:10Z');
    const known: TrainingStatus = {
      ...queuedRun({ runId: 'r', index: 'docs', trigger: 'MANUAL', params: PARAMS, vectorCount: 9 }),
      phase: 'ASSIGNING',
      progress: 0.9,
      etaMs: 100,
      startedAt: new Date('2030-01-01T00:00:00Z'),
    };
    expect(abandonedRun({ index: 'docs', runId: 'r', owner: 'x', trigger: 'MANUAL' }, known, now)).toMatchObject({
      phase: 'FAILED',
      progress: 0.9,
      etaMs: null,
      elapsedMs: 10_000,
      finishedAt: now,
      nLists: 4,
    });
    expect(abandonedRun({ index: 'docs', runId: 'r', owner: 'x', trigger: 'AUTOMATIC' }, null, now)).toMatchObject({
      runId: 'r',
      index: 'docs',
      trigger: 'AUTOMATIC',
      phase: 'FAILED',
      startedAt: null,
      message: ABANDONED_RUN_MESSAGE,
    });
  });
});
