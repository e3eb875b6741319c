// Public API of the engine: index types behind the VectorIndex interface (built by the factory),
// k-means training (same thread or worker), metrics and the kernels' status. Pure computation:
// no I/O, no keys, no storage.
export type { Metric } from './metric.js';
export { METRICS } from './metric.js';
export { EngineInputError, TrainingAbortedError } from './errors.js';
export { IvfIndex, defaultNProbes } from './ivf-index.js';
export type { EngineSearchOptions, EngineSearchResult, EngineStageTimings, IvfModel, ModelAssignment, TrainingSnapshot, VectorIndex, VectorSource } from './vector-index.js';
export { createVectorIndex } from './index-factory.js';
export { refineCandidates } from './refine.js';
export type { VectorIndexOptions } from './index-factory.js';
export { DEFAULT_PQ_BITS, INDEX_TYPES, defaultPqSubvectors, resolveIndexType, trainListCodec } from './index-types.js';
export type { IndexTypeName, IndexTypeOptions, IndexTypeSpec } from './index-types.js';
export { TopK } from './top-k.js';
export { scanSubset, type SubsetCandidate } from './subset-scan.js';
export { DEFAULT_TRAIN_PARAMS, defaultNLists } from './training-params.js';
export type { TrainParams, TrainProgress, TrainResult, TrainPhase } from './training-params.js';
export { estimateTrainingBytes } from './kmeans.js';
export { trainKMeans } from './chunked-kmeans.js';
export type { TrainHooks, KMeansOptions } from './kmeans.js';
export { trainInWorker } from './train-in-worker.js';
export { prefaultRows } from './prefault.js';
export type { BuiltLists, ListLayout } from './list-build.js';
export type { ListContents, ListEntries, ListImport, ListRegions, ListShape } from './list-contents.js';
export { copyEntries, regionsOf } from './list-contents.js';
export type { WorkerTrainHooks } from './train-in-worker.js';
export { kernelInfo } from './kernels.js';
export type { KernelChoice } from './kernels.js';
