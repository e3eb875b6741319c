// Starts training runs for open indexes, manual and automatic: the auto-train rule and its retry
// window, the lease a run takes first when replicas share the store, keeping the index in memory
// while its run lasts, the convergence failures waitFor reports, and what an explicit caller that
// waits gets when a run is already active (that run, or one follow-up run).

import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Store } from '../../storage/index.js';
import { CipherdexError, ConvergenceError, TrainingInProgressError, ValidationError } from '../errors.js';
import { translatingErrors } from '../lower-layer-errors.js';
import type { OpenIndex } from '../open/open-index.js';
import type { TrainOptions, TrainingRun, TrainingTrigger } from '../types.js';
import { shouldAutoTrain } from './auto-train-policy.js';
import { createTrainingJob } from './training-job.js';
import { resolveTrainingParams } from './training-params.js';
import type { TrainingJob, TrainingScheduler } from './training-scheduler.js';
import type { TrainingParams } from './training-status.js';

/** After an automatic or manual run fails or is cancelled, upserts wait this long before queueing another. */
export const AUTO_TRAIN_RETRY_MS = 60_000;
/** How long a caller waiting for another replica's run waits to hear its first status (it claims its lease just before). */
const REMOTE_RUN_HEARD_WITHIN_MS = 2000;
/** A follow-up run that meets the lease of the run it followed tries again this often, this many times. */
const LEASE_RELEASE_RETRY_MS = 100;
const LEASE_RELEASE_ATTEMPTS = 30;
/** Convergence failures remembered for waitFor, oldest dropped first. */
const CONVERGENCE_FAILURES_KEPT = 1000;

/** A run's hold on its index across replicas (replication/training-lease.ts implements it). */
export interface RunLease {
  /** The job, stopped if the lease is lost before its commit point. */
  guard(job: TrainingJob): TrainingJob;
  release(): Promise<void>;
}

export interface RunLeases {
  /** Takes the index's lease for `runId`, or throws TrainingInProgressError naming the holder's run. */
  claim(index: string, runId: string, trigger: TrainingTrigger): Promise<RunLease>;
}

export interface TrainingRunsOptions {
  config: Pick<Config, 'autoTrainEnabled' | 'retrainThreshold' | 'retrainGrowthFactor' | 'trainingMemoryBudget'>;
  store: Store;
  scheduler: TrainingScheduler;
  /** With replicas: every run claims its index's lease before it is queued. */
  leases: RunLeases | null;
  /** Told of every run queued here once it has ended (COMPLETED, FAILED or CANCELLED). */
  onRunEnded?: (run: TrainingRun) => void;
  /** Records every run that ended in the index's history (run-history.ts); none when absent. */
  recordRun?: (open: OpenIndex, run: TrainingRun) => Promise<void>;
}

/** The arguments a caller gave explicitly; a run matches them when it uses every one of them. */
type RunArguments = Pick<TrainOptions, 'nLists' | 'batchSize' | 'maxIters' | 'tolerance'> & { requireConvergence: boolean };

function runArguments(options: TrainOptions): RunArguments {
  const { nLists, batchSize, maxIters, tolerance } = options;
  return { nLists, batchSize, maxIters, tolerance, requireConvergence: options.requireConvergence === true };
}

const sameArguments = (a: RunArguments, b: RunArguments): boolean =>
  a.nLists === b.nLists && a.batchSize === b.batchSize && a.maxIters === b.maxIters && a.tolerance === b.tolerance && a.requireConvergence === b.requireConvergence;

/** A run queued for when the index's active run ends, and the callers waiting for it. */
interface FollowUp {
  args: RunArguments;
  done: Promise<TrainingRun>;
}

export class TrainingRuns {
  readonly #options: TrainingRunsOptions;
  readonly #convergenceFailures = new Map<string, ConvergenceError>();
  /** Runs ended here whose history record is being written: waitFor answers once it is. */
  readonly #recording = new Map<string, Promise<void>>();
  /** Active runs that swap in their model only if they converge. */
  readonly #requiringConvergence = new Set<string>();
  /** At most one follow-up per index; automatic runs stay out of its way until it is queued. */
  readonly #followUps = new Map<string, FollowUp>();

  constructor(options: TrainingRunsOptions) {
    this.#options = options;
  }

  /** Queues a MANUAL run with `options` resolved against the index. */
  async train(open: OpenIndex, options: TrainOptions): Promise<TrainingRun> {
    return this.#enqueue(open, 'MANUAL', this.#params(open, options), options.requireConvergence === true);
  }

