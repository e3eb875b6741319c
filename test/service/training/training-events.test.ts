// The training event bus: per-index topics, no loss at subscribe time, coalescing that keeps phase
// changes and run endings, and cleanup (its Redis transport: replication/replica-training-events).
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createLocalTrainingEvents,
  startWith,
  supersedes,
  type TrainingEventBus,
} from '../../../src/service/training/training-events.js';
import { idleStatus, isTerminalPhase } from '../../../src/service/training/training-status.js';
import type { TrainingPhase, TrainingStatus } from '../../../src/service/types.js';

function status(index: string, runId: string, phase: TrainingPhase, iteration = 0): TrainingStatus {
  return {
    ...idleStatus(index),
    runId,
    trigger: 'MANUAL',
    phase,
    iteration,
    maxIters: 100,
    nLists: 8,
    batchSize: 2048,
    tolerance: 1e-6,
    vectorCount: 5000,
    startedAt: phase === 'QUEUED' ? null : new Date(1_700_000_000_000),
    finishedAt: isTerminalPhase(phase) ? new Date(1_700_000_060_000) : null,
  };
}

/** A whole run's events: QUEUED, INITIALIZING, `iterations` ITERATING events, ASSIGNING, PERSISTING, COMPLETED. */
function runEvents(index: string, iterations: number, runId: string = randomUUID()): TrainingStatus[] {
  const events = [status(index, runId, 'QUEUED'), status(index, runId, 'INITIALIZING')];
  for (let i = 1; i <= iterations; i++) events.push(status(index, runId, 'ITERATING', i));
  events.push(status(index, runId, 'ASSIGNING', iterations), status(index, runId, 'PERSISTING', iterations));
  events.push(status(index, runId, 'COMPLETED', iterations));
  return events;
}

/** Pulls what is already queued, without waiting for more: stops at the first next() that would block. */
async function drainQueued(iterator: AsyncIterator<TrainingStatus>): Promise<TrainingStatus[]> {
  const out: TrainingStatus[] = [];
  for (;;) {
    const blocked = Symbol('blocked');
    const result = await Promise.race([iterator.next(), new Promise<typeof blocked>((resolve) => setImmediate(() => resolve(blocked)))]);
    if (result === blocked) {
      // The pending next() stays queued; end the iterator so it resolves.
      await iterator.return?.();
      return out;
    }
    if (result.done) return out;
    out.push(result.value);
  }
}

function phasesWithoutRepeats(events: TrainingStatus[]): string[] {
  return events.map((e) => `${e.runId}:${e.phase}`).filter((key, i, all) => i === 0 || key !== all[i - 1]);
}

let bus: TrainingEventBus | undefined;
afterEach(async () => {
  await bus?.close();
  bus = undefined;
});

