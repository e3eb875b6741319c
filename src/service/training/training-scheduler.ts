// Queues training runs (one per index at a time, at most maxConcurrent overall; explicit runs ahead
// of queued automatic ones, otherwise first come first served) and turns each job's reports into
// TrainingStatus events on the index's topic.
import { randomUUID } from 'node:crypto';
import { isOneOf } from '../enumerations.js';
import { CipherdexError, TrainingInProgressError, TrainingNotRunningError, ValidationError } from '../errors.js';
import { startWith, type TrainingEventBus } from './training-events.js';
import { idleStatus, isTerminalPhase, queuedRun, trainingEtaMs, trainingProgress, type TrainingParams } from './training-status.js';
import type { TrainingPhase, TrainingRun, TrainingStatus, TrainingTrigger } from '../types.js';

/** The phases a job reports; QUEUED and the terminal phases belong to the scheduler. */
const JOB_PHASES = ['INITIALIZING', 'ITERATING', 'ASSIGNING', 'PERSISTING'] as const satisfies readonly TrainingPhase[];
export type TrainingJobPhase = (typeof JOB_PHASES)[number];

export interface TrainingJobContext {
  runId: string;
  /**
   * Aborted by cancel(), forget() and close(). A job checks it before its commit point and then
   * rejects; a job that returns a result is taken to have committed it (the run ends COMPLETED).
   */
  signal: AbortSignal;
  /**
   * Publishes the run's new state. Report ITERATING once per finished iteration (iteration 1, 2, ...);
   * reporting `{ phase: 'ITERATING', iteration: 0 }` when seeding ends keeps seeding time out of the
   * ETA. Reports after the run ended or was cancelled are ignored.
   */
  report(update: TrainingReport): void;
}

export interface TrainingReport {
  phase: TrainingJobPhase;
  iteration?: number;
  shift?: number;
  inertia?: number;
  message?: string;
}

export interface TrainingJobResult {
  iterations: number;
  shift: number;
  inertia: number;
  converged: boolean;
}

export type TrainingJob = (ctx: TrainingJobContext) => Promise<TrainingJobResult>;

export interface TrainingRequest {
  index: string;
  trigger: TrainingTrigger;
  params: TrainingParams;
  vectorCount: number;
  job: TrainingJob;
  /** The run's id when it had to be known before queueing (a lease taken for it); random otherwise. */
  runId?: string;
}

/** The latest status of each index as every replica published it (several replicas share a store). */
export interface RemoteTrainingStatuses {
  latest(index: string): TrainingStatus | null;
  forget(index: string): void;
  /** The latest status of every index heard of (the cluster's queue is read from it). */
  all?(): TrainingStatus[];
  /** Calls `listener` with each status as it is noted; returns the unsubscribe. */
  onStatus?(listener: (status: TrainingStatus) => void): () => void;
}

export interface TrainingSchedulerOptions {
  maxConcurrent: number;
  events: TrainingEventBus;
  /** Wall clock in ms; tests pass a controllable one. */
  now?: () => number;
  /** Finished runs remembered for waitFor() (beyond each index's last run). */
  finishedRunsKept?: number;
  /** Runs of other replicas: what current(), lastRun() and isTraining() report when none runs here. */
  remote?: RemoteTrainingStatuses | null;
  /** This replica's name, stamped on each run queued here (Config.replicaName). */
  replica?: string;
}

const GENERIC_FAILURE = 'training failed';
const CANCELLED_MESSAGE = 'training cancelled';
const LATE_CANCEL_MESSAGE = 'cancelled too late: the new model was already saved';

interface Run {
  status: TrainingRun;
  readonly job: TrainingJob;
  readonly controller: AbortController;
  startMs: number | null;
  /** Where the mean iteration time is measured from: the last report before iterations began. */
  clock: { ms: number; iteration: number };
  lastIteration: { ms: number; iteration: number } | null;
  /** The index was deleted: the run already ended (CANCELLED) for the world; only its job is left to settle. */
  detached: boolean;
  ended: boolean;
  readonly final: Promise<TrainingRun>;
  readonly resolveFinal: (run: TrainingRun) => void;
  /** Settles when the job has returned or thrown (or at once for a run that never started). */
  settled: Promise<void>;
  /** A MANUAL run, or one an explicit caller waits for: queued ahead of the other automatic runs. */
  explicit: boolean;
}

