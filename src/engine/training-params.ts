// Training parameters, progress and result of a k-means run, with their defaults and checks, the
// rule that picks the number of lists, and the memory a run needs.
import { EngineInputError } from './errors.js';
import type { BuiltLists } from './list-build.js';

export interface TrainParams {
  /** Number of inverted lists (k-means clusters). */
  nLists: number;
  /** Rows per mini-batch; a batch as large as the data makes every iteration a full Lloyd step. */
  batchSize: number;
  maxIters: number;
  /**
   * Stop when the relative centroid shift falls to this (see TrainProgress.shift: of the last
   * iteration for full batches, smoothed over recent batches for mini-batches).
   */
  tolerance: number;
  /** Same seed, same data, same parameters: same model. A fixed default seed is used when absent. */
  seed?: number;
}

export const DEFAULT_TRAIN_PARAMS = { batchSize: 2048, maxIters: 100, tolerance: 1e-6 } as const;

export type TrainPhase = 'INITIALIZING' | 'ITERATING' | 'ASSIGNING';

export interface TrainProgress {
  phase: TrainPhase;
  iteration: number;
  maxIters: number;
  /**
   * Relative centroid shift: the mean squared move of a centroid in an iteration divided by the
   * variance of the data (mean squared distance to its mean). Full batch: of the last iteration;
   * mini-batch: an exponentially weighted average over recent batches (see
   * NO_IMPROVEMENT_PATIENCE in kmeans.ts). NaN before the first iteration.
   */
  shift: number;
  /**
   * Sum of squared distances of the rows to their centroids: exact in full-batch iterations;
   * with mini-batches estimated from the batches (scaled to all rows) and smoothed like `shift`.
   * NaN before the first iteration.
   */
  inertia: number;
  elapsedMs: number;
}

export interface TrainResult {
  /** nLists rows of `dimension` floats. */
  centroids: Float32Array;
  nLists: number;
  /** The list (nearest centroid) of each input row. */
  lists: Uint32Array;
  iterations: number;
  shift: number;
  /** Exact sum of squared distances of every row to its list's centroid. */
  inertia: number;
  /**
   * The run stopped before maxIters: the shift fell to the tolerance, or (mini-batch) the
   * smoothed inertia stopped improving.
   */
  converged: boolean;
  elapsedMs: number;
  /** The list codec's parameters, when the run trained one (IndexTypeSpec of trainInWorker). */
  codec?: Uint8Array;
  /** The index's new lists, laid out by the worker when trainInWorker was given `lists`. */
  built?: BuiltLists;
}

/**
 * Lists for `vectorCount` vectors when the caller picks none: round(sqrt(n)), the usual IVF
 * balance between probing centroids and scanning lists, capped so that every list trains on at
 * least 39 vectors (fewer make unstable centroids) and at 65,536; never below 1.
 */
export function defaultNLists(vectorCount: number): number {
  if (!Number.isFinite(vectorCount) || vectorCount < 1) return 1;
  return Math.max(1, Math.min(Math.round(Math.sqrt(vectorCount)), Math.floor(vectorCount / 39), 65_536));
}

function integer(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
    throw new EngineInputError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

/** Throws EngineInputError unless `params` can train on `vectorCount` rows. */
export function assertTrainParams(params: TrainParams, vectorCount: number): void {
  if (params == null || typeof params !== 'object') throw new EngineInputError('training parameters are required');
  integer('nLists', params.nLists, 1, 65_536);
  integer('batchSize', params.batchSize, 1);
  integer('maxIters', params.maxIters, 1);
  if (typeof params.tolerance !== 'number' || !(params.tolerance >= 0) || !Number.isFinite(params.tolerance)) {
    throw new EngineInputError(`tolerance must be a finite number >= 0, got ${String(params.tolerance)}`);
  }
  if (params.seed !== undefined) integer('seed', params.seed, 0, 0xffff_ffff);
  if (vectorCount < params.nLists) {
    throw new EngineInputError(`training ${params.nLists} lists needs at least ${params.nLists} vectors, got ${vectorCount}`);
  }
}
