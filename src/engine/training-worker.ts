// Entry point of the training worker thread: runs each job it is sent (k-means over rows in the
// shared memories the job names, then the type's list codec on the rows the centroids trained on,
// then, when asked, the index's new lists laid out in new shared memories), posting progress after
// every iteration, then the model, or why it stopped. The thread stays for the next job
// (train-in-worker.ts keeps one idle).
import { parentPort } from 'node:worker_threads';
import { KernelHeap } from './kernel-heap.js';
import { trainListCodec } from './index-types.js';
import { kmeansOnChunks } from './chunked-kmeans.js';
import { buildLists } from './list-build.js';
import { rowStride } from './metric.js';
import { STOP_FLAG, TRAINING_THREAD_NICE, type TrainingWorkerTask, type TrainingMessage } from './training-worker-protocol.js';
import { lowerThreadPriority } from '../runtime/thread-priority.js';

const port = parentPort;
if (!port) throw new Error('training-worker.ts runs only as a worker thread');
const post = (message: TrainingMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);
// A run takes a whole core: where cores are contended, the threads that serve requests go first.
lowerThreadPriority(TRAINING_THREAD_NICE);

port.on('message', (job: TrainingWorkerTask) => {
  try {
    const { dimension, kernels } = job;
    const chunks = job.chunks.map(({ memory, ptr, count }) => ({ heap: new KernelHeap({ memory, kernels }), ptr, count, dimension }));
    const { result, sample } = kmeansOnChunks(chunks, job.params, {
      onProgress: (progress) => post({ type: 'progress', progress }),
      shouldStop: () => Atomics.load(job.control, STOP_FLAG) === 1,
    }, { initialCentroids: job.initialCentroids, sampleBytes: job.sampleBytes, kernels });
    const transfer = [result.centroids.buffer as ArrayBuffer, result.lists.buffer as ArrayBuffer];
    if (job.codec) {
      const stride = rowStride(dimension);
      const rows = Float64Array.from({ length: sample.count }, (_, i) => (sample.ptr >> 2) + i * stride);
      const codec = trainListCodec(job.codec, { source: sample.heap.f32, rows, dimension }, result.centroids, job.params.seed);
      if (codec) {
        result.codec = codec;
        transfer.push(codec.buffer as ArrayBuffer);
      }
    }
    if (job.lists) {
      // The lists in the index's layout, so that the index's thread only adopts them.
      const built = buildLists(chunks, job.lists.ids, result.lists, result, job.lists.layout, kernels);
      result.built = built;
      for (const ids of built.blocks.ids) transfer.push(ids.buffer as ArrayBuffer);
    }
    post({ type: 'done', result }, transfer);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    post({ type: 'failed', name, message });
  }
});