export class TrainingScheduler {
  private readonly maxConcurrent: number;
  private readonly events: TrainingEventBus;
  private readonly now: () => number;
  private readonly finishedRunsKept: number;
  private readonly remote: RemoteTrainingStatuses | null;
  private readonly replica: string | undefined;
  /** Per index, the remote run and whether it was queued, running or over, as last told to queue listeners. */
  private readonly remoteStages = new Map<string, string>();
  private readonly unlistenRemote: () => void;
  /** Queued or running runs by index (detached runs are not here). */
  private readonly active = new Map<string, Run>();
  private readonly queue: Run[] = [];
  private readonly running = new Set<Run>();
  private readonly byId = new Map<string, Run>();
  private readonly last = new Map<string, TrainingRun>();
  /** Final states by run id, oldest first, bounded by finishedRunsKept. */
  private readonly finished = new Map<string, TrainingRun>();
  private closed = false;
  /** Told whenever a run is queued, starts or ends here (trainingQueue subscriptions). */
  private readonly queueListeners = new Set<() => void>();

  constructor(options: TrainingSchedulerOptions) {
    if (!Number.isInteger(options.maxConcurrent) || options.maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be an integer >= 1, got ${options.maxConcurrent}`);
    }
    this.maxConcurrent = options.maxConcurrent;
    this.events = options.events;
    this.now = options.now ?? Date.now;
    this.finishedRunsKept = options.finishedRunsKept ?? 1000;
    this.remote = options.remote ?? null;
    this.replica = options.replica;
    // Another replica's run queued, started or ended changes the cluster's queue; its iterations do not.
    this.unlistenRemote = this.remote?.onStatus?.((status) => this.remoteStatusHeard(status)) ?? (() => {});
  }

  /** Returns the new run (QUEUED, or INITIALIZING when a slot is free); throws TrainingInProgressError when the index already has a queued or running run. */
  enqueue(request: TrainingRequest): TrainingRun {
    if (this.closed) throw new Error('The training scheduler is closed.');
    const existing = this.active.get(request.index);
    if (existing !== undefined) throw new TrainingInProgressError(request.index, existing.status.runId);
    let resolveFinal!: (run: TrainingRun) => void;
    const final = new Promise<TrainingRun>((resolve) => (resolveFinal = resolve));
    const runId = request.runId ?? randomUUID();
    const run: Run = {
      status: Object.freeze({
        ...queuedRun({ runId, index: request.index, trigger: request.trigger, params: request.params, vectorCount: request.vectorCount }),
        ...(this.replica === undefined ? {} : { replica: this.replica }),
      }),
      job: request.job,
      controller: new AbortController(),
      startMs: null,
      clock: { ms: 0, iteration: 0 },
      lastIteration: null,
      detached: false,
      ended: false,
      final,
      resolveFinal,
      settled: Promise.resolve(),
      explicit: request.trigger === 'MANUAL',
    };
    this.active.set(request.index, run);
    this.byId.set(runId, run);
    if (run.explicit) this.queueAheadOfAutomatic(run);
    else this.queue.push(run);
    this.events.publish(request.index, run.status);
    this.startQueued();
    this.queueChanged();
    return run.status;
  }

  /**
   * Queued: CANCELLED at once. Running: aborts its signal and returns its current state; the run
   * ends when the job settles (see waitFor): CANCELLED when the job rejects, COMPLETED when it had
   * already passed its commit point and returns its result.
   */
  cancel(index: string): TrainingRun {
    const run = this.active.get(index);
    if (run === undefined) throw new TrainingNotRunningError(index);
    if (!this.running.has(run)) return this.cancelQueued(run);
    run.controller.abort();
    return run.status;
  }

  /** The index's run queued or running in this process, if any. */
  activeRun(index: string): TrainingRun | null {
    return this.active.get(index)?.status ?? null;
  }

  /**
   * An explicit caller now waits for the index's queued run (of either trigger): it moves ahead of
   * the queued automatic runs, as an explicit run would have been queued. A no-op for a run that
   * already started or has none queued.
   */
  prioritize(index: string): void {
    const run = this.active.get(index);
    if (run === undefined || run.explicit) return;
    run.explicit = true;
    const at = this.queue.indexOf(run);
    if (at === -1) return;
    this.queue.splice(at, 1);
    this.queueAheadOfAutomatic(run);
  }

  /** The queued or running run, else the last finished run, else IDLE (runId null). */
  current(index: string): TrainingStatus {
    return this.active.get(index)?.status ?? this.newestElsewhere(index) ?? idleStatus(index);
  }

  lastRun(index: string): TrainingRun | null {
    return this.active.get(index)?.status ?? this.newestElsewhere(index) ?? null;
  }

  /** A run of the index is queued or running here, or (as last heard) on another replica. */
  isTraining(index: string): boolean {
    if (this.active.has(index)) return true;
    const newest = this.newestElsewhere(index);
    return newest !== undefined && !isTerminalPhase(newest.phase);
  }

  /** Resolves with the run's final state (COMPLETED, FAILED or CANCELLED), also for runs that already ended. */
  waitFor(runId: string): Promise<TrainingRun> {
    const run = this.byId.get(runId);
    if (run !== undefined) return run.final;
    const done = this.finished.get(runId);
    if (done !== undefined) return Promise.resolve(done);
    return Promise.reject(new ValidationError('runId', `No training run "${runId}" is known.`));
  }

  /** The current state first, then every event of this index, across later runs, until returned. */
  subscribe(index: string): AsyncIterableIterator<TrainingStatus> {
    // Both happen in one synchronous step and every state change publishes synchronously, so no
    // event falls between the state yielded first and the topic.
    const rest = this.events.subscribe(index);
    return startWith(this.current(index), rest);
  }

  /**
   * The cluster's queue: this replica's runs, then the runs other replicas last published as queued
   * or running (with replicas and Redis; each run names its replica).
   */
  snapshot(): { running: TrainingRun[]; queued: TrainingRun[] } {
    const running = [...this.running].filter((run) => !run.detached).map((run) => run.status);
    const queued = this.queue.map((run) => run.status);
    for (const remote of this.remoteActiveRuns()) (remote.phase === 'QUEUED' ? queued : running).push(remote);
    return { running, queued };
  }

  /** The index's run queued or running on another replica, as last heard (null when none, or none heard). */
  remoteActiveRun(index: string): TrainingRun | null {
    return this.remoteActiveRuns().find((run) => run.index === index) ?? null;
  }

  /** A run this scheduler has (queued, running, or among the finished ones it remembers). */
  knownRun(runId: string): TrainingRun | null {
    return this.byId.get(runId)?.status ?? this.finished.get(runId) ?? null;
  }

  /**
   * The state of run `runId` of the index, from here or as another replica published it; waits up
   * to `withinMs` for the first status of a run that another replica has just claimed (its lease
   * comes before its first event). Null when nothing is heard of it in time.
   */
  async findRun(index: string, runId: string, withinMs: number): Promise<TrainingRun | null> {
    const known = this.knownRun(runId);
    if (known !== null || this.remote === null) return known;
    const stream = this.events.subscribe(index);
    const timer = setTimeout(() => void stream.return?.(), withinMs);
    try {
      const heard = this.remote.latest(index);
      if (heard?.runId === runId) return heard as TrainingRun;
      for await (const status of stream) if (status.runId === runId) return status as TrainingRun;
      return null;
    } finally {
      clearTimeout(timer);
      await stream.return?.();
    }
  }

  /**
   * Resolves with the final state of run `runId` of the index, wherever it runs: here as waitFor(),
   * or on another replica once its end (or, for a replica that died, the FAILED state announced
   * when its lease expired) is heard.
   */
  async waitForAnywhere(index: string, runId: string): Promise<TrainingRun> {
    if (this.knownRun(runId) !== null || this.remote === null) return this.waitFor(runId);
    const stream = this.events.subscribe(index);
    try {
      const heard = this.remote.latest(index);
      if (heard?.runId === runId && isTerminalPhase(heard.phase)) return heard as TrainingRun;
      for await (const status of stream) if (status.runId === runId && isTerminalPhase(status.phase)) return status as TrainingRun;
      throw new Error('The training scheduler is closed.');
    } finally {
      await stream.return?.();
    }
  }

  /** Other replicas' runs that are queued or running as last heard, none of them this scheduler's. */
  private remoteActiveRuns(): TrainingRun[] {
    const runs: TrainingRun[] = [];
    for (const status of this.remote?.all?.() ?? []) {
      if (status.runId === null || status.trigger === null || isTerminalPhase(status.phase) || status.phase === 'IDLE') continue;
      // A run of ours echoed back, or an index that runs here now (its lease is ours), is shown from here.
      if (this.knownRun(status.runId) !== null || this.active.has(status.index)) continue;
      runs.push(status as TrainingRun);
    }
    return runs;
  }

  private remoteStatusHeard(status: TrainingStatus): void {
    if (status.runId === null || this.knownRun(status.runId) !== null) return;
    const stage = `${status.runId}/${status.phase === 'QUEUED' ? 'queued' : isTerminalPhase(status.phase) ? 'over' : 'running'}`;
    if (this.remoteStages.get(status.index) === stage) return;
    this.remoteStages.set(status.index, stage);
    this.queueChanged();
  }

  /**
   * With no run active here: the newer of this scheduler's last run and the last status another
   * replica published. At most one run of an index is active across replicas (training leases), so
   * a remote run that has not ended is the current one, unless it is our own (echoed back).
   */
  private newestElsewhere(index: string): TrainingRun | undefined {
    const local = this.last.get(index);
    const heard = this.remote?.latest(index) ?? null;
    if (heard === null || heard.runId === null || heard.trigger === null) return local;
    const own = this.finished.get(heard.runId);
    if (own !== undefined) return local ?? own;
    const remote = heard as TrainingRun;
    if (!isTerminalPhase(remote.phase) || local === undefined) return remote;
    return (remote.finishedAt?.getTime() ?? 0) > (local.finishedAt?.getTime() ?? 0) ? remote : local;
  }

  /** The index was deleted: its run ends CANCELLED now (a running job is aborted) and its history is dropped. */
  forget(index: string): void {
    const run = this.active.get(index);
    if (run !== undefined && !this.running.has(run)) {
      this.cancelQueued(run);
    } else if (run !== undefined) {
      run.controller.abort();
      run.detached = true;
      this.active.delete(index);
      this.end(run, this.terminal(run, 'CANCELLED', { message: CANCELLED_MESSAGE }));
    }
    this.last.delete(index);
    this.remoteStages.delete(index);
    this.remote?.forget(index);
  }

  /**
   * Cancels every run and waits for running jobs to settle. Subscriptions stay open until the event
   * bus closes (its owner closes it), so they still deliver the CANCELLED events.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.unlistenRemote();
    for (const run of [...this.queue]) this.cancelQueued(run);
    for (const run of this.running) run.controller.abort();
    await Promise.all([...this.running].map((run) => run.settled));
  }

  private cancelQueued(run: Run): TrainingRun {
    this.queue.splice(this.queue.indexOf(run), 1);
    this.active.delete(run.status.index);
    run.controller.abort();
    const status = this.terminal(run, 'CANCELLED', { message: CANCELLED_MESSAGE });
    this.end(run, status);
    return status;
  }

  /** After the explicit runs already queued, before the first automatic one. */
  private queueAheadOfAutomatic(run: Run): void {
    const at = this.queue.findIndex((queued) => !queued.explicit);
    if (at === -1) this.queue.push(run);
    else this.queue.splice(at, 0, run);
  }

  /** Calls `listener` after every change of snapshot() (a run queued, started or ended); returns the unsubscribe. */
  onQueueChange(listener: () => void): () => void {
    this.queueListeners.add(listener);
    return () => this.queueListeners.delete(listener);
  }

  private queueChanged(): void {
    for (const listener of [...this.queueListeners]) listener();
  }

  private startQueued(): void {
    while (this.running.size < this.maxConcurrent && this.queue.length > 0) {
      this.start(this.queue.shift()!);
    }
  }

  private start(run: Run): void {
    const ms = this.now();
    this.running.add(run);
    run.startMs = ms;
    run.clock = { ms, iteration: 0 };
    this.update(run, { phase: 'INITIALIZING', startedAt: new Date(ms) });
    const ctx: TrainingJobContext = {
      runId: run.status.runId,
      signal: run.controller.signal,
      report: (update) => this.report(run, update),
    };
    // Started on a later microtask: enqueue() returns before the job runs any of its code, and a
    // job that throws synchronously fails like one that rejects.
    run.settled = Promise.resolve()
      .then(() => run.job(ctx))
      .then(
        (result) => this.settle(run, { result }),
        (error: unknown) => this.settle(run, { error }),
      );
  }

  private report(run: Run, update: TrainingReport): void {
    if (run.ended || run.controller.signal.aborted) return;
    if (!isOneOf(JOB_PHASES, update.phase)) throw new RangeError(`A training job cannot report phase ${update.phase}.`);
    const ms = this.now();
    const iteration = update.iteration ?? (update.phase === 'ITERATING' ? run.status.iteration + 1 : run.status.iteration);
    if (update.phase === 'ITERATING' && iteration > 0) run.lastIteration = { ms, iteration };
    else if (update.phase === 'INITIALIZING' || update.phase === 'ITERATING') run.clock = { ms, iteration };
    const { clock, lastIteration } = run;
    const meanIterationMs =
      lastIteration !== null && lastIteration.iteration > clock.iteration
        ? (lastIteration.ms - clock.ms) / (lastIteration.iteration - clock.iteration)
        : null;
    this.update(run, {
      phase: update.phase,
      iteration,
      shift: update.shift ?? run.status.shift,
      inertia: update.inertia ?? run.status.inertia,
      message: update.message ?? null,
      progress: trainingProgress(update.phase, iteration, run.status.maxIters, run.status.progress),
      etaMs: trainingEtaMs(update.phase, iteration, run.status.maxIters, meanIterationMs),
    });
  }

  private settle(run: Run, outcome: { result: TrainingJobResult } | { error: unknown }): void {
    this.running.delete(run);
    if (!run.detached) {
      this.active.delete(run.status.index);
      let status: TrainingRun;
      if ('result' in outcome) {
        // A job that returns after an abort passed its commit point first: its model is in use,
        // so the run completed, and saying CANCELLED would be false.
        const { iterations, shift, inertia, converged } = outcome.result;
        const message = run.controller.signal.aborted ? LATE_CANCEL_MESSAGE : null;
        status = this.terminal(run, 'COMPLETED', { iteration: iterations, shift, inertia, converged, progress: 1, etaMs: 0, message });
      } else if (run.controller.signal.aborted) {
        status = this.terminal(run, 'CANCELLED', { message: CANCELLED_MESSAGE });
      } else {
        // Only our own errors carry messages written for callers; anything else may hold paths or internals.
        const message = outcome.error instanceof CipherdexError ? outcome.error.message : GENERIC_FAILURE;
        status = this.terminal(run, 'FAILED', { message });
      }
      this.end(run, status);
    }
    this.startQueued();
    // The next queued run has started: its own change.
    this.queueChanged();
  }

  /** A final state: finishedAt now, elapsed measured from the start (zero for a run that never started). */
  private terminal(run: Run, phase: 'COMPLETED' | 'FAILED' | 'CANCELLED', patch: Partial<TrainingRun>): TrainingRun {
    const ms = this.now();
    return Object.freeze({
      ...run.status,
      etaMs: null,
      ...patch,
      phase,
      elapsedMs: run.startMs === null ? 0 : Math.max(0, ms - run.startMs),
      finishedAt: new Date(ms),
    });
  }

  /** Publishes a run's final state, records it and releases waitFor() callers. */
  private end(run: Run, status: TrainingRun): void {
    run.ended = true;
    run.status = status;
    this.byId.delete(status.runId);
    this.last.set(status.index, status);
    this.finished.set(status.runId, status);
    while (this.finished.size > this.finishedRunsKept) this.finished.delete(this.finished.keys().next().value!);
    this.events.publish(status.index, status);
    run.resolveFinal(status);
    this.queueChanged();
  }

  private update(run: Run, patch: Partial<TrainingRun>): void {
    const ms = this.now();
    run.status = Object.freeze({
      ...run.status,
      ...patch,
      elapsedMs: run.startMs === null ? 0 : Math.max(0, ms - run.startMs),
    });
    this.events.publish(run.status.index, run.status);
  }
}