describe('local training events', () => {
  it('delivers the events of one index, in order, to every subscriber of that index only', async () => {
    bus = createLocalTrainingEvents();
    const first = bus.subscribe('a');
    const second = bus.subscribe('a');
    const other = bus.subscribe('b');
    const events = runEvents('a', 3);
    for (const event of events) bus.publish('a', event);
    expect(await drainQueued(first)).toEqual(events);
    expect(await drainQueued(second)).toEqual(events);
    expect(await drainQueued(other)).toEqual([]);
  });

  it('keeps events published between subscribe() and the first next()', async () => {
    bus = createLocalTrainingEvents();
    const iterator = bus.subscribe('a');
    const event = status('a', randomUUID(), 'QUEUED');
    bus.publish('a', event);
    await expect(iterator.next()).resolves.toEqual({ value: event, done: false });
    await iterator.return?.();
  });

  it('does not deliver events published before subscribe()', async () => {
    bus = createLocalTrainingEvents();
    bus.publish('a', status('a', randomUUID(), 'QUEUED'));
    const iterator = bus.subscribe('a');
    const later = status('a', randomUUID(), 'QUEUED');
    bus.publish('a', later);
    expect(await drainQueued(iterator)).toEqual([later]);
  });

  it('resolves a waiting next() when the event arrives', async () => {
    bus = createLocalTrainingEvents();
    const iterator = bus.subscribe('a');
    const pending = iterator.next();
    const event = status('a', randomUUID(), 'INITIALIZING');
    bus.publish('a', event);
    await expect(pending).resolves.toEqual({ value: event, done: false });
    await iterator.return?.();
  });

  it('gives a subscriber that keeps up every iteration', async () => {
    bus = createLocalTrainingEvents({ bufferSize: 4 });
    const iterator = bus.subscribe('a');
    const events = runEvents('a', 50);
    const received: TrainingStatus[] = [];
    for (const event of events) {
      bus.publish('a', event);
      const result = await iterator.next();
      if (!result.done) received.push(result.value);
    }
    expect(received).toEqual(events);
    await iterator.return?.();
  });

  it('coalesces progress for a slow subscriber but keeps every phase change and every run ending', async () => {
    const bufferSize = 4;
    bus = createLocalTrainingEvents({ bufferSize });
    const slow = bus.subscribe('a');
    const runs = [runEvents('a', 60), runEvents('a', 30)];
    const published = runs.flat();
    for (const event of published) bus.publish('a', event);
    const received = await drainQueued(slow);

    expect(received.length).toBeLessThan(published.length);
    // Same phase sequence, run by run, and both endings.
    expect(phasesWithoutRepeats(received)).toEqual(phasesWithoutRepeats(published));
    expect(received.filter((e) => e.phase === 'COMPLETED').map((e) => e.runId)).toEqual(runs.map((run) => run[0].runId));
    // Latest wins: each run's last iteration arrives, iterations only move forward.
    for (const run of runs) {
      const iterations = received.filter((e) => e.runId === run[0].runId && e.phase === 'ITERATING').map((e) => e.iteration);
      expect(iterations.at(-1)).toBe(run.filter((e) => e.phase === 'ITERATING').at(-1)!.iteration);
      expect(iterations).toEqual([...iterations].sort((x, y) => x - y));
    }
    // Every dropped event was superseded by the one after it in the published stream.
    const kept = new Set(received);
    published.forEach((event, i) => {
      if (!kept.has(event)) expect(supersedes(published[i + 1], event)).toBe(true);
    });
  });

  it('never treats a run ending or a phase change as superseded', () => {
    const runId = randomUUID();
    expect(supersedes(status('a', runId, 'ITERATING', 2), status('a', runId, 'ITERATING', 1))).toBe(true);
    expect(supersedes(status('a', runId, 'ASSIGNING', 2), status('a', runId, 'ITERATING', 2))).toBe(false);
    expect(supersedes(status('a', randomUUID(), 'ITERATING', 2), status('a', runId, 'ITERATING', 1))).toBe(false);
    expect(supersedes(status('a', runId, 'CANCELLED'), status('a', runId, 'CANCELLED'))).toBe(false);
  });

  it('frees a subscription when the consumer returns early, also while a next() waits', async () => {
    bus = createLocalTrainingEvents();
    const reading = bus.subscribe('a');
    const waiting = bus.subscribe('a');
    expect(bus.subscriberCount('a')).toBe(2);

    bus.publish('a', status('a', randomUUID(), 'QUEUED'));
    for await (const event of reading) {
      expect(event.phase).toBe('QUEUED');
      break; // for-await calls return()
    }
    expect(bus.subscriberCount('a')).toBe(1);

    await waiting.next(); // the QUEUED event
    const pending = waiting.next();
    await waiting.return?.();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    expect(bus.subscriberCount('a')).toBe(0);
    expect(bus.subscriberCount()).toBe(0);
  });

  it('close() ends subscriptions after delivering what they had queued, and later calls do nothing', async () => {
    bus = createLocalTrainingEvents();
    const iterator = bus.subscribe('a');
    const event = status('a', randomUUID(), 'COMPLETED');
    bus.publish('a', event);
    await bus.close();
    expect(bus.subscriberCount()).toBe(0);
    await expect(iterator.next()).resolves.toEqual({ value: event, done: false });
    await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
    const late = bus.subscribe('a');
    bus.publish('a', event);
    await expect(late.next()).resolves.toEqual({ value: undefined, done: true });
  });
});

describe('startWith', () => {
  it('yields the first state, then the topic, and returns the topic even while waiting', async () => {
    bus = createLocalTrainingEvents();
    const current = idleStatus('a');
    let returned = 0;
    const iterator = startWith(current, bus.subscribe('a'), () => returned++);
    const event = status('a', randomUUID(), 'QUEUED');
    bus.publish('a', event);
    await expect(iterator.next()).resolves.toEqual({ value: current, done: false });
    await expect(iterator.next()).resolves.toEqual({ value: event, done: false });
    const pending = iterator.next();
    await iterator.return?.();
    await iterator.return?.();
    await expect(pending).resolves.toEqual({ value: undefined, done: true });
    await expect(iterator.next()).resolves.toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
    expect(bus.subscriberCount()).toBe(0);
  });
});