  /**
   * `train` with wait. With no run of the index active here: queues one and waits for it. With one
   * active (either trigger), waits for it when it uses every argument the caller gave (and requires
   * convergence exactly when the caller does), moving it ahead of queued automatic runs; otherwise
   * queues one follow-up run with the caller's arguments once it ends (`startFollowUp` queues it,
   * reopening the index) and waits for that. Callers asking for the same follow-up share it; other
   * arguments while one is pending are refused with TrainingInProgressError. The result is wrapped
   * so that a caller inside the index cache's use() does not wait there.
   */
  async trainAndWait(open: OpenIndex, options: TrainOptions, startFollowUp: () => Promise<TrainingRun>): Promise<{ done: Promise<TrainingRun> }> {
    const { scheduler } = this.#options;
    this.#params(open, options); // bad arguments are refused whatever is running
    const args = runArguments(options);
    const active = scheduler.activeRun(open.name);
    let done: Promise<TrainingRun>;
    if (active === null) {
      ({ done } = await this.#startOrJoinElsewhere(open, options, args, startFollowUp));
    } else if (this.#uses(active, args)) {
      scheduler.prioritize(open.name);
      done = this.waitFor(active.runId);
    } else {
      done = this.#followUp(open.name, args, active.runId, startFollowUp, scheduler.waitFor(active.runId));
    }
    done.catch(() => undefined); // the caller handles it; this only keeps an early rejection from counting as unhandled
    return { done };
  }

  /**
   * With no run of the index here: queues one and waits for it, unless another replica holds the
   * index's lease (TrainingInProgressError): then that run is joined as a local one would be, its
   * end heard through the training events, or one follow-up run is queued here once it ended.
   * Another replica's run counts as not requiring convergence (that is not published), so a
   * caller that requires it gets a follow-up run of its own. Without Redis nothing of that run is
   * heard, and the refusal stands.
   */
  async #startOrJoinElsewhere(open: OpenIndex, options: TrainOptions, args: RunArguments, startFollowUp: () => Promise<TrainingRun>): Promise<{ done: Promise<TrainingRun> }> {
    const { scheduler } = this.#options;
    try {
      return { done: this.waitFor((await this.train(open, options)).runId) };
    } catch (error) {
      if (!(error instanceof TrainingInProgressError) || scheduler.knownRun(error.runId) !== null) throw error;
      const elsewhere = await scheduler.findRun(open.name, error.runId, REMOTE_RUN_HEARD_WITHIN_MS);
      if (elsewhere === null) throw error;
      const ended = scheduler.waitForAnywhere(open.name, elsewhere.runId);
      if (!args.requireConvergence && this.#usesParams(elsewhere, args)) return { done: ended };
      return { done: this.#followUp(open.name, args, elsewhere.runId, startFollowUp, ended) };
    }
  }

  #usesParams(run: TrainingRun, args: RunArguments): boolean {
    return (
      (args.nLists === undefined || args.nLists === run.nLists) &&
      (args.batchSize === undefined || args.batchSize === run.batchSize) &&
      (args.maxIters === undefined || args.maxIters === run.maxIters) &&
      (args.tolerance === undefined || args.tolerance === run.tolerance)
    );
  }

  #uses(run: TrainingRun, args: RunArguments): boolean {
    return this.#usesParams(run, args) && args.requireConvergence === this.#requiringConvergence.has(run.runId);
  }

