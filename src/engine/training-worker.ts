// Entry point of the training worker thread: runs each job it is sent (k-means over rows in the
// shared memory the job names, then the type's list codec on the same rows, then, when asked, the
// index's new lists laid out in a new shared memory), posting progress
// after every iteration, then the model, or why it stopped. The thread stays for the next job (train-in-worker.ts keeps one idle).
import { parentPort } from 'node:worker_threads';
import { KernelHeap } from './kernel-heap.js';
import { trainListCodec } from './index-types.js';
import { kmeansOnHeap } from './kmeans.js';
import { buildLists } from './list-build.js';
import { rowStride } from './metric.js';
import { STOP_FLAG, type TrainingWorkerTask, type TrainingMessage } from './training-worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('training-worker.ts runs only as a worker thread');
const post = (message: TrainingMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

port.on('message', (job: TrainingWorkerTask) => {
  try {
    const heap = new KernelHeap({ memory: job.memory, kernels: job.kernels });
    const rows = { heap, ptr: job.ptr, count: job.count, dimension: job.dimension };
    const result = kmeansOnHeap(rows, job.params, {
      onProgress: (progress) => post({ type: 'progress', progress }),
      shouldStop: () => Atomics.load(job.control, STOP_FLAG) === 1,
    }, job.initialCentroids);
    const transfer = [result.centroids.buffer as ArrayBuffer, result.lists.buffer as ArrayBuffer];
    if (job.codec) {
      const stride = rowStride(job.dimension);
      const rows = Float64Array.from({ length: job.count }, (_, i) => (job.ptr >> 2) + i * stride);
      const codec = trainListCodec(job.codec, { source: heap.f32, rows, dimension: job.dimension }, job.params.seed);
      if (codec) {
        result.codec = codec;
        transfer.push(codec.buffer as ArrayBuffer);
      }
    }
    if (job.lists) {
      // The lists in the index's layout, so that the index's thread only adopts them.
      const built = buildLists(rows, job.lists.ids, result.lists, result.nLists, job.lists.layout, result.codec, job.kernels);
      result.built = built;
      for (const ids of built.blocks.ids) transfer.push(ids.buffer as ArrayBuffer);
    }
    post({ type: 'done', result }, transfer);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    post({ type: 'failed', name, message });
  }
});
