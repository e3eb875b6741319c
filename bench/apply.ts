// Apply benchmark: how long the thread that serves queries is blocked while a trained model is
// swapped in, with the lists rebuilt on that thread in steps (the previous way) against lists laid
// out by the training worker and only adopted there. Measured as the service drives it: each step
// resumed from setImmediate, with monitorEventLoopDelay sampling the loop throughout.
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DEFAULT_TRAIN_PARAMS, IvfIndex, trainInWorker, type ModelAssignment, type TrainResult } from '../src/engine/index.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';
import { table } from './bench-table.js';
import { embeddingLikeData } from './data/embedding-like.js';

export interface ApplyBenchOptions {
  vectors: number;
  dimension: number;
  nLists: number;
  /** Vectors written between the snapshot and the swap (replayed onto the new lists). */
  writes: number;
  seed: number;
}

const USAGE = 'apply section: [--vectors N] [--dimension N] [--lists N] [--writes N]';

export function parseApplyArgs(args: string[]): ApplyBenchOptions {
  const { values } = parseArgs({
    args,
    options: { vectors: { type: 'string' }, dimension: { type: 'string' }, lists: { type: 'string' }, writes: { type: 'string' }, help: { type: 'boolean' } },
    strict: false,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  return {
    vectors: positiveIntFlag(values.vectors, 100_000, USAGE),
    dimension: positiveIntFlag(values.dimension, 128, USAGE),
    nLists: positiveIntFlag(values.lists, 256, USAGE),
    writes: values.writes === '0' ? 0 : positiveIntFlag(values.writes, 10_000, USAGE),
    seed: 42,
  };
}

interface Blocking {
  steps: number;
  longestMs: number;
  totalMs: number;
  delayP99Ms: number;
  delayMaxMs: number;
}

/**
 * This process's CPU time in ms. While the swap runs the training worker is idle, so a step's CPU
 * time is this thread's (and its garbage collector's): unlike wall time, it does not count the
 * time other processes of a loaded machine take the core.
 */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Drives the steps from setImmediate as OpenIndex.applyModelInSlices does, timing each synchronous slice in CPU time. */
async function drive(index: IvfIndex, model: TrainResult, assignment: ModelAssignment): Promise<Blocking> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  let longest = 0;
  let total = 0;
  let steps = 0;
  const generator = index.applyModelInSteps(model, assignment);
  for (;;) {
    const start = cpuMs();
    const done = generator.next().done === true;
    const slice = cpuMs() - start;
    longest = Math.max(longest, slice);
    total += slice;
    steps++;
    if (done) break;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Let the histogram take a sample after the last slice.
  await new Promise<void>((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  return { steps, longestMs: longest, totalMs: total, delayP99Ms: histogram.percentile(99) / 1e6, delayMaxMs: histogram.max / 1e6 };
}

export async function runApplyBench(options: ApplyBenchOptions): Promise<void> {
  const { vectors: n, dimension: d, nLists, writes } = options;
  console.log(`# Apply benchmark: ${n.toLocaleString('en')} x ${d}, ${nLists} lists, ${writes.toLocaleString('en')} writes between snapshot and swap`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (slices in CPU time; the loop delay is wall time)\n`);
  const data = embeddingLikeData({ count: n + writes, queries: 1, dimension: d, seed: options.seed });
  const ids = Uint32Array.from({ length: n }, (_, i) => i);
  const make = (): IvfIndex => {
    const index = new IvfIndex({ dimension: d, metric: 'squared_euclidean' });
    index.addBatch(ids, data.base.subarray(0, n * d));
    return index;
  };
  const rows: (string | number)[][] = [];
  for (const way of ['rebuilt on this thread, in steps', 'built by the training worker, adopted'] as const) {
    const index = make();
    const snapshot = index.trainingSnapshot();
    const offThread = way !== 'rebuilt on this thread, in steps';
    const model = await trainInWorker(snapshot.vectors, d, 'squared_euclidean', { nLists, ...DEFAULT_TRAIN_PARAMS }, {}, offThread ? { lists: { ids: snapshot.ids, layout: snapshot.layout } } : {});
    // Writes during the run: new ids, replayed onto the new lists by the swap.
    if (writes > 0) index.addBatch(Uint32Array.from({ length: writes }, (_, i) => n + i), data.base.subarray(n * d, (n + writes) * d));
    const blocking = await drive(index, model, { ids: snapshot.ids, lists: model.lists, ...(offThread ? { built: model.built } : {}) });
    if (index.size !== n + writes) throw new Error(`the swap lost vectors: ${index.size} of ${n + writes}`);
    rows.push([
      way,
      blocking.steps,
      blocking.longestMs.toFixed(1),
      blocking.totalMs.toFixed(0),
      blocking.delayP99Ms.toFixed(1),
      blocking.delayMaxMs.toFixed(1),
    ]);
  }
  table(['new lists', 'steps', 'longest slice CPU ms', 'this thread CPU ms', 'loop delay p99 ms', 'loop delay max ms'], rows);
}
