// Starts training runs for open indexes, manual and automatic: the auto-train rule and its retry
// window, the lease a run takes first when replicas share the store, keeping the index in memory
// while its run lasts, and the convergence failures waitFor reports.

import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import type { Store } from '../../storage/index.js';
import { CipherdexError, ConvergenceError, ValidationError } from '../errors.js';
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
}

export class TrainingRuns {
  readonly #options: TrainingRunsOptions;
  readonly #convergenceFailures = new Map<string, ConvergenceError>();

  constructor(options: TrainingRunsOptions) {
    this.#options = options;
  }

  /** Queues a MANUAL run with `options` resolved against the index. */
  async train(open: OpenIndex, options: TrainOptions): Promise<TrainingRun> {
    return this.#enqueue(open, 'MANUAL', this.#params(open, options), options.requireConvergence === true);
  }

  /** Resolves once the run ended; throws its ConvergenceError when it required convergence and missed it. */
  async waitFor(runId: string): Promise<TrainingRun> {
    if (typeof runId !== 'string' || runId === '') throw new ValidationError('runId', 'runId must be a run id returned by train');
    const run = await this.#options.scheduler.waitFor(runId);
    const failure = this.#convergenceFailures.get(runId);
    if (failure !== undefined) throw failure;
    return run;
  }

  /** Queues an AUTOMATIC run when the policy says so; never waits for it, and fails only on the unexpected. */
  async maybeAutoTrain(open: OpenIndex): Promise<void> {
    const { config, scheduler } = this.#options;
    if (!config.autoTrainEnabled || scheduler.isTraining(open.name)) return;
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
      store,
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
    const ended = (): void => {
      open.unpin();
      void lease?.release();
    };
    scheduler.waitFor(run.runId).then((final) => {
      this.#options.onRunEnded?.(final);
      ended();
    }, ended);
    return run;
  }

  #rememberConvergenceFailure(runId: string, error: ConvergenceError): void {
    this.#convergenceFailures.set(runId, error);
    while (this.#convergenceFailures.size > CONVERGENCE_FAILURES_KEPT) {
      this.#convergenceFailures.delete(this.#convergenceFailures.keys().next().value!);
    }
  }
}
