// Runs k-means, with the final assignment, in a worker_threads worker over shared memory, so the
// thread that serves queries stays responsive while an index trains.
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../runtime/spawn-worker.js';
import { EngineInputError, TrainingAbortedError } from './errors.js';
import type { IndexTypeSpec } from './index-types.js';
import type { ChunkedTrainingOptions } from './chunked-kmeans.js';
import { assertInitialCentroids } from './kmeans.js';
import type { ListLayout } from './list-build.js';
import { assertDimension, assertMetric, type Metric } from './metric.js';
import { chunksOf, placeRows, rowCount, type RowChunks } from './shared-rows.js';
import { assertTrainParams, type TrainParams, type TrainProgress, type TrainResult } from './training-params.js';
import { STOP_FLAG, type TrainingWorkerTask, type TrainingMessage } from './training-worker-protocol.js';

export interface WorkerTrainHooks {
  /** Called after every iteration (and at the start of each phase). */
  onProgress?(progress: TrainProgress): void;
  /** Aborting stops the run between iterations; the promise rejects with TrainingAbortedError. */
  signal?: AbortSignal;
}

/**
 * One finished worker is kept, unreferenced, for IDLE_MS: starting a worker costs hundreds of
 * milliseconds under tsx (it compiles the engine again), a share of a whole training run.
 */
const IDLE_MS = 30_000;
let idle: { worker: Worker; timer: NodeJS.Timeout } | null = null;

function takeWorker(): Worker {
  if (!idle) return spawnSiblingWorker(import.meta.url, 'training-worker');
  const { worker, timer } = idle;
  idle = null;
  clearTimeout(timer);
  worker.ref();
  return worker;
}

function keepWorker(worker: Worker): void {
  if (idle) {
    void worker.terminate();
    return;
  }
  worker.unref();
  const timer = setTimeout(() => {
    if (idle?.worker !== worker) return;
    idle = null;
    void worker.terminate();
  }, IDLE_MS);
  timer.unref();
  idle = { worker, timer };
}

function rebuildError(name: string, message: string): Error {
  if (name === 'TrainingAbortedError') return new TrainingAbortedError(message);
  if (name === 'EngineInputError') return new EngineInputError(message);
  const error = new Error(message);
  error.name = name;
  return error;
}

/**
 * The same job as trainKMeans in a worker thread. Rows that already live in shared kernel memory
 * (an index's trainingSnapshot, one chunk or several) are read in place; other rows are copied
 * there once. With
 * `options.codec` the worker also trains that index type's list codec (result.codec); with
 * `options.lists` (the snapshot's ids and layout) it also lays out the index's new lists
 * (result.built, for applyModel to adopt).
 */
export async function trainInWorker(
  vectors: RowChunks,
  dimension: number,
  metric: Metric,
  params: TrainParams,
  hooks: WorkerTrainHooks = {},
  options: ChunkedTrainingOptions & { codec?: IndexTypeSpec; lists?: { ids: Uint32Array; layout: ListLayout } } = {},
): Promise<TrainResult> {
  assertDimension(dimension);
  assertMetric(metric);
  const count = rowCount(vectors, dimension);
  assertTrainParams(params, count);
  assertInitialCentroids(options.initialCentroids, params.nLists, dimension);
  if (options.lists && options.lists.ids.length !== count) {
    throw new EngineInputError(`lists need one id per row: ${options.lists.ids.length} ids for ${count} rows`);
  }
  const { signal, onProgress } = hooks;
  if (signal?.aborted) throw new TrainingAbortedError();
  const chunks = chunksOf(vectors).map((chunk) => placeRows(chunk, dimension, metric, options.kernels));
  const control = new Int32Array(new SharedArrayBuffer(4));
  const job: TrainingWorkerTask = {
    chunks: chunks.map(({ heap, ptr, count }) => ({ memory: heap.memory, ptr, count })),
    dimension,
    ...(options.sampleBytes !== undefined ? { sampleBytes: options.sampleBytes } : {}),
    params: { ...params },
    kernels: options.kernels ?? 'auto',
    initialCentroids: options.initialCentroids,
    ...(options.codec ? { codec: options.codec } : {}),
    ...(options.lists ? { lists: options.lists } : {}),
    control,
  };
  return new Promise<TrainResult>((resolve, reject) => {
    const worker = takeWorker();
    const stop = (): void => {
      Atomics.store(control, STOP_FLAG, 1);
    };
    // A worker that answered (done or failed) can take the next job; one that broke cannot.
    const settle = (outcome: () => void, reusable: boolean): void => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      signal?.removeEventListener('abort', stop);
      if (reusable) keepWorker(worker);
      else void worker.terminate();
      outcome();
    };
    const onMessage = (message: TrainingMessage): void => {
      if (message.type === 'progress') onProgress?.(message.progress);
      else if (message.type === 'done') settle(() => resolve(message.result), true);
      else settle(() => reject(rebuildError(message.name, message.message)), true);
    };
    const onError = (error: Error): void => settle(() => reject(error), false);
    const onExit = (code: number): void => settle(() => reject(new Error(`training worker exited with code ${code} before finishing`)), false);
    signal?.addEventListener('abort', stop, { once: true });
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
    worker.postMessage(job);
  });
}
