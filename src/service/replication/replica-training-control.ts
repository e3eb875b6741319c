// Training requests forwarded between replicas over Redis: a cancelTraining that reaches a replica
// not running the index's run is sent on the cluster's control channel, the replica that has the
// run cancels it there and answers with the run's state, as a local cancel would. Pub/sub loses
// messages while a connection is down, so the request is sent again until answered (a replica
// answers a repeat with the run's state, never cancels twice) or until it times out with
// ReplicaUnavailableError, having changed nothing it knows of.

import { randomUUID } from 'node:crypto';
import { CipherdexError, ReplicaUnavailableError } from '../errors.js';
import type { TrainingScheduler } from '../training/training-scheduler.js';
import { isTerminalPhase } from '../training/training-status.js';
import type { TrainingRun } from '../types.js';
import type { RedisNames } from './cluster-namespace.js';
import { isRecord, reviveStatus } from './replica-training-events.js';
import type { ReplicaRedis } from './replica-redis.js';

/** How long a forwarded cancel waits for the run's replica, and how often it is sent meanwhile. */
export const FORWARDED_CANCEL_TIMEOUT_MS = 5000;
export const FORWARDED_CANCEL_RESEND_MS = 500;

export interface ReplicaTrainingControl {
  /** Cancels run `runId` of the index on the replica that has it; resolves with its state then (as TrainingScheduler.cancel). */
  cancel(index: string, runId: string): Promise<TrainingRun>;
  /** Stops answering and fails pending requests. */
  close(): void;
}

type ControlMessage =
  | { kind: 'cancel'; id: string; from: string; index: string; runId: string }
  | { kind: 'answer'; id: string; to: string; run: Record<string, unknown> };

export interface ReplicaTrainingControlOptions {
  timeoutMs?: number;
  resendMs?: number;
}

/** Subscribes to the cluster's control channel (before resolving) and answers for `scheduler`'s runs. */
export async function startReplicaTrainingControl(
  redis: ReplicaRedis,
  names: Pick<RedisNames, 'trainingControl'>,
  scheduler: Pick<TrainingScheduler, 'activeRun' | 'cancel' | 'knownRun'>,
  options: ReplicaTrainingControlOptions = {},
): Promise<ReplicaTrainingControl> {
  const timeoutMs = options.timeoutMs ?? FORWARDED_CANCEL_TIMEOUT_MS;
  const resendMs = options.resendMs ?? FORWARDED_CANCEL_RESEND_MS;
  const channel = names.trainingControl;
  const self = randomUUID();
  const pending = new Map<string, { resolve: (run: TrainingRun) => void; reject: (error: unknown) => void }>();
  const send = (message: ControlMessage): void => void redis.publisher.publish(channel, JSON.stringify(message)).catch(() => {});

  /** Cancels the run if it is queued or running here; the run's state, or null when it is not ours. */
  const cancelHere = (index: string, runId: string): TrainingRun | null => {
    const known = scheduler.knownRun(runId);
    if (known === null || known.index !== index) return null;
    if (isTerminalPhase(known.phase) || scheduler.activeRun(index)?.runId !== runId) return known;
    try {
      return scheduler.cancel(index);
    } catch (error) {
      // It ended between the two reads: its final state answers.
      if (error instanceof CipherdexError) return scheduler.knownRun(runId);
      throw error;
    }
  };

  const listener = (from: string, raw: string): void => {
    if (from !== channel) return;
    const message = parseControlMessage(raw);
    if (message === null) return;
    if (message.kind === 'cancel') {
      const run = cancelHere(message.index, message.runId);
      if (run !== null) send({ kind: 'answer', id: message.id, to: message.from, run: run as unknown as Record<string, unknown> });
      return;
    }
    if (message.to !== self) return;
    const waiter = pending.get(message.id);
    const run = reviveStatus(message.run);
    if (waiter === undefined || run === null || run.runId === null || run.trigger === null) return;
    pending.delete(message.id);
    waiter.resolve(run as TrainingRun);
  };
  redis.subscriber.on('message', listener);
  await redis.subscriber.subscribe(channel);

  return {
    cancel(index, runId) {
      const id = randomUUID();
      return new Promise<TrainingRun>((resolve, reject) => {
        const request: ControlMessage = { kind: 'cancel', id, from: self, index, runId };
        const resend = setInterval(() => send(request), resendMs);
        const timer = setTimeout(() => settle(() => reject(new ReplicaUnavailableError(index, runId))), timeoutMs);
        const settle = (then: () => void): void => {
          clearInterval(resend);
          clearTimeout(timer);
          pending.delete(id);
          then();
        };
        pending.set(id, { resolve: (run) => settle(() => resolve(run)), reject: (error) => settle(() => reject(error)) });
        send(request);
      });
    },
    close() {
      redis.subscriber.off('message', listener);
      void redis.subscriber.unsubscribe(channel).catch(() => {});
      for (const [id, waiter] of [...pending]) {
        pending.delete(id);
        waiter.reject(new Error('This replica is shutting down.'));
      }
    },
  };
}

function parseControlMessage(raw: string): ControlMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.id !== 'string') return null;
  if (value.kind === 'cancel' && typeof value.from === 'string' && typeof value.index === 'string' && typeof value.runId === 'string') {
    return { kind: 'cancel', id: value.id, from: value.from, index: value.index, runId: value.runId };
  }
  if (value.kind === 'answer' && typeof value.to === 'string' && isRecord(value.run)) return { kind: 'answer', id: value.id, to: value.to, run: value.run };
  return null;
}
