// What the training worker is handed and what it posts back (see train-in-worker.ts).
import type { IndexTypeSpec } from './index-types.js';
import type { KernelChoice } from './kernels.js';
import type { ListLayout } from './list-build.js';
import type { TrainParams, TrainProgress, TrainResult } from './training-params.js';

export interface TrainingWorkerTask {
  /**
   * The rows, in order, as chunks in shared memories (usually one); the worker reserves its
   * working space at the end of each memory it works in.
   */
  chunks: { memory: WebAssembly.Memory; ptr: number; count: number }[];
  dimension: number;
  /** Most bytes of rows the centroids train on when there are several chunks (chunked-kmeans.ts). */
  sampleBytes?: number;
  params: TrainParams;
  kernels: KernelChoice;
  initialCentroids?: Float32Array;
  /** The index type whose list codec is trained on the same rows after the centroids. */
  codec?: IndexTypeSpec;
  /** With the snapshot's ids and the index's layout, the worker also builds the new lists (result.built). */
  lists?: { ids: Uint32Array; layout: ListLayout };
  /** control[STOP_FLAG] becomes 1 when the caller wants the run to stop. */
  control: Int32Array;
}

export const STOP_FLAG = 0;

/** The training thread's nice value: below the threads that serve queries, which keep nice 0. */
export const TRAINING_THREAD_NICE = 10;

export type TrainingMessage =
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'done'; result: TrainResult }
  | { type: 'failed'; name: string; message: string };
