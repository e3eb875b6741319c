// Entry point of the training worker thread: k-means over rows in the shared memory it is
// handed, posting progress after every iteration, then the model, or why it stopped.
import { parentPort, workerData } from 'node:worker_threads';
import { KernelHeap } from './kernel-heap.js';
import { kmeansOnHeap } from './kmeans.js';
import { STOP_FLAG, type TrainingJob, type TrainingMessage } from './training-worker-protocol.js';

const job = workerData as TrainingJob;
const port = parentPort;
if (!port) throw new Error('training-worker.ts runs only as a worker thread');
const post = (message: TrainingMessage, transfer: ArrayBuffer[] = []): void => port.postMessage(message, transfer);

try {
  const heap = new KernelHeap({ memory: job.memory, kernels: job.kernels });
  const result = kmeansOnHeap({ heap, ptr: job.ptr, count: job.count, dimension: job.dimension }, job.params, {
    onProgress: (progress) => post({ type: 'progress', progress }),
    shouldStop: () => Atomics.load(job.control, STOP_FLAG) === 1,
  }, job.initialCentroids);
  post({ type: 'done', result }, [result.centroids.buffer as ArrayBuffer, result.lists.buffer as ArrayBuffer]);
} catch (error) {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  post({ type: 'failed', name, message });
}
