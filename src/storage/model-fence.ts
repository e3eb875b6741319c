// The fencing token of a model save: the training lease the run was granted. A save carrying a
// fence commits only while that lease is still the run's and unexpired, checked in the same
// statement as the write, so a trainer that lost its lease (paused, partitioned) can never
// overwrite a model that a later lease holder saved.

/** The lease grant a model save is conditional on: the run that holds the index's training lease. */
export interface ModelFence {
  /** The run id the lease was claimed for (unique per grant: a lease taken over gets another run id). */
  runId: string;
}

/** The save's lease was no longer the run's (expired, taken over, or released): nothing was written. */
export class ModelFencedError extends Error {
  constructor(
    readonly index: string,
    readonly runId: string,
  ) {
    super(`The model of run "${runId}" for index "${index}" was not saved: the run no longer holds the index's training lease.`);
    this.name = 'ModelFencedError';
  }
}
