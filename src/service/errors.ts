// Typed domain errors: every failure a caller can cause has its own class, a stable `code`
// and the fields that help fix it. The GraphQL layer maps each class to an object type in a
// result union; nothing here knows about GraphQL.

import type { StoreFaultKind } from '../storage/index.js';
import type { Permission } from './enumerations.js';

export abstract class CipherdexError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An argument is malformed or out of its allowed range. */
export class ValidationError extends CipherdexError {
  readonly code = 'VALIDATION_ERROR';
  constructor(
    readonly argument: string,
    message: string,
    readonly range: { min?: number; max?: number; allowed?: readonly string[] } = {},
  ) {
    super(message);
  }
}

export class IndexNotFoundError extends CipherdexError {
  readonly code = 'INDEX_NOT_FOUND';
  constructor(readonly index: string) {
    super(`Index "${index}" does not exist.`);
  }
}

export class IndexAlreadyExistsError extends CipherdexError {
  readonly code = 'INDEX_ALREADY_EXISTS';
  constructor(readonly index: string) {
    super(`Index "${index}" already exists.`);
  }
}

/** The key does not unwrap the index's data key. Says nothing about why, on purpose. */
export class InvalidIndexKeyError extends CipherdexError {
  readonly code = 'INVALID_INDEX_KEY';
  constructor(readonly index: string) {
    super(`The key does not open index "${index}".`);
  }
}

/** The caller's grant does not carry a permission the operation needs (any one of `required` would do). */
export class PermissionDeniedError extends CipherdexError {
  readonly code = 'PERMISSION_DENIED';
  constructor(
    readonly index: string,
    readonly required: readonly Permission[],
  ) {
    super(`This grant of index "${index}" lacks the permission this needs (any of ${required.join(', ')}).`);
  }
}

/** The index has no grant with that id (never created, or revoked already). */
export class GrantNotFoundError extends CipherdexError {
  readonly code = 'GRANT_NOT_FOUND';
  constructor(
    readonly index: string,
    readonly grantId: string,
  ) {
    super(`Index "${index}" has no grant ${grantId}.`);
  }
}

export class DimensionMismatchError extends CipherdexError {
  readonly code = 'DIMENSION_MISMATCH';
  constructor(
    readonly expected: number,
    readonly actual: number,
    readonly argument = 'vector',
  ) {
    super(`${argument} has dimension ${actual}; the index expects ${expected}.`);
  }
}

/** No vectors to train on, or fewer than twice the requested number of lists. */
export class InsufficientVectorsError extends CipherdexError {
  readonly code = 'INSUFFICIENT_VECTORS';
  constructor(
    readonly required: number,
    readonly actual: number,
  ) {
    super(`Training needs at least ${required} vectors; the index holds ${actual}.`);
  }
}

/** Ids named by the call that the index does not hold; the call changed nothing. */
export class ItemsNotFoundError extends CipherdexError {
  readonly code = 'ITEMS_NOT_FOUND';
  constructor(readonly ids: readonly string[]) {
    // The ids are the caller's data: they travel in `ids`, never in the message.
    super(`${ids.length} of the ids given ${ids.length === 1 ? 'is' : 'are'} not in the index; \`ids\` lists them.`);
  }
}

/** The index's configuration cannot do what was asked (e.g. training parameters that contradict it). */
export class IncompatibleIndexError extends CipherdexError {
  readonly code = 'INCOMPATIBLE_INDEX';
  constructor(readonly reason: string) {
    super(reason);
  }
}

export class TrainingInProgressError extends CipherdexError {
  readonly code = 'TRAINING_IN_PROGRESS';
  constructor(
    readonly index: string,
    readonly runId: string,
  ) {
    super(`Index "${index}" is already training (run ${runId}).`);
  }
}

export class TrainingNotRunningError extends CipherdexError {
  readonly code = 'TRAINING_NOT_RUNNING';
  constructor(readonly index: string) {
    super(`Index "${index}" has no queued or running training run.`);
  }
}

export class TrainingRunNotFoundError extends CipherdexError {
  readonly code = 'TRAINING_RUN_NOT_FOUND';
  constructor(
    readonly index: string,
    readonly runId: string,
  ) {
    super(`Index "${index}" has no recorded training run "${runId}".`);
  }
}

/**
 * A memory budget refuses the work: a training job's estimate above TRAINING_MEMORY_BUDGET_MB, or
 * an index that cannot be opened or grown within CIPHERDEX_MEMORY_BUDGET_MB even after every idle
 * index was evicted. Nothing was changed.
 */
export class InsufficientResourcesError extends CipherdexError {
  readonly code = 'INSUFFICIENT_RESOURCES';
  constructor(
    readonly requiredBytes: number,
    readonly availableBytes: number,
    /** What needs the memory, for the message: 'Training', 'Opening the index', 'This upsert'. */
    what = 'Training',
  ) {
    super(
      `${what} needs about ${Math.ceil(requiredBytes / 2 ** 20)} MiB; the budget allows ${Math.floor(Math.max(0, availableBytes) / 2 ** 20)} MiB.`,
    );
  }
}

/** A run ended at maxIters without reaching the tolerance, and the caller required convergence. */
export class ConvergenceError extends CipherdexError {
  readonly code = 'CONVERGENCE_FAILED';
  constructor(
    readonly iterations: number,
    readonly shift: number,
    readonly tolerance: number,
  ) {
    super(`Training stopped after ${iterations} iterations with shift ${shift}, above tolerance ${tolerance}.`);
  }
}

/** A stored record failed authentication: it was altered, moved or swapped in the database. */
export class IntegrityError extends CipherdexError {
  readonly code = 'INTEGRITY_ERROR';
  constructor(readonly what: string) {
    super(`Stored ${what} failed its integrity check: the database was altered outside Cipherdex.`);
  }
}

/**
 * The store cannot do what was asked: disk full, read-only, database unreachable, locked, I/O
 * failure. Not the caller's doing, so it is no member of the result unions: the server answers it
 * as a request error with code STORE_UNAVAILABLE (HTTP 503). Reads served from memory go on.
 */
export class StoreUnavailableError extends CipherdexError {
  readonly code = 'STORE_UNAVAILABLE';
  constructor(
    readonly fault: StoreFaultKind,
    options?: { cause?: unknown },
  ) {
    super(STORE_FAULT_MESSAGES[fault]);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * The replica running an index's training did not answer a request forwarded to it (cancel) in
 * time: it may have stopped (its run is then reported FAILED once its lease expires) or Redis may
 * be unreachable. Not the caller's doing: a request error with code REPLICA_UNAVAILABLE (HTTP 503).
 */
export class ReplicaUnavailableError extends CipherdexError {
  readonly code = 'REPLICA_UNAVAILABLE';
  constructor(
    readonly index: string,
    readonly runId: string,
  ) {
    super(`The replica running training run ${runId} of index "${index}" did not answer in time; nothing was changed. Retry shortly.`);
  }
}

const STORE_FAULT_MESSAGES: Readonly<Record<StoreFaultKind, string>> = {
  'disk-full': 'The store is out of disk space: the change was not saved. Reads still work; retry once space is freed.',
  'read-only': 'The store is read-only: the change was not saved. Reads still work; retry once it is writable again.',
  unreachable: 'The database cannot be reached: the request could not be completed. Retry once it is back.',
  busy: 'The store is locked by another process: the change was not saved. Retry shortly.',
  'io-error': 'The store reported an I/O error: the request could not be completed. Retry, and check the server log.',
};
