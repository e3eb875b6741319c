// When an index is queued for training on its own (after an upsert), unless AUTO_TRAIN_DISABLED.
//
// The rule, shown in Query.trainingQueue (retrainThreshold, retrainGrowthFactor):
// - An untrained index trains once it holds RETRAIN_THRESHOLD vectors (CyborgDB's rule; default 10,000).
//   Below that it answers searches exactly, which is fast enough at that size.
// - A trained index trains again once it holds more than RETRAIN_GROWTH_FACTOR (default 4) times the
//   vectors its lists were trained on, and at least RETRAIN_THRESHOLD. CyborgDB retrains when
//   vectorCount > nLists x RETRAIN_THRESHOLD; we compare with the trained-on count instead because
//   lists chosen from the vector count (about its square root) make nLists x RETRAIN_THRESHOLD a
//   size most indexes never reach, while centroids fitted to a quarter of today's data no longer
//   describe it well.
// The caller checks that auto-training is enabled and that the index is not training already.

export interface AutoTrainInput {
  vectorCount: number;
  /** Vectors the current lists were trained on; null for an untrained index. */
  trainedVectorCount: number | null;
  retrainThreshold: number;
  /** RETRAIN_GROWTH_FACTOR (config.retrainGrowthFactor). */
  growthFactor: number;
}

export function shouldAutoTrain(input: AutoTrainInput): boolean {
  const { vectorCount, trainedVectorCount, retrainThreshold, growthFactor } = input;
  if (vectorCount < retrainThreshold) return false;
  if (trainedVectorCount === null) return true;
  return vectorCount > growthFactor * trainedVectorCount;
}