  #followUp(index: string, args: RunArguments, after: string, start: () => Promise<TrainingRun>, ended: Promise<TrainingRun>): Promise<TrainingRun> {
    const pending = this.#followUps.get(index);
    if (pending !== undefined) {
      if (sameArguments(pending.args, args)) return pending.done;
      throw new TrainingInProgressError(index, after);
    }
    const queued = (async () => {
      try {
        await ended.catch(() => undefined); // however it ended
        // A run that ended on another replica releases its lease just after its end is heard.
        for (let attempt = 1; ; attempt++) {
          try {
            return await start();
          } catch (error) {
            if (!(error instanceof TrainingInProgressError) || error.runId !== after || attempt === LEASE_RELEASE_ATTEMPTS) throw error;
            await new Promise((resolve) => setTimeout(resolve, LEASE_RELEASE_RETRY_MS));
          }
        }
      } finally {
        this.#followUps.delete(index);
      }
    })();
    const done = queued.then((run) => this.waitFor(run.runId));
    this.#followUps.set(index, { args, done });
    return done;
  }

  /** Resolves once the run ended; throws its ConvergenceError when it required convergence and missed it. */
  async waitFor(runId: string): Promise<TrainingRun> {
    if (typeof runId !== 'string' || runId === '') throw new ValidationError('runId', 'runId must be a run id returned by train');
    const run = await this.#options.scheduler.waitFor(runId);
    // A caller told the run ended finds it in the history.
    await this.#recording.get(runId);
    const failure = this.#convergenceFailures.get(runId);
    if (failure !== undefined) throw failure;
    return run;
  }

  /** Queues an AUTOMATIC run when the policy says so; never waits for it, and fails only on the unexpected. */
  async maybeAutoTrain(open: OpenIndex): Promise<void> {
    const { config, scheduler } = this.#options;
    if (!config.autoTrainEnabled || scheduler.isTraining(open.name) || this.#followUps.has(open.name)) return;
    const input = {
      vectorCount: open.size,
      trainedVectorCount: open.model?.trainedVectorCount ?? null,
      retrainThreshold: config.retrainThreshold,
      growthFactor: config.retrainGrowthFactor,
    };
    if (!shouldAutoTrain(input)) return;
    const last = scheduler.lastRun(open.name);
    if (last !== null && (last.phase === 'FAILED' || last.phase === 'CANCELLED') && last.finishedAt !== null && Date.now() - last.finishedAt.getTime() < AUTO_TRAIN_RETRY_MS) {
      return;
    }
    try {
      await this.#enqueue(open, 'AUTOMATIC', this.#params(open, {}), false);
    } catch (error) {
      // Not enough vectors for a configured nLists, over the memory budget, a run raced us in, or
      // (with replicas) a database that could not grant the lease: all typed. The index keeps
      // serving as it is, and a later upsert tries again.
      if (error instanceof CipherdexError) return;
      throw error;
    }
  }

  #params(open: OpenIndex, options: TrainOptions): TrainingParams {
    return resolveTrainingParams(options, { config: open.config, vectorCount: open.size, memoryBudgetBytes: this.#options.config.trainingMemoryBudget });
  }

  /** Queues a run; the open index stays pinned in memory until the run has ended. */
  async #enqueue(open: OpenIndex, trigger: TrainingTrigger, params: TrainingParams, requireConvergence: boolean): Promise<TrainingRun> {
    const { store, scheduler, leases } = this.#options;
    // With replicas the run's lease comes first: a run anywhere refuses this one as a local run would.
    const runId = randomUUID();
    const lease = leases === null ? null : await translatingErrors(open.name, () => leases.claim(open.name, runId, trigger), 'training lease');
    const job = createTrainingJob({
      open,
      // Under a lease the model save is fenced by it: it commits only while the lease is this run's.
      store: lease === null ? store : { saveModel: (index, sealed) => store.saveModel(index, sealed, { runId }) },
      params,
      trigger,
      requireConvergence,
      onConvergenceFailure: (failedRunId, error) => this.#rememberConvergenceFailure(failedRunId, error),
    });
    open.pin();
    let run: TrainingRun;
    try {
      run = scheduler.enqueue({ index: open.name, trigger, params, vectorCount: open.size, job: lease?.guard(job) ?? job, runId });
    } catch (error) {
      open.unpin();
      await lease?.release();
      throw error;
    }
    if (requireConvergence) this.#requiringConvergence.add(run.runId);
    const ended = (): void => {
      this.#requiringConvergence.delete(run.runId);
      open.unpin();
    };
    const ending = scheduler.waitFor(run.runId);
    // The lease goes as soon as the run has ended, not after its history record: other replicas
    // see the final status at once and may start the next run right away.
    const releaseLease = (): void => void lease?.release();
    ending.then(releaseLease, releaseLease);
    const recorded = ending.then(async (final) => {
      this.#options.onRunEnded?.(final);
      // Recorded while the index is still pinned (its cipher in memory). A history the store
      // cannot take loses that one record; the run itself and its model are unaffected.
      await this.#options.recordRun?.(open, final).catch(() => undefined);
      ended();
    }, ended);
    this.#recording.set(run.runId, recorded);
    void recorded.finally(() => this.#recording.delete(run.runId));
    return run;
  }

  #rememberConvergenceFailure(runId: string, error: ConvergenceError): void {
    this.#convergenceFailures.set(runId, error);
    while (this.#convergenceFailures.size > CONVERGENCE_FAILURES_KEPT) {
      this.#convergenceFailures.delete(this.#convergenceFailures.keys().next().value!);
    }
  }
}
