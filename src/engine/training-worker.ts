// Entry point of the training worker thread: runs each job it is sent (k-means over rows in the
// shared memory the job names, then the type's list codec on the same rows), posting progress
// after every iteration, then the model, or why it stopped. The thread stays for the next job (train-in-worker.ts keeps one idle).
import { parentPort } from 'node:worker_threads';
import { KernelHeap } from './kernel-heap.js';
import { trainListCodec } from './index-types.js';
import { kmeansOnHeap } from './kmeans.js';
import { rowStride } from './metric.js';
import { STOP_FLAG, type TrainingWorkerTask, type TrainingMessage } from './training-worker-protocol.js';

const port = parentPort;
if (!port) throw new Error('training-worker.ts runs only as a worker thread');
const post = (message: TrainingMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

port.on('message', (job: TrainingWorkerTask) => {
  try {
    const heap = new KernelHeap({ memory: job.memory, kernels: job.kernels });
    const result = kmeansOnHeap({ heap, ptr: job.ptr, count: job.count, dimension: job.dimension }, job.params, {
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
    post({ type: 'done', result }, transfer);
  } catch (error) {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    post({ type: 'failed', name, message });
  }
});
