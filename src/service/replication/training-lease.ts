// One training run per index across replicas, coordinated through the database: a run holds its
// index's lease (ReplicationStore) from the moment it is queued until it ends, renewing it every
// third of the lease time. A second trainIndex anywhere meets the lease and gets
// TrainingInProgressError naming the holder's run, exactly as it would on one process.
//
// A replica that dies stops renewing; once its lease expires, another replica's sweep (every
// quarter of the lease time) announces the run as FAILED on the index's training topic, then
// removes the lease, so the run never stays "training" and the index can be trained again. A
// replica that cannot renew in time (database unreachable, process stalled) stops its own run
// before its commit point: the lease may already be someone else's.

import { ModelFencedError, type ReplicationStore, type TrainingLease } from '../../storage/index.js';
import { CipherdexError, TrainingInProgressError } from '../errors.js';
import type { TrainingEventBus } from '../training/training-events.js';
import type { RemoteTrainingStatuses, TrainingJob } from '../training/training-scheduler.js';
import { idleStatus, isTerminalPhase } from '../training/training-status.js';
import type { TrainingRun, TrainingStatus, TrainingTrigger } from '../types.js';

/** The run's replica could not renew its lease in time, so it stopped the run. */
export class TrainingLeaseLostError extends CipherdexError {
  readonly code = 'TRAINING_LEASE_LOST';
  constructor(readonly index: string) {
    super(`This replica could not renew the training lease of index "${index}" in time (database unreachable or process stalled), so it stopped the run.`);
  }
}

/**
 * The run's model save found its lease gone (expired and taken over while this replica was paused
 * or cut off): the save was refused, so a newer model another replica saved stays.
 */
export class TrainingLeaseFencedError extends CipherdexError {
  readonly code = 'TRAINING_LEASE_FENCED';
  constructor(readonly index: string) {
    super(
      `This replica lost the training lease of index "${index}" before its model was saved (it was paused or cut off past the lease), so the save was refused; the index keeps the model saved under the lease since.`,
    );
  }
}

export const ABANDONED_RUN_MESSAGE =
  'the replica running this training stopped renewing its lease (it stopped, or lost the database); the run was abandoned';

export interface TrainingLeasesOptions {
  store: ReplicationStore;
  /** How long a lease lasts without renewal, in ms. */
  leaseMs: number;
  /** Where the FAILED state of an abandoned run is published. */
  events: TrainingEventBus;
  /** The last known status of other replicas' runs (null without Redis). */
  runs: RemoteTrainingStatuses | null;
  /** Resolves once published events have left this process (so a lease is removed only after). */
  flush?: () => Promise<void>;
}

export interface HeldLease {
  readonly index: string;
  readonly runId: string;
  /** Aborted when the lease could not be renewed in time. */
  readonly lost: AbortSignal;
  /** The job, stopped (TrainingLeaseLostError) if the lease is lost before its commit point. */
  guard(job: TrainingJob): TrainingJob;
  /** Stops renewing and removes the lease (it expires on its own if the removal fails). */
  release(): Promise<void>;
}

export class TrainingLeases {
  readonly #options: TrainingLeasesOptions;
  readonly #held = new Set<HeldLease>();
  readonly #sweeper: NodeJS.Timeout;
  #sweeping: Promise<unknown> | null = null;

  constructor(options: TrainingLeasesOptions) {
    this.#options = options;
    this.#sweeper = setInterval(() => void this.sweep(), Math.max(50, Math.floor(options.leaseMs / 4)));
    this.#sweeper.unref();
  }

  /** Takes the index's lease for `runId`, or throws TrainingInProgressError naming the holder's run. */
  async claim(index: string, runId: string, trigger: TrainingTrigger): Promise<HeldLease> {
    const { store, leaseMs } = this.#options;
    let claim = await store.claimLease({ index, runId, trigger }, leaseMs);
    if (!claim.claimed && claim.expired) {
      // Its replica is gone: end that run now rather than at the next sweep, then try again.
      await this.sweep();
      claim = await store.claimLease({ index, runId, trigger }, leaseMs);
    }
    if (!claim.claimed) throw new TrainingInProgressError(index, claim.holder.runId);
    return this.#hold(index, runId);
  }

