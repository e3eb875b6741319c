// The training scheduler with jobs the test drives step by step: phases and per-iteration events,
// one run per index, the concurrency bound, cancel, failure, waitFor, subscriptions and forget.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InsufficientResourcesError, TrainingInProgressError, TrainingNotRunningError, ValidationError } from '../../../src/service/errors.js';
import { createLocalTrainingEvents, type TrainingEventBus } from '../../../src/service/training/training-events.js';
import {
  TrainingScheduler,
  type TrainingJob,
  type TrainingJobContext,
  type TrainingJobResult,
  type TrainingRequest,
} from '../../../src/service/training/training-scheduler.js';
import type { TrainingRun, TrainingStatus } from '../../../src/service/types.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const params = { nLists: 16, batchSize: 2048, maxIters: 10, tolerance: 1e-6 };

/** A job that does nothing until the test tells it to: the test reports for it and settles it. */
interface DrivenJob {
  job: TrainingJob;
  calls: number;
  /** Resolves with the context once the scheduler has started the job. */
  started: Promise<TrainingJobContext>;
  finish(result?: Partial<TrainingJobResult>): void;
  fail(error: unknown): void;
}

function drivenJob(options: { honourAbort?: boolean } = {}): DrivenJob {
  let resolveStarted!: (ctx: TrainingJobContext) => void;
  let resolveResult!: (result: TrainingJobResult) => void;
  let rejectResult!: (error: unknown) => void;
  const result = new Promise<TrainingJobResult>((resolve, reject) => {
    resolveResult = resolve;
    rejectResult = reject;
  });
  const driven: DrivenJob = {
    calls: 0,
    started: new Promise((resolve) => (resolveStarted = resolve)),
    job: (ctx) => {
      driven.calls++;
      if (options.honourAbort !== false) ctx.signal.addEventListener('abort', () => rejectResult(new Error('aborted')));
      resolveStarted(ctx);
      return result;
    },
    finish: (partial = {}) => resolveResult({ iterations: 3, shift: 1e-7, inertia: 42.5, converged: true, ...partial }),
    fail: (error) => rejectResult(error),
  };
  return driven;
}

/** Collects every event of a subscription in the background. */
function record(iterator: AsyncIterableIterator<TrainingStatus>): { events: TrainingStatus[]; until(predicate: (e: TrainingStatus) => boolean): Promise<TrainingStatus[]> } {
  const events: TrainingStatus[] = [];
  const waiters: Array<{ predicate: (e: TrainingStatus) => boolean; resolve: (events: TrainingStatus[]) => void }> = [];
  void (async () => {
    for await (const event of iterator) {
      events.push(event);
      for (const waiter of [...waiters]) {
        if (waiter.predicate(event)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(events);
        }
      }
    }
  })();
  return {
    events,
    until: (predicate) =>
      events.some(predicate) ? Promise.resolve(events) : new Promise((resolve) => waiters.push({ predicate, resolve })),
  };
}

/** Lets promise callbacks (job start, settle) run. */
const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let events: TrainingEventBus;
let scheduler: TrainingScheduler;
let clock: number;
const now = (): number => clock;

function request(index: string, job: TrainingJob, overrides: Partial<TrainingRequest> = {}): TrainingRequest {
  return { index, trigger: 'MANUAL', params, vectorCount: 5000, job, ...overrides };
}

beforeEach(() => {
  clock = 1_700_000_000_000;
  events = createLocalTrainingEvents();
  scheduler = new TrainingScheduler({ maxConcurrent: 1, events, now });
});

afterEach(async () => {
  await scheduler.close();
  await events.close();
});

