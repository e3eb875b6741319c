// Public API of the engine: the IVF-Flat index, k-means training (same thread or worker), metrics
// and the kernels' status. Pure computation: no I/O, no keys, no storage.
export type { Metric } from './metric.js';
export { METRICS } from './metric.js';
export { EngineInputError, TrainingAbortedError } from './errors.js';
export { IvfFlatIndex, defaultNProbes } from './ivf-flat-index.js';
export type { EngineSearchOptions, EngineSearchResult, IvfModel, ModelAssignment, TrainingSnapshot } from './ivf-flat-index.js';
export { DEFAULT_TRAIN_PARAMS, defaultNLists } from './training-params.js';
export type { TrainParams, TrainProgress, TrainResult, TrainPhase } from './training-params.js';
export { trainKMeans, estimateTrainingBytes } from './kmeans.js';
export type { TrainHooks, KMeansOptions } from './kmeans.js';
export { trainInWorker } from './train-in-worker.js';
export type { WorkerTrainHooks } from './train-in-worker.js';
export { kernelInfo } from './kernels.js';
export type { KernelChoice } from './kernels.js';
