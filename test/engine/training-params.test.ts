// Training parameters: defaults, the nLists rule, checks, and the memory estimate.
import { describe, expect, it } from 'vitest';
import { EngineInputError } from '../../src/engine/errors.js';
import { estimateTrainingBytes } from '../../src/engine/kmeans.js';
import { assertTrainParams, DEFAULT_TRAIN_PARAMS, defaultNLists } from '../../src/engine/training-params.js';

describe('training parameters', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_TRAIN_PARAMS).toEqual({ batchSize: 2048, maxIters: 100, tolerance: 1e-6 });
  });

  it('picks round(sqrt(n)) lists, at least 39 vectors per list, at least one', () => {
    expect(defaultNLists(100_000)).toBe(316);
    expect(defaultNLists(10_000)).toBe(100);
    expect(defaultNLists(1_000)).toBe(25); // sqrt gives 32, but 1000 / 39 = 25
    expect(defaultNLists(50)).toBe(1);
    expect(defaultNLists(0)).toBe(1);
    expect(defaultNLists(1e12)).toBe(65_536);
  });

  it('accepts sound parameters and names the first bad one', () => {
    const ok = { nLists: 8, ...DEFAULT_TRAIN_PARAMS };
    expect(() => assertTrainParams(ok, 8)).not.toThrow();
    expect(() => assertTrainParams(ok, 7)).toThrow(/at least 8 vectors/);
    expect(() => assertTrainParams({ ...ok, batchSize: -1 }, 100)).toThrow(/batchSize/);
    expect(() => assertTrainParams({ ...ok, tolerance: Number.NaN }, 100)).toThrow(/tolerance/);
    expect(() => assertTrainParams({ ...ok, seed: 1.5 }, 100)).toThrow(EngineInputError);
  });

  it('estimates more memory for more vectors, dimensions and lists, and at least the rows themselves', () => {
    const base = estimateTrainingBytes(100_000, 128, 256);
    expect(base).toBeGreaterThan(100_000 * 128 * 4);
    expect(estimateTrainingBytes(200_000, 128, 256)).toBeGreaterThan(base);
    expect(estimateTrainingBytes(100_000, 256, 256)).toBeGreaterThan(base);
    expect(estimateTrainingBytes(100_000, 128, 1024)).toBeGreaterThan(base);
  });
});