  /** Announces and removes expired leases of runs not held here (runs on a timer; callable directly). */
  async sweep(): Promise<void> {
    // Runs this process holds are left out: their own renewal finds out that the lease lapsed.
    const holding = [...this.#held].map((lease) => lease.runId);
    this.#sweeping ??= this.#options.store
      .reapExpiredLeases((lease) => this.#announceAbandoned(lease), holding)
      .catch(() => [])
      .finally(() => {
        this.#sweeping = null;
      });
    await this.#sweeping;
  }

  /** Stops sweeping and releases every lease still held (their runs were cancelled by the scheduler). */
  async close(): Promise<void> {
    clearInterval(this.#sweeper);
    await this.#sweeping;
    await Promise.all([...this.#held].map((lease) => lease.release()));
  }

  #hold(index: string, runId: string): HeldLease {
    const { store, leaseMs } = this.#options;
    const lost = new AbortController();
    // Until a renewal proves otherwise, the lease is ours for leaseMs from just before the claim.
    let validUntil = Date.now() + leaseMs;
    let renewing = false;
    const renew = async (): Promise<void> => {
      if (renewing) return;
      renewing = true;
      const attemptedAt = Date.now();
      try {
        if (await store.renewLease(index, runId, leaseMs)) validUntil = attemptedAt + leaseMs;
        else lost.abort();
      } catch {
        // Unknown: the database did not answer. Keep trying while the lease can still be ours.
      } finally {
        renewing = false;
      }
      if (Date.now() >= validUntil) lost.abort();
    };
    const timer = setInterval(() => void renew(), Math.max(20, Math.floor(leaseMs / 3)));
    timer.unref();
    let released: Promise<void> | null = null;
    const lease: HeldLease = {
      index,
      runId,
      lost: lost.signal,
      guard: (job) => guardJob(job, index, lost.signal),
      release: () => {
        released ??= (async () => {
          clearInterval(timer);
          await store.releaseLease(index, runId).catch(() => {});
          this.#held.delete(lease);
        })();
        return released;
      },
    };
    this.#held.add(lease);
    return lease;
  }

  async #announceAbandoned(lease: TrainingLease): Promise<void> {
    const { events, runs, flush } = this.#options;
    const last = runs?.latest(lease.index) ?? null;
    const known = last !== null && last.runId === lease.runId ? last : null;
    // The run ended and only the removal of its lease was lost: nothing to announce.
    if (known !== null && isTerminalPhase(known.phase)) return;
    events.publish(lease.index, abandonedRun(lease, known));
    await flush?.();
  }
}

/** The FAILED state of a run whose replica stopped renewing its lease, from its last known state. */
export function abandonedRun(lease: TrainingLease, last: TrainingStatus | null, now = new Date()): TrainingRun {
  const trigger: TrainingTrigger = lease.trigger === 'AUTOMATIC' ? 'AUTOMATIC' : 'MANUAL';
  const base = last ?? idleStatus(lease.index);
  return {
    ...base,
    runId: lease.runId,
    trigger: last?.trigger ?? trigger,
    phase: 'FAILED',
    etaMs: null,
    elapsedMs: base.startedAt === null ? base.elapsedMs : Math.max(base.elapsedMs, now.getTime() - base.startedAt.getTime()),
    finishedAt: now,
    message: ABANDONED_RUN_MESSAGE,
  };
}

/** Runs `job` with a signal that also aborts when the lease is lost, and says so when it did. */
function guardJob(job: TrainingJob, index: string, lost: AbortSignal): TrainingJob {
  return async (ctx) => {
    if (lost.aborted) throw new TrainingLeaseLostError(index);
    const signal = AbortSignal.any([ctx.signal, lost]);
    try {
      return await job({ ...ctx, signal });
    } catch (error) {
      if (error instanceof ModelFencedError) throw new TrainingLeaseFencedError(index);
      if (lost.aborted && !ctx.signal.aborted) throw new TrainingLeaseLostError(index);
      throw error;
    }
  };
}
