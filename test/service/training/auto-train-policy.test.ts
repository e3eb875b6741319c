// The automatic-training rule: first training at RETRAIN_THRESHOLD, retraining past the growth factor.
import { describe, expect, it } from 'vitest';
import { shouldAutoTrain } from '../../../src/service/training/auto-train-policy.js';

const retrainThreshold = 1000;
const growthFactor = 4;

describe('shouldAutoTrain', () => {
  it('queues an untrained index exactly when it reaches the threshold', () => {
    expect(shouldAutoTrain({ vectorCount: retrainThreshold - 1, trainedVectorCount: null, retrainThreshold, growthFactor })).toBe(false);
    expect(shouldAutoTrain({ vectorCount: retrainThreshold, trainedVectorCount: null, retrainThreshold, growthFactor })).toBe(true);
    expect(shouldAutoTrain({ vectorCount: retrainThreshold * 50, trainedVectorCount: null, retrainThreshold, growthFactor })).toBe(true);
  });

  it('retrains a trained index only once it holds more than growthFactor times what it trained on', () => {
    const trainedVectorCount = 3000;
    const limit = growthFactor * trainedVectorCount;
    expect(shouldAutoTrain({ vectorCount: trainedVectorCount, trainedVectorCount, retrainThreshold, growthFactor })).toBe(false);
    expect(shouldAutoTrain({ vectorCount: limit, trainedVectorCount, retrainThreshold, growthFactor })).toBe(false);
    expect(shouldAutoTrain({ vectorCount: limit + 1, trainedVectorCount, retrainThreshold, growthFactor })).toBe(true);
  });

  it('never retrains below the threshold, even after a manual training on a few vectors', () => {
    const trainedVectorCount = 100;
    const grown = growthFactor * trainedVectorCount + 1;
    expect(grown).toBeLessThan(retrainThreshold);
    expect(shouldAutoTrain({ vectorCount: grown, trainedVectorCount, retrainThreshold, growthFactor })).toBe(false);
    expect(shouldAutoTrain({ vectorCount: retrainThreshold, trainedVectorCount, retrainThreshold, growthFactor })).toBe(true);
  });

  it('follows the configured growth factor', () => {
    const trainedVectorCount = 2000;
    const vectorCount = 5 * trainedVectorCount;
    expect(shouldAutoTrain({ vectorCount, trainedVectorCount, retrainThreshold, growthFactor: 4 })).toBe(true);
    expect(shouldAutoTrain({ vectorCount, trainedVectorCount, retrainThreshold, growthFactor: 5 })).toBe(false);
  });
});