describe('TrainingScheduler runs', () => {
  it('publishes every phase and every iteration, with progress, ETA and the result', async () => {
    const seen = record(scheduler.subscribe('a'));
    const driven = drivenJob();
    const run = scheduler.enqueue(request('a', driven.job, { trigger: 'AUTOMATIC' }));
    expect(run.runId).toMatch(UUID);
    expect(run.phase).toBe('INITIALIZING');
    expect(run.startedAt?.getTime()).toBe(clock);

    const ctx = await driven.started;
    expect(ctx.runId).toBe(run.runId);
    const start = clock;
    clock += 50; // seeding
    ctx.report({ phase: 'ITERATING', iteration: 0, message: 'seeded' });
    for (let iteration = 1; iteration <= 3; iteration++) {
      clock += 20;
      ctx.report({ phase: 'ITERATING', iteration, shift: 1 / iteration, inertia: 100 - iteration });
    }
    ctx.report({ phase: 'ASSIGNING' });
    ctx.report({ phase: 'PERSISTING' });
    clock += 5;
    driven.finish({ iterations: 3, shift: 1e-7, inertia: 96.5, converged: true });
    const all = await seen.until((e) => e.phase === 'COMPLETED');

    expect(all.map((e) => e.phase)).toEqual([
      'IDLE', 'QUEUED', 'INITIALIZING', 'ITERATING', 'ITERATING', 'ITERATING', 'ITERATING', 'ASSIGNING', 'PERSISTING', 'COMPLETED',
    ]);
    expect(all[0].runId).toBeNull();
    const runEvents = all.slice(1);
    expect(new Set(runEvents.map((e) => e.runId))).toEqual(new Set([run.runId]));
    expect(runEvents.every((e) => e.trigger === 'AUTOMATIC' && e.nLists === 16 && e.maxIters === 10 && e.vectorCount === 5000)).toBe(true);

    const iterating = runEvents.filter((e) => e.phase === 'ITERATING');
    expect(iterating.map((e) => e.iteration)).toEqual([0, 1, 2, 3]);
    expect(iterating.map((e) => e.shift)).toEqual([null, 1, 1 / 2, 1 / 3]);
    expect(iterating[0].message).toBe('seeded');
    // The ETA: unknown before the first iteration, then mean iteration time (20 ms) x the work left.
    expect(runEvents.find((e) => e.phase === 'INITIALIZING')!.etaMs).toBeNull();
    expect(iterating[0].etaMs).toBeNull();
    for (const e of iterating.slice(1)) expect(e.etaMs).toBe(20 * (params.maxIters - e.iteration + 1));

    const progress = runEvents.map((e) => e.progress);
    expect(progress).toEqual([...progress].sort((x, y) => x - y));
    expect(progress[0]).toBe(0);
    expect(new Set(iterating.slice(1).map((e) => e.progress)).size).toBe(3);
    expect(progress.every((p) => p >= 0 && p <= 1)).toBe(true);

    const completed = all.at(-1)!;
    expect(completed).toMatchObject({ progress: 1, iteration: 3, shift: 1e-7, inertia: 96.5, converged: true, etaMs: 0, message: null });
    expect(completed.elapsedMs).toBe(clock - start);
    expect(completed.finishedAt?.getTime()).toBe(clock);
    expect(runEvents.map((e) => e.elapsedMs)).toEqual([...runEvents.map((e) => e.elapsedMs)].sort((x, y) => x - y));

    expect(await scheduler.waitFor(run.runId)).toEqual(completed);
    expect(scheduler.current('a')).toEqual(completed);
    expect(scheduler.lastRun('a')).toEqual(completed);
    expect(scheduler.isTraining('a')).toBe(false);
  });

  it('reports converged from the job result and keeps progress monotonic when a run stops early', async () => {
    const driven = drivenJob();
    const run = scheduler.enqueue(request('a', driven.job));
    const ctx = await driven.started;
    ctx.report({ phase: 'ITERATING', iteration: 1, shift: 0.5 });
    const before = scheduler.current('a').progress;
    ctx.report({ phase: 'ASSIGNING' });
    expect(scheduler.current('a').progress).toBeGreaterThan(before);
    driven.finish({ iterations: 10, converged: false, shift: 0.01 });
    const done = await scheduler.waitFor(run.runId);
    expect(done).toMatchObject({ phase: 'COMPLETED', converged: false, iteration: 10, shift: 0.01, progress: 1 });
  });

  it('returns IDLE for an index that never trained', () => {
    expect(scheduler.current('nothing')).toMatchObject({ runId: null, phase: 'IDLE', index: 'nothing', progress: 0, startedAt: null });
    expect(scheduler.lastRun('nothing')).toBeNull();
    expect(scheduler.isTraining('nothing')).toBe(false);
  });

  it('allows one run per index: a second enqueue while queued or running throws TrainingInProgressError', async () => {
    const first = drivenJob();
    const runA = scheduler.enqueue(request('a', first.job));
    const queued = scheduler.enqueue(request('b', drivenJob().job));
    expect(queued.phase).toBe('QUEUED');

    for (const index of ['a', 'b']) {
      const error = (() => {
        try {
          scheduler.enqueue(request(index, drivenJob().job));
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(TrainingInProgressError);
      expect(error).toMatchObject({ index, runId: index === 'a' ? runA.runId : queued.runId, code: 'TRAINING_IN_PROGRESS' });
    }
    expect(scheduler.isTraining('a') && scheduler.isTraining('b')).toBe(true);

    first.finish();
    await scheduler.waitFor(runA.runId);
    const again = drivenJob();
    expect(() => scheduler.enqueue(request('a', again.job))).not.toThrow();
  });
});

describe('TrainingScheduler queueing', () => {
  it('runs at most maxConcurrent jobs across indexes and starts queued runs first come, first served', async () => {
    scheduler = new TrainingScheduler({ maxConcurrent: 2, events, now });
    const jobs = ['a', 'b', 'c', 'd'].map(() => drivenJob());
    let runningNow = 0;
    let maxRunning = 0;
    const counted = jobs.map(
      (driven): TrainingJob =>
        async (ctx) => {
          runningNow++;
          maxRunning = Math.max(maxRunning, runningNow);
          try {
            return await driven.job(ctx);
          } finally {
            runningNow--;
          }
        },
    );
    const runs = ['a', 'b', 'c', 'd'].map((index, i) => scheduler.enqueue(request(index, counted[i])));
    expect(runs.map((r) => r.phase)).toEqual(['INITIALIZING', 'INITIALIZING', 'QUEUED', 'QUEUED']);
    await flush();
    expect(jobs.map((j) => j.calls)).toEqual([1, 1, 0, 0]);
    expect(scheduler.snapshot().running.map((r) => r.index)).toEqual(['a', 'b']);
    expect(scheduler.snapshot().queued.map((r) => r.index)).toEqual(['c', 'd']);

    const c = record(scheduler.subscribe('c'));
    jobs[1].finish();
    await scheduler.waitFor(runs[1].runId);
    expect((await c.until((e) => e.phase === 'INITIALIZING')).map((e) => e.phase)).toEqual(['QUEUED', 'INITIALIZING']);
    await flush();
    expect(jobs.map((j) => j.calls)).toEqual([1, 1, 1, 0]);
    expect(scheduler.snapshot().running.map((r) => r.index)).toEqual(['a', 'c']);
    expect(scheduler.snapshot().queued.map((r) => r.index)).toEqual(['d']);

    jobs[0].finish();
    jobs[2].finish();
    await flush();
    jobs[3].finish();
    const finals = await Promise.all(runs.map((r) => scheduler.waitFor(r.runId)));
    expect(finals.map((r) => r.phase)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(maxRunning).toBe(2);
    expect(scheduler.snapshot()).toEqual({ running: [], queued: [] });
  });

  it('queues explicit runs ahead of queued automatic runs, first come first served among each', async () => {
    const jobs = new Map(['busy', 'auto1', 'auto2', 'manual1', 'manual2'].map((index) => [index, drivenJob()]));
    const started: string[] = [];
    const enqueue = (index: string, trigger: 'MANUAL' | 'AUTOMATIC'): TrainingRun =>
      scheduler.enqueue(request(index, (ctx) => (started.push(index), jobs.get(index)!.job(ctx)), { trigger }));
    const runs = [
      enqueue('busy', 'AUTOMATIC'),
      enqueue('auto1', 'AUTOMATIC'),
      enqueue('auto2', 'AUTOMATIC'),
      enqueue('manual1', 'MANUAL'),
      enqueue('manual2', 'MANUAL'),
    ];
    expect(scheduler.snapshot().queued.map((r) => r.index)).toEqual(['manual1', 'manual2', 'auto1', 'auto2']);
    for (const index of ['busy', 'manual1', 'manual2', 'auto1', 'auto2']) {
      await flush();
      jobs.get(index)!.finish();
    }
    await Promise.all(runs.map((r) => scheduler.waitFor(r.runId)));
    expect(started).toEqual(['busy', 'manual1', 'manual2', 'auto1', 'auto2']);
  });

  it('prioritize() moves a queued automatic run behind the explicit runs and ahead of the other automatic ones', () => {
    for (const [index, trigger] of [['busy', 'MANUAL'], ['auto1', 'AUTOMATIC'], ['auto2', 'AUTOMATIC'], ['manual', 'MANUAL']] as const) {
      scheduler.enqueue(request(index, drivenJob().job, { trigger }));
    }
    scheduler.prioritize('auto2');
    expect(scheduler.snapshot().queued.map((r) => r.index)).toEqual(['manual', 'auto2', 'auto1']);
    // Once waited for, it keeps its place: a later explicit run queues behind it.
    scheduler.enqueue(request('manual-later', drivenJob().job));
    expect(scheduler.snapshot().queued.map((r) => r.index)).toEqual(['manual', 'auto2', 'manual-later', 'auto1']);
    // Running runs and indexes without a run are left as they are.
    scheduler.prioritize('busy');
    scheduler.prioritize('nothing');
    expect(scheduler.snapshot().queued.map((r) => r.index)).toEqual(['manual', 'auto2', 'manual-later', 'auto1']);
    expect(scheduler.activeRun('auto2')).toMatchObject({ index: 'auto2', phase: 'QUEUED', trigger: 'AUTOMATIC' });
    expect(scheduler.activeRun('nothing')).toBeNull();
  });

  it('cancels a queued run at once, without ever calling its job', async () => {
    const blocker = drivenJob();
    scheduler.enqueue(request('a', blocker.job));
    const queuedJob = drivenJob();
    const queued = scheduler.enqueue(request('b', queuedJob.job));
    const seen = record(scheduler.subscribe('b'));

    const cancelled = scheduler.cancel('b');
    expect(cancelled).toMatchObject({ runId: queued.runId, phase: 'CANCELLED', startedAt: null, elapsedMs: 0 });
    expect(cancelled.finishedAt).toBeInstanceOf(Date);
    expect(scheduler.isTraining('b')).toBe(false);
    expect(scheduler.snapshot().queued).toEqual([]);
    expect(await scheduler.waitFor(queued.runId)).toEqual(cancelled);
    expect((await seen.until((e) => e.phase === 'CANCELLED')).map((e) => e.phase)).toEqual(['QUEUED', 'CANCELLED']);

    blocker.finish();
    await flush();
    await flush();
    expect(queuedJob.calls).toBe(0);
  });

  it('cancels a running run through its signal, ignores its late reports and frees its slot', async () => {
    const running = drivenJob();
    const runA = scheduler.enqueue(request('a', running.job));
    const next = drivenJob();
    const runB = scheduler.enqueue(request('b', next.job));
    const seen = record(scheduler.subscribe('a'));
    const ctx = await running.started;
    ctx.report({ phase: 'ITERATING', iteration: 1 });

    const returned = scheduler.cancel('a');
    expect(ctx.signal.aborted).toBe(true);
    expect(returned).toMatchObject({ runId: runA.runId, phase: 'ITERATING' });
    ctx.report({ phase: 'ITERATING', iteration: 2 });

    const final = await scheduler.waitFor(runA.runId);
    expect(final).toMatchObject({ phase: 'CANCELLED', iteration: 1 });
    expect(final.finishedAt).toBeInstanceOf(Date);
    const all = await seen.until((e) => e.phase === 'CANCELLED');
    expect(all.map((e) => e.phase)).toEqual(['INITIALIZING', 'ITERATING', 'CANCELLED']);
    expect(scheduler.isTraining('a')).toBe(false);
    await next.started;
    expect(scheduler.snapshot().running.map((r) => r.runId)).toEqual([runB.runId]);
  });

  it('keeps the index training until an aborted job settles, and completes a run whose job returned anyway', async () => {
    const committed = drivenJob({ honourAbort: false });
    const run = scheduler.enqueue(request('a', committed.job));
    await committed.started;
    scheduler.cancel('a');
    expect(scheduler.isTraining('a')).toBe(true);
    expect(() => scheduler.enqueue(request('a', drivenJob().job))).toThrow(TrainingInProgressError);
    committed.finish();
    const final = await scheduler.waitFor(run.runId);
    expect(final).toMatchObject({ phase: 'COMPLETED', progress: 1 });
    expect(final.message).toMatch(/too late/);
  });

  it('throws TrainingNotRunningError when there is nothing to cancel', async () => {
    expect(() => scheduler.cancel('a')).toThrow(TrainingNotRunningError);
    const driven = drivenJob();
    const run = scheduler.enqueue(request('a', driven.job));
    driven.finish();
    await scheduler.waitFor(run.runId);
    expect(() => scheduler.cancel('a')).toThrow(TrainingNotRunningError);
  });
});

describe('TrainingScheduler failures', () => {
  it('fails a run with a generic message when the job throws an unexpected error', async () => {
    const driven = drivenJob();
    const run = scheduler.enqueue(request('a', driven.job));
    const ctx = await driven.started;
    ctx.report({ phase: 'ITERATING', iteration: 1 });
    const secret = new Error('ENOENT: /var/lib/cipherdex/keys/secret-key.bin');
    driven.fail(secret);
    const final = await scheduler.waitFor(run.runId);
    expect(final).toMatchObject({ phase: 'FAILED', message: 'training failed', etaMs: null, iteration: 1 });
    expect(JSON.stringify(final)).not.toContain('secret');
    expect(scheduler.isTraining('a')).toBe(false);
    expect(scheduler.current('a')).toEqual(final);
  });

  it('passes on the message of a Cipherdex error', async () => {
    const driven = drivenJob();
    const run = scheduler.enqueue(request('a', driven.job));
    const error = new InsufficientResourcesError(8 * 2 ** 30, 2 ** 30);
    driven.fail(error);
    expect(await scheduler.waitFor(run.runId)).toMatchObject({ phase: 'FAILED', message: error.message });
  });

  it('fails a job that throws synchronously, or reports a phase it does not own, and moves on', async () => {
    const throwing: TrainingJob = () => {
      throw new Error('boom');
    };
    const first = scheduler.enqueue(request('a', throwing));
    const cheating: TrainingJob = async (ctx) => {
      ctx.report({ phase: 'COMPLETED' as 'PERSISTING' });
      return { iterations: 1, shift: 0, inertia: 0, converged: true };
    };
    const second = scheduler.enqueue(request('b', cheating));
    expect((await scheduler.waitFor(first.runId)).phase).toBe('FAILED');
    expect((await scheduler.waitFor(second.runId)).phase).toBe('FAILED');
    expect(scheduler.isTraining('a') || scheduler.isTraining('b')).toBe(false);
    const driven = drivenJob();
    scheduler.enqueue(request('a', driven.job));
    await driven.started;
  });
});

describe('TrainingScheduler waitFor', () => {
  it('resolves for finished runs too, and rejects unknown run ids', async () => {
    const driven = drivenJob();
    const run = scheduler.enqueue(request('a', driven.job));
    driven.finish();
    const final = await scheduler.waitFor(run.runId);
    const second = drivenJob();
    const later = scheduler.enqueue(request('a', second.job));
    second.finish();
    await scheduler.waitFor(later.runId);
    // The first run is no longer the index's last run, and is still answered.
    expect(await scheduler.waitFor(run.runId)).toEqual(final);
    await expect(scheduler.waitFor('00000000-0000-4000-8000-000000000000')).rejects.toBeInstanceOf(ValidationError);
  });

  it('forgets the oldest finished runs beyond finishedRunsKept', async () => {
    scheduler = new TrainingScheduler({ maxConcurrent: 1, events, now, finishedRunsKept: 2 });
    const runs: TrainingRun[] = [];
    for (let i = 0; i < 3; i++) {
      const driven = drivenJob();
      runs.push(scheduler.enqueue(request('a', driven.job)));
      driven.finish();
      await scheduler.waitFor(runs[i].runId);
    }
    await expect(scheduler.waitFor(runs[0].runId)).rejects.toBeInstanceOf(ValidationError);
    expect((await scheduler.waitFor(runs[1].runId)).phase).toBe('COMPLETED');
  });
});

describe('TrainingScheduler subscriptions', () => {
  it('follows an index across runs, manual and automatic', async () => {
    const seen = record(scheduler.subscribe('a'));
    const first = drivenJob();
    const runOne = scheduler.enqueue(request('a', first.job));
    first.finish();
    await scheduler.waitFor(runOne.runId);
    const second = drivenJob();
    const runTwo = scheduler.enqueue(request('a', second.job, { trigger: 'AUTOMATIC' }));
    second.fail(new Error('x'));
    const all = await seen.until((e) => e.runId === runTwo.runId && e.phase === 'FAILED');
    expect(all.map((e) => [e.runId, e.phase])).toEqual([
      [null, 'IDLE'],
      [runOne.runId, 'QUEUED'],
      [runOne.runId, 'INITIALIZING'],
      [runOne.runId, 'COMPLETED'],
      [runTwo.runId, 'QUEUED'],
      [runTwo.runId, 'INITIALIZING'],
      [runTwo.runId, 'FAILED'],
    ]);
    expect(all.at(-1)!.trigger).toBe('AUTOMATIC');
  });

  it('starts from the current state and misses no event published right after subscribing', async () => {
    const driven = drivenJob();
    scheduler.enqueue(request('a', driven.job));
    const ctx = await driven.started;
    for (let iteration = 1; iteration <= 4; iteration++) ctx.report({ phase: 'ITERATING', iteration });

    const iterator = scheduler.subscribe('a');
    for (let iteration = 5; iteration <= 7; iteration++) ctx.report({ phase: 'ITERATING', iteration });
    const iterations: number[] = [];
    for (let i = 0; i < 4; i++) {
      const result = await iterator.next();
      if (!result.done) iterations.push(result.value.iteration);
    }
    expect(iterations).toEqual([4, 5, 6, 7]);
    await iterator.return?.();
  });

  it('starts from the last finished run when nothing is running', async () => {
    const driven = drivenJob();
    const run = scheduler.enqueue(request('a', driven.job));
    driven.finish();
    const final = await scheduler.waitFor(run.runId);
    const iterator = scheduler.subscribe('a');
    await expect(iterator.next()).resolves.toEqual({ value: final, done: false });
    await iterator.return?.();
  });

  it('frees its topic subscription when the consumer stops early', async () => {
    const driven = drivenJob();
    scheduler.enqueue(request('a', driven.job));
    const ctx = await driven.started;
    const consumers = [scheduler.subscribe('a'), scheduler.subscribe('a'), scheduler.subscribe('b')];
    expect(events.subscriberCount()).toBe(3);

    for await (const event of consumers[0]) {
      if (event.phase === 'ITERATING') break;
      ctx.report({ phase: 'ITERATING', iteration: 1 });
    }
    const waiting = consumers[1].next().then(() => consumers[1].next());
    await consumers[1].return?.();
    await consumers[2].return?.();
    await expect(waiting).resolves.toEqual({ value: undefined, done: true });
    expect(events.subscriberCount()).toBe(0);
  });
});

describe('TrainingScheduler forget and close', () => {
  it('forget() ends a running run CANCELLED at once, drops the history and lets the index be queued again', async () => {
    const driven = drivenJob({ honourAbort: false });
    const run = scheduler.enqueue(request('a', driven.job));
    const seen = record(scheduler.subscribe('a'));
    const ctx = await driven.started;
    const waiting = scheduler.waitFor(run.runId);

    scheduler.forget('a');
    expect(ctx.signal.aborted).toBe(true);
    expect(scheduler.isTraining('a')).toBe(false);
    expect(scheduler.current('a').phase).toBe('IDLE');
    expect(scheduler.lastRun('a')).toBeNull();
    expect((await waiting).phase).toBe('CANCELLED');
    expect((await seen.until((e) => e.phase === 'CANCELLED')).map((e) => e.phase)).toEqual(['INITIALIZING', 'CANCELLED']);

    // The aborted job still holds its slot until it settles: a new run waits for it.
    const recreated = drivenJob();
    const again = scheduler.enqueue(request('a', recreated.job));
    expect(again.phase).toBe('QUEUED');
    ctx.report({ phase: 'ITERATING', iteration: 1 });
    driven.finish();
    await recreated.started;
    expect(seen.events.filter((e) => e.runId === run.runId).map((e) => e.phase)).toEqual(['INITIALIZING', 'CANCELLED']);
    expect(scheduler.snapshot().running.map((r) => r.runId)).toEqual([again.runId]);
  });

  it('forget() cancels a queued run and drops a finished run', async () => {
    const blocker = drivenJob();
    scheduler.enqueue(request('x', blocker.job));
    const queued = scheduler.enqueue(request('a', drivenJob().job));
    scheduler.forget('a');
    expect((await scheduler.waitFor(queued.runId)).phase).toBe('CANCELLED');
    expect(scheduler.current('a').phase).toBe('IDLE');

    blocker.finish();
    await flush();
    scheduler.forget('x');
    expect(scheduler.lastRun('x')).toBeNull();
    expect(() => scheduler.forget('never-existed')).not.toThrow();
  });

  it('close() cancels queued and running runs, waits for jobs to settle, and refuses new runs', async () => {
    let settled = false;
    const running = drivenJob();
    const slow: TrainingJob = async (ctx) => {
      try {
        return await running.job(ctx);
      } finally {
        settled = true;
      }
    };
    const runA = scheduler.enqueue(request('a', slow));
    const runB = scheduler.enqueue(request('b', drivenJob().job));
    await running.started;
    await scheduler.close();
    expect(settled).toBe(true);
    expect((await scheduler.waitFor(runA.runId)).phase).toBe('CANCELLED');
    expect((await scheduler.waitFor(runB.runId)).phase).toBe('CANCELLED');
    expect(() => scheduler.enqueue(request('c', drivenJob().job))).toThrow(/closed/);
  });
});
