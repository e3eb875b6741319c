// Training parameters: CyborgDB's defaults, range checks, and the refusals that depend on the index.
import { describe, expect, it } from 'vitest';
import { DEFAULT_TRAIN_PARAMS, defaultNLists } from '../../../src/engine/index.js';
import { IncompatibleIndexError, InsufficientResourcesError, InsufficientVectorsError, ValidationError } from '../../../src/service/errors.js';
import { resolveTrainingParams, type TrainingTarget } from '../../../src/service/training/training-params.js';

const target = (patch: Partial<TrainingTarget> = {}, nLists: number | null = null): TrainingTarget => ({
  config: { dimension: 16, metric: 'euclidean', type: 'ivf_flat', nLists },
  vectorCount: 10_000,
  memoryBudgetBytes: 2 ** 32,
  ...patch,
});

describe('resolveTrainingParams', () => {
  it("fills in CyborgDB's defaults and picks nLists from the vector count", () => {
    expect(resolveTrainingParams({}, target())).toEqual({ ...DEFAULT_TRAIN_PARAMS, nLists: defaultNLists(10_000) });
    expect(resolveTrainingParams({}, target({}, 32)).nLists).toBe(32);
    expect(resolveTrainingParams({ nLists: 9, batchSize: 64, maxIters: 3, tolerance: 0 }, target())).toEqual({ nLists: 9, batchSize: 64, maxIters: 3, tolerance: 0 });
  });

  it('never picks more lists than half the vectors', () => {
    expect(resolveTrainingParams({}, target({ vectorCount: 3 })).nLists).toBe(1);
    expect(resolveTrainingParams({}, target({ vectorCount: 2 })).nLists).toBe(1);
  });

  it('checks ranges before anything else', () => {
    for (const [options, argument] of [
      [{ nLists: 0 }, 'nLists'],
      [{ nLists: 65_537 }, 'nLists'],
      [{ batchSize: 0.5 }, 'batchSize'],
      [{ maxIters: 10_001 }, 'maxIters'],
      [{ tolerance: -1 }, 'tolerance'],
    ] as const) {
      let caught: unknown;
      try {
        resolveTrainingParams(options, target({ vectorCount: 0 }));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).argument).toBe(argument);
    }
  });

  it('needs vectors, and two per list', () => {
    expect(() => resolveTrainingParams({}, target({ vectorCount: 0 }))).toThrow(InsufficientVectorsError);
    expect(() => resolveTrainingParams({ nLists: 6 }, target({ vectorCount: 11 }))).toThrow(expect.objectContaining({ required: 12, actual: 11 }));
    expect(resolveTrainingParams({ nLists: 6 }, target({ vectorCount: 12 })).nLists).toBe(6);
  });

  it('keeps a configured nLists fixed', () => {
    expect(() => resolveTrainingParams({ nLists: 8 }, target({}, 32))).toThrow(IncompatibleIndexError);
    expect(resolveTrainingParams({ nLists: 32 }, target({}, 32)).nLists).toBe(32);
  });

  it('refuses a job over the memory budget', () => {
    expect(() => resolveTrainingParams({}, target({ memoryBudgetBytes: 1 << 20 }))).toThrow(InsufficientResourcesError);
  });
});
