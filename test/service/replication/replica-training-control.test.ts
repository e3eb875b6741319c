// Cancels forwarded between replicas over real Redis: the replica that has the run cancels it and
// its answer reaches the asking replica only; a repeat for a run that already ended is answered
// with its final state and cancels nothing; replicas without the run stay silent; malformed
// messages on the channel are ignored; and an unanswered request ends in ReplicaUnavailableError.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { ReplicaUnavailableError } from '../../../src/service/errors.js';
import { redisNames } from '../../../src/service/replication/cluster-namespace.js';
import { closeReplicaRedis, connectReplicaRedis, type ReplicaRedis } from '../../../src/service/replication/replica-redis.js';
import { startReplicaTrainingControl, type ReplicaTrainingControl } from '../../../src/service/replication/replica-training-control.js';
import type { TrainingScheduler } from '../../../src/service/training/training-scheduler.js';
import { queuedRun } from '../../../src/service/training/training-status.js';
import type { TrainingPhase, TrainingRun } from '../../../src/service/types.js';
import { probeRedis } from '../../support/services.js';

const redis = await probeRedis();
const NAMES = redisNames(`test-${randomUUID()}`);

function run(runId: string, phase: TrainingPhase): TrainingRun {
  return {
    ...queuedRun({ runId, index: 'docs', trigger: 'MANUAL', params: { nLists: 4, batchSize: 64, maxIters: 10, tolerance: 0 }, vectorCount: 100 }),
    phase,
    startedAt: phase === 'QUEUED' ? null : new Date('2030-01-01T00:00:00Z'),
    replica: 'replica-a',
  };
}

/** A scheduler that has `runs` (by id) and counts cancels. */
function schedulerWith(runs: TrainingRun[]) {
  const byId = new Map(runs.map((known) => [known.runId, known]));
  const cancels: string[] = [];
  const scheduler: Pick<TrainingScheduler, 'activeRun' | 'cancel' | 'knownRun'> = {
    knownRun: (runId) => byId.get(runId) ?? null,
    activeRun: (index) => runs.find((known) => known.index === index && !['COMPLETED', 'FAILED', 'CANCELLED'].includes(known.phase)) ?? null,
    cancel(index) {
      cancels.push(index);
      return this.activeRun(index)!;
    },
  };
  return { scheduler, cancels };
}

describe.skipIf(!redis.available)('forwarded cancels over Redis', () => {
  const connections: ReplicaRedis[] = [];
  const controls: ReplicaTrainingControl[] = [];

  afterEach(async () => {
    for (const control of controls.splice(0)) control.close();
    await Promise.all(connections.splice(0).map((connection) => closeReplicaRedis(connection)));
  });

  async function control(scheduler: Pick<TrainingScheduler, 'activeRun' | 'cancel' | 'knownRun'>, timeoutMs = 3000): Promise<ReplicaTrainingControl> {
    const connection = await connectReplicaRedis(redis.url);
    connections.push(connection);
    const made = await startReplicaTrainingControl(connection, NAMES, scheduler, { timeoutMs, resendMs: 100 });
    controls.push(made);
    return made;
  }

  it('cancels the run on the replica that has it and answers the asking replica with its state', async () => {
    const owner = schedulerWith([run('r1', 'ITERATING')]);
    const bystander = schedulerWith([]);
    await control(owner.scheduler);
    await control(bystander.scheduler);
    const asking = await control(schedulerWith([]).scheduler);
    const answer = await asking.cancel('docs', 'r1');
    expect(answer).toMatchObject({ runId: 'r1', index: 'docs', phase: 'ITERATING', replica: 'replica-a' });
    expect(answer.startedAt).toEqual(new Date('2030-01-01T00:00:00Z'));
    expect(owner.cancels).toEqual(['docs']);
    expect(bystander.cancels).toEqual([]);
  });

  it('answers a repeat for a run that already ended with its final state, cancelling nothing', async () => {
    const owner = schedulerWith([run('r2', 'CANCELLED')]);
    await control(owner.scheduler);
    const asking = await control(schedulerWith([]).scheduler);
    expect(await asking.cancel('docs', 'r2')).toMatchObject({ runId: 'r2', phase: 'CANCELLED' });
    expect(owner.cancels).toEqual([]);
  });

  it('ignores malformed messages and ends an unanswered request with ReplicaUnavailableError', async () => {
    const asking = await control(schedulerWith([]).scheduler, 400);
    const noise = new Redis(redis.url);
    try {
      for (const message of ['not json', '{}', JSON.stringify({ kind: 'answer', id: 'x', to: 'y', run: 5 }), JSON.stringify({ kind: 'cancel', id: 1 })]) {
        await noise.publish(NAMES.trainingControl, message);
      }
    } finally {
      await noise.quit();
    }
    const failure = await asking.cancel('docs', 'nobody-has-it').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReplicaUnavailableError);
    expect(failure).toMatchObject({ index: 'docs', runId: 'nobody-has-it' });
  });
});
