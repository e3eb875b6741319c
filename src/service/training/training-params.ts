// Training parameters: CyborgDB's defaults, their allowed ranges, and the checks against the index
// (enough vectors, a list count compatible with its configuration, a job that fits the memory
// budget) that decide whether a run may be queued at all.

import { DEFAULT_TRAIN_PARAMS, defaultNLists, estimateTrainingBytes } from '../../engine/index.js';
import { IncompatibleIndexError, InsufficientResourcesError, InsufficientVectorsError, ValidationError } from '../errors.js';
import type { IndexConfig } from '../records/index-config-record.js';
import { MAX_LISTS, MAX_TRAIN_ITERS, requireInteger } from '../input/input-validation.js';
import type { TrainingParams } from './training-status.js';
import type { TrainOptions } from '../types.js';

export interface TrainingTarget {
  config: IndexConfig;
  vectorCount: number;
  memoryBudgetBytes: number;
}

/** Range checks only: what is wrong with the arguments whatever the index holds. */
function checkRanges(options: TrainOptions): void {
  if (options.nLists !== undefined) requireInteger('nLists', options.nLists, 1, MAX_LISTS);
  if (options.batchSize !== undefined) requireInteger('batchSize', options.batchSize, 1, Number.MAX_SAFE_INTEGER);
  if (options.maxIters !== undefined) requireInteger('maxIters', options.maxIters, 1, MAX_TRAIN_ITERS);
  const tolerance = options.tolerance;
  if (tolerance !== undefined && (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0)) {
    throw new ValidationError('tolerance', `tolerance must be a finite number >= 0; got ${String(tolerance)}`, { min: 0 });
  }
}

/**
 * The parameters a run will use, or the typed reason it cannot run:
 * - ValidationError: an argument out of range.
 * - IncompatibleIndexError: the index was created with a fixed nLists and another one was asked
 *   for (an index's list count is part of its configuration; create a new index to change it),
 *   or the index type does not train.
 * - InsufficientVectorsError: no vectors, or fewer than twice the lists (k-means needs at least
 *   two points per centroid to say anything about them).
 * - InsufficientResourcesError: the job's memory estimate exceeds TRAINING_MEMORY_BUDGET_MB.
 */
export function resolveTrainingParams(options: TrainOptions, target: TrainingTarget): TrainingParams {
  checkRanges(options);
  const { config, vectorCount } = target;
  if (options.nLists !== undefined && config.nLists !== null && options.nLists !== config.nLists) {
    throw new IncompatibleIndexError(
      `The index was created with nLists ${config.nLists}; train it with nLists ${config.nLists} or without nLists (it is fixed at creation).`,
    );
  }
  if (vectorCount === 0) throw new InsufficientVectorsError(2 * (options.nLists ?? config.nLists ?? 1), 0);
  const nLists = options.nLists ?? config.nLists ?? Math.max(1, Math.min(defaultNLists(vectorCount), Math.floor(vectorCount / 2)));
  if (vectorCount < 2 * nLists) throw new InsufficientVectorsError(2 * nLists, vectorCount);
  const params: TrainingParams = {
    nLists,
    batchSize: options.batchSize ?? DEFAULT_TRAIN_PARAMS.batchSize,
    maxIters: options.maxIters ?? DEFAULT_TRAIN_PARAMS.maxIters,
    tolerance: options.tolerance ?? DEFAULT_TRAIN_PARAMS.tolerance,
  };
  const requiredBytes = estimateTrainingBytes(vectorCount, config.dimension, nLists);
  if (requiredBytes > target.memoryBudgetBytes) throw new InsufficientResourcesError(requiredBytes, target.memoryBudgetBytes);
  return params;
}
