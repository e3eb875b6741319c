// Background threads give way to the one that answers queries: a thread lowers its own nice
// value and no other's, and the training worker runs at TRAINING_THREAD_NICE.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trainInWorker } from '../../src/engine/train-in-worker.js';
import { TRAINING_THREAD_NICE } from '../../src/engine/training-worker-protocol.js';
import { spawnSiblingWorker } from '../../src/runtime/spawn-worker.js';
import { currentThreadId } from '../../src/runtime/thread-priority.js';
import { randomVectors } from '../engine/helpers.js';

const linux = existsSync('/proc/thread-self');
/** A thread's nice value: field 19 of its stat line, counted after the parenthesised name. */
const niceOf = (thread: number): number => Number(readFileSync(`/proc/self/task/${thread}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
const threadNices = (): number[] => readdirSync('/proc/self/task').map((thread) => niceOf(Number(thread)));

describe.skipIf(!linux)('thread priority (Linux)', () => {
  it('lowers the calling thread only', async () => {
    const self = currentThreadId();
    expect(self).not.toBeNull();
    const before = niceOf(self as number);
    const worker = spawnSiblingWorker(import.meta.url, 'fixtures/lowered-thread');
    const { lowered, thread } = await new Promise<{ lowered: boolean; thread: number }>((resolve) => worker.once('message', resolve));
    try {
      expect(lowered).toBe(true);
      expect(thread).not.toBe(self);
      expect(niceOf(thread)).toBe(7);
      expect(niceOf(self as number)).toBe(before);
    } finally {
      await worker.terminate();
    }
  });

  it('runs training on a thread at TRAINING_THREAD_NICE', async () => {
    const before = threadNices().filter((nice) => nice === TRAINING_THREAD_NICE).length;
    const dimension = 8;
    const result = await trainInWorker([randomVectors(400, dimension, 5)], dimension, 'squared_euclidean', { nLists: 4, batchSize: 400, maxIters: 5, tolerance: 1e-4, seed: 1 });
    expect(result.nLists).toBe(4);
    // The worker stays for the next run (one is kept idle), at the nice it set itself.
    expect(threadNices().filter((nice) => nice === TRAINING_THREAD_NICE).length).toBeGreaterThan(before);
    expect(niceOf(currentThreadId() as number)).toBe(0);
  });
});
