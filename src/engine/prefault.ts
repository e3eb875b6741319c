// Touches every page of new shared memories from a worker thread, so that the thread serving
// queries does not take the page faults of a large copy into them: on this project's VMs a first
// write to fresh memory costs about 3 s per GiB (pages seem to be backed as they are touched), a
// write to touched memory 0.07 s.
import { Worker } from 'node:worker_threads';
import { memoriesOf } from './shared-rows.js';

/** 32-bit words per 4 KiB page. */
const PAGE_WORDS = 1024;

// Plain JavaScript, evaluated: no module to load, so the thread starts in a few milliseconds.
const TOUCHER = `
const { parentPort } = require('node:worker_threads');
parentPort.once('message', (memories) => {
  for (const memory of memories) {
    // An atomic or with 0 writes each page without changing what it holds. From the top down: a
    // caller filling the memory from the bottom meanwhile (an import streaming its lists) meets
    // this thread once, instead of both faulting the same pages.
    const words = new Int32Array(memory.buffer);
    for (let i = words.length - ${PAGE_WORDS}; i >= 0; i -= ${PAGE_WORDS}) Atomics.or(words, i, 0);
  }
  parentPort.postMessage('done');
});
`;

/** Resolves once every page of `memories` has been written by another thread. */
export function prefault(memories: readonly WebAssembly.Memory[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(TOUCHER, { eval: true });
    worker.once('message', () => {
      void worker.terminate();
      resolve();
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the prefault thread exited (${code}) before finishing`)));
    worker.postMessage(memories);
  });
}

/** prefault for the memories of row chunks from allocateSharedRowChunks (an allocateSnapshot). */
export function prefaultRows(chunks: readonly Float32Array[]): Promise<void> {
  return prefault(memoriesOf(chunks));
}
