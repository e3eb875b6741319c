// k-means over rows spread across several shared memories (a training snapshot larger than one
// memory can address): the centroids train on a uniform sample copied into one memory, then each
// chunk's rows are assigned to them where they are. With one chunk it is plain kmeansOnHeap.
import { TrainingAbortedError } from './errors.js';
import { KernelHeap } from './kernel-heap.js';
import { ROW_TILE, type KernelChoice } from './kernels.js';
import { assertInitialCentroids, assignToCentroids, DEFAULT_SAMPLE_BYTES, kmeansOnHeap, kmeansOnSample, type KMeansOptions, type TrainHooks } from './kmeans.js';
import { assertDimension, assertMetric, rowStride, type Metric } from './metric.js';
import { createRandom, DEFAULT_SEED, sampleIndices } from './random.js';
import { chunksOf, paddedRowsBytes, placeRows, rowCount, type HeapRows, type RowChunks } from './shared-rows.js';
import { assertTrainParams, type TrainParams, type TrainResult } from './training-params.js';

export interface ChunkedTraining {
  result: TrainResult;
  /** The rows the centroids trained on (the list codec is fitted on them too). */
  sample: HeapRows;
}

export interface ChunkedTrainingOptions extends KMeansOptions {
  /** Most bytes of sampled rows the centroids train on when the rows are in several chunks. */
  sampleBytes?: number;
}

/** Same-thread k-means with the final assignment (tests, benchmarks; the service uses trainInWorker). */
export function trainKMeans(
  vectors: RowChunks,
  dimension: number,
  metric: Metric,
  params: TrainParams,
  hooks: TrainHooks = {},
  options: ChunkedTrainingOptions = {},
): TrainResult {
  assertDimension(dimension);
  assertMetric(metric);
  assertTrainParams(params, rowCount(vectors, dimension));
  assertInitialCentroids(options.initialCentroids, params.nLists, dimension);
  const chunks = chunksOf(vectors).map((chunk) => placeRows(chunk, dimension, metric, options.kernels));
  return kmeansOnChunks(chunks, params, hooks, options).result;
}

/** Trains centroids over the rows of every chunk, in order, and assigns each row to its nearest. */
export function kmeansOnChunks(chunks: readonly HeapRows[], params: TrainParams, hooks: TrainHooks = {}, options: ChunkedTrainingOptions = {}): ChunkedTraining {
  if (chunks.length === 1) return { result: kmeansOnHeap(chunks[0], params, hooks, options.initialCentroids), sample: chunks[0] };
  const started = performance.now();
  const total = chunks.reduce((sum, chunk) => sum + chunk.count, 0);
  const sample = drawSample(chunks, total, params, options.sampleBytes ?? DEFAULT_SAMPLE_BYTES, options.kernels ?? 'auto');
  // Every row fits in the sample: the very run one memory would have made.
  if (sample.count === total) return { result: kmeansOnHeap(sample, params, hooks, options.initialCentroids), sample };

  const trained = kmeansOnSample(sample, total, params, hooks, options.initialCentroids);
  const { iterations, shift } = trained;
  hooks.onProgress?.({ phase: 'ASSIGNING', iteration: iterations, maxIters: params.maxIters, shift, inertia: trained.inertia, elapsedMs: performance.now() - started });
  const lists = new Uint32Array(total);
  let inertia = 0;
  let row = 0;
  for (const chunk of chunks) {
    if (hooks.shouldStop?.()) throw new TrainingAbortedError();
    const assigned = assignToCentroids(chunk, trained.centroids, trained.nLists);
    lists.set(assigned.lists, row);
    inertia += assigned.inertia;
    row += chunk.count;
  }
  return { result: { ...trained, lists, inertia, elapsedMs: performance.now() - started }, sample };
}

/**
 * As many rows as fit in `sampleBytes` (never fewer than nLists), drawn uniformly under the run's
 * seed and copied in their original order into a new heap; all rows when they fit.
 */
function drawSample(chunks: readonly HeapRows[], total: number, params: TrainParams, sampleBytes: number, kernels: KernelChoice): HeapRows {
  const { dimension } = chunks[0];
  const stride = rowStride(dimension);
  const fits = Math.floor(sampleBytes / (stride * 4 * ROW_TILE)) * ROW_TILE;
  const count = Math.min(total, Math.max(params.nLists, fits));
  // Its own stream, so that drawing the sample leaves the run's draws as they would be.
  const picks = count === total ? null : sampleIndices(createRandom(((params.seed ?? DEFAULT_SEED) ^ 0x5a3c_96e1) >>> 0), total, count).sort();
  const heap = new KernelHeap({ bytes: paddedRowsBytes(count, dimension), kernels });
  const into = heap.f32;
  let chunk = 0;
  let chunkStart = 0;
  for (let i = 0; i < count; i++) {
    const row = picks === null ? i : picks[i];
    while (row >= chunkStart + chunks[chunk].count) chunkStart += chunks[chunk++].count;
    const { heap: from, ptr } = chunks[chunk];
    const at = (ptr >> 2) + (row - chunkStart) * stride;
    into.set(from.f32.subarray(at, at + stride), i * stride);
  }
  return { heap, ptr: 0, count, dimension };
}
