// Engine benchmark: k-means training against a full Lloyd reference, recall and speed of IVF
// search for every power-of-two nProbes, memory per vector, and the raw rate of both kernel paths,
// on seeded embedding-like data (bench/data/embedding-like.ts) with exact-search ground truth; then
// the same search table at 784 dimensions on pixel-like images (bench/data/pixel-like.ts).
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import {
  DEFAULT_TRAIN_PARAMS,
  defaultNLists,
  IvfIndex,
  kernelInfo,
  trainInWorker,
  trainKMeans,
  type EngineSearchResult,
  type TrainResult,
} from '../src/engine/index.js';
import { KernelHeap } from '../src/engine/kernel-heap.js';
import { NEAREST_BLOCK } from '../src/engine/kernels.js';
import { meanRecall, table } from './bench-table.js';
import { embeddingLikeData } from './data/embedding-like.js';
import { pixelLikeData } from './data/pixel-like.js';

export interface EngineBenchOptions {
  vectors: number;
  queries: number;
  dimension: number;
  nLists: number;
  topK: number;
  /** Iterations of the full-data Lloyd reference (0 skips it). */
  lloydIters: number;
  /** Timed repetitions of each training run (the median is reported). */
  trainRuns: number;
  seed: number;
  /** Images in the 784-d pixel-like case (0 skips it); its lists follow the default rule. */
  pixelVectors: number;
  /** Where to write the base vectors (raw float32) for the Faiss comparison, if anywhere. */
  exportVectors?: string;
}

export const DEFAULT_ENGINE_BENCH: EngineBenchOptions = {
  vectors: 100_000,
  queries: 1_000,
  dimension: 128,
  nLists: 256,
  topK: 10,
  lloydIters: 50,
  trainRuns: 3,
  seed: 42,
  pixelVectors: 20_000,
};

const USAGE = `engine section: [--vectors N] [--queries N] [--lists N] [--lloyd-iters N] [--train-runs N] [--pixel-vectors N] [--large] [--export-vectors=FILE]
  --large           1,000,000 vectors, 1,024 lists, no Lloyd reference (it takes minutes per iteration)
  --export-vectors  also write the base vectors as raw little-endian float32 rows to FILE, for
                    bench/faiss-training.py (Faiss's training time on the same data and machine)`;

export function parseEngineArgs(args: string[]): EngineBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string' },
      queries: { type: 'string' },
      lists: { type: 'string' },
      'lloyd-iters': { type: 'string' },
      'train-runs': { type: 'string' },
      'pixel-vectors': { type: 'string' },
      large: { type: 'boolean' },
      'export-vectors': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const options = values.large ? { ...DEFAULT_ENGINE_BENCH, vectors: 1_000_000, nLists: 1024, lloydIters: 0 } : { ...DEFAULT_ENGINE_BENCH };
  const int = (raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`expected a non-negative integer, got ${raw}\n${USAGE}`);
    return value;
  };
  options.vectors = int(values.vectors, options.vectors);
  options.queries = int(values.queries, options.queries);
  options.nLists = int(values.lists, options.nLists);
  options.lloydIters = int(values['lloyd-iters'], options.lloydIters);
  options.trainRuns = Math.max(1, int(values['train-runs'], options.trainRuns));
  options.pixelVectors = int(values['pixel-vectors'], options.pixelVectors);
  options.exportVectors = values['export-vectors'];
  return options;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** This process's CPU time in ms: on a shared machine, steadier than wall time for same-thread work. */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Timed runs of `train`, reporting the median one (wall time, and this thread's CPU time). */
async function timedTraining(runs: number, train: () => Promise<TrainResult> | TrainResult): Promise<{ result: TrainResult; ms: number; cpu: number }> {
  const timings: { result: TrainResult; ms: number; cpu: number }[] = [];
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    const cpuStart = cpuMs();
    const result = await train();
    timings.push({ result, ms: performance.now() - start, cpu: cpuMs() - cpuStart });
  }
  timings.sort((a, b) => a.ms - b.ms);
  return timings[Math.floor(timings.length / 2)];
}

function kernelRates(dimension: number): (string | number)[][] {
  const rows: (string | number)[][] = [];
  const n = 4096;
  const k = 256;
  const rowBytes = Math.ceil(dimension / 4) * 16;
  for (const choice of ['simd', 'plain'] as const) {
    if (choice === 'simd' && !kernelInfo().simd) {
      rows.push(['simd', 'unavailable', '', '', '', '', '']);
      continue;
    }
    // rows, centroids, queries, then outputs: every kernel below stays inside its region
    const centroids = n * rowBytes;
    const queries = centroids + k * rowBytes;
    const out = queries + 16 * rowBytes;
    const cnorms = out + 16 * 512 * 4 + n * 4;
    const labels = cnorms + k * 4;
    const best = labels + n * 4;
    const scratch = best + n * 4;
    const heap = new KernelHeap({ kernels: choice, bytes: scratch + NEAREST_BLOCK * k * 4 });
    // int8 codes reuse the rows region (any bytes will do for a rate), int16 queries the query one
    const codeBytes = Math.ceil(dimension / 16) * 16;
    for (let i = 0; i < queries >> 2; i++) heap.f32[i] = Math.sin(i);
    for (let j = 0; j < k; j++) heap.f32[(cnorms >> 2) + j] = 1;
    // Bursts of about 10 ms; the median burst is the rate, the best one what the machine allows unshared.
    const rate = (pairs: number, run: () => void): { median: number; best: number } => {
      const reps = Math.max(1, Math.round(1e6 / pairs / (choice === 'plain' ? 8 : 1)));
      const rates: number[] = [];
      for (let burst = 0; burst < 25; burst++) {
        const start = performance.now();
        for (let r = 0; r < reps; r++) run();
        rates.push((reps * pairs) / ((performance.now() - start) / 1000));
      }
      return { median: median(rates), best: Math.max(...rates) };
    };
    const single = rate(n, () => heap.kernels.dotRows(queries, 0, n, rowBytes, out));
    const block = rate(16 * 512, () => heap.kernels.dotBlock(queries, 16, 0, 512, rowBytes, out, 512));
    const nearest = rate(1024 * k, () => heap.kernels.nearest(0, 1024, centroids, k, rowBytes, cnorms, labels, best, scratch));
    const singleI8 = rate(n, () => heap.kernels.dotRowsI8(queries, 0, n, codeBytes, out));
    const blockI8 = rate(16 * 512, () => heap.kernels.dotBlockI8(queries, 16, 0, 512, codeBytes, out, 512));
    // int16 rows (the rows region read as int16, half a float row each) against int16 centroids
    // (the first k of them): what k-means assigns with; the second-best scores go to `out`.
    const i16Bytes = Math.ceil((rowBytes / 2) / 16) * 16;
    const nearestI16 = rate(1024 * k, () => heap.kernels.nearestI16(0, 1024, 0, k, i16Bytes, cnorms, 1e-6, labels, best, out, scratch));
    const m = (r: { median: number; best: number }): string => `${(r.median / 1e6).toFixed(1)} (${(r.best / 1e6).toFixed(1)})`;
    rows.push([choice, m(single), m(block), m(nearest), m(nearestI16), m(singleI8), m(blockI8)]);
  }
  return rows;
}

const SEARCH_HEADER = ['nProbes', 'recall@10', 'QPS single', 'QPS batched', 'batch x', 'p50 ms', 'p99 ms', 'recall batched', 'bytes/vector'];

/** One table row per nProbes: recall and speed of single and batched search against `truth`. */
function searchRows(
  index: IvfIndex, queries: Float32Array, truth: EngineSearchResult[], probeCounts: number[], options: Pick<EngineBenchOptions, 'dimension' | 'topK' | 'queries'>,
): (string | number)[][] {
  const { dimension: d, topK, queries: queryCount } = options;
  const bytesPerVector = index.memoryBytes() / index.size;
  const query = (q: number): Float32Array => queries.subarray(q * d, (q + 1) * d);
  const rows: (string | number)[][] = [];
  for (const nProbes of probeCounts) {
    const latencies: number[] = [];
    const found: EngineSearchResult[] = [];
    for (let q = 0; q < Math.min(50, queryCount); q++) index.search(query(q), { topK, nProbes }); // warm-up
    let batched = index.searchBatch(queries, { topK, nProbes }); // warm-up: a whole batch, so the JIT has optimised it
    // Passes of each alternate and each side reports its median pass, so that a burst of other
    // work on the machine lands on one pass of one side, not on the whole of one side's measure.
    const singleRuns: number[] = [];
    const batchRuns: number[] = [];
    for (let r = 0; r < 3; r++) {
      const singleStart = performance.now();
      for (let q = 0; q < queryCount; q++) {
        const t = performance.now();
        const result = index.search(query(q), { topK, nProbes });
        latencies.push(performance.now() - t);
        if (r === 0) found.push(result);
      }
      singleRuns.push(queryCount / ((performance.now() - singleStart) / 1000));
      const t = performance.now();
      batched = index.searchBatch(queries, { topK, nProbes });
      batchRuns.push(queryCount / ((performance.now() - t) / 1000));
    }
    const singleQps = median(singleRuns);
    rows.push([
      nProbes,
      meanRecall(found, truth).toFixed(4),
      Math.round(singleQps).toLocaleString('en'),
      Math.round(median(batchRuns)).toLocaleString('en'),
      (median(batchRuns) / singleQps).toFixed(2),
      percentile(latencies, 50).toFixed(3),
      percentile(latencies, 99).toFixed(3),
      meanRecall(batched, truth).toFixed(4),
      Math.round(bytesPerVector),
    ]);
  }
  return rows;
}

export async function runEngineBench(options: EngineBenchOptions = DEFAULT_ENGINE_BENCH): Promise<void> {
  const { vectors: n, dimension: d, nLists, topK } = options;
  console.log(`# Engine benchmark: ${n.toLocaleString('en')} x ${d}, ${options.queries} queries, ${nLists} lists, top ${topK}`);
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x ${cpus().length}, SIMD kernels: ${kernelInfo().simd}`);
  console.log(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (a shared machine makes every time below noisy)\n`);

  let start = performance.now();
  const data = embeddingLikeData({ count: n, queries: options.queries, dimension: d, seed: options.seed });
  console.log(`data generated in ${((performance.now() - start) / 1000).toFixed(1)} s`);
  if (options.exportVectors !== undefined) {
    writeFileSync(options.exportVectors, new Uint8Array(data.base.buffer, data.base.byteOffset, data.base.byteLength));
    console.log(`base vectors written to ${options.exportVectors} (${n} x ${d} float32)`);
  }
  const ids = Uint32Array.from({ length: n }, (_, i) => i);
  const index = new IvfIndex({ dimension: d, metric: 'squared_euclidean' });
  start = performance.now();
  index.addBatch(ids, data.base);
  const addMs = performance.now() - start;
  start = performance.now();
  const truth = index.searchBatch(data.queries, { topK });
  const truthMs = performance.now() - start;
  console.log(`added in ${(addMs / 1000).toFixed(2)} s (${Math.round(n / (addMs / 1000)).toLocaleString('en')} vectors/s); exact ground truth in ${(truthMs / 1000).toFixed(2)} s\n`);

  // Training: on the index's snapshot (shared memory, read in place), as the service does.
  const snapshot = index.trainingSnapshot();
  const params = { nLists, ...DEFAULT_TRAIN_PARAMS };
  const sameThread = await timedTraining(options.trainRuns, () => trainKMeans(snapshot.vectors, d, 'squared_euclidean', params));
  const worker = await timedTraining(options.trainRuns, () => trainInWorker(snapshot.vectors, d, 'squared_euclidean', params));
  const trainingRows: (string | number)[][] = [];
  const describe = (name: string, run: { result: TrainResult; ms: number; cpu: number }, reference?: TrainResult, sameThread = true): (string | number)[] => [
    name,
    (run.ms / 1000).toFixed(2),
    sameThread ? (run.cpu / 1000).toFixed(2) : '',
    run.result.iterations,
    run.result.converged ? 'yes' : 'no',
    run.result.inertia.toExponential(4),
    reference ? `${(((run.result.inertia - reference.inertia) / reference.inertia) * 100).toFixed(2)}%` : '',
  ];
  let lloyd: { result: TrainResult; ms: number; cpu: number } | undefined;
  if (options.lloydIters > 0) {
    lloyd = await timedTraining(1, () => trainKMeans(snapshot.vectors, d, 'squared_euclidean', { nLists, batchSize: n, maxIters: options.lloydIters, tolerance: DEFAULT_TRAIN_PARAMS.tolerance }));
  }
  trainingRows.push(describe(`mini-batch ${params.batchSize}, at most ${params.maxIters} iterations, same thread`, sameThread, lloyd?.result));
  trainingRows.push(describe('same, in a worker (the first run starts it)', worker, lloyd?.result, false));
  if (lloyd) trainingRows.push(describe(`full-data Lloyd (max ${options.lloydIters} iterations)`, lloyd));
  console.log(`## Training, ${nLists} lists (median of ${options.trainRuns} runs; both seeded with greedy k-means++)`);
  table(['run', 'seconds', 'CPU s', 'iterations', 'converged', 'inertia', 'vs Lloyd'], trainingRows);

  start = performance.now();
  index.applyModel(sameThread.result, { ids: snapshot.ids, lists: sameThread.result.lists });
  console.log(`applyModel (rebuild ${nLists} lists and their int8 codes) in ${((performance.now() - start) / 1000).toFixed(2)} s\n`);
  const probeCounts: number[] = [];
  for (let p = 1; p < nLists; p *= 2) probeCounts.push(p);
  probeCounts.push(nLists);
  console.log(`## Search, top ${topK}, single thread, int8 pre-scan + exact re-rank (the default)`);
  console.log(`single: one query per call; batched: ${options.queries} queries per call, median of 3`);
  table(SEARCH_HEADER, searchRows(index, data.queries, truth, probeCounts, options));

  const plain = new IvfIndex({ dimension: d, metric: 'squared_euclidean', prescan: false });
  plain.addBatch(ids, data.base);
  plain.applyModel(sameThread.result, { ids: snapshot.ids, lists: sameThread.result.lists });
  console.log('## Same lists, f32 rows scanned directly (prescan: false)');
  table(SEARCH_HEADER, searchRows(plain, data.queries, truth, probeCounts.filter((p) => p >= 4 && p <= 64), options));

  console.log('## Kernels, million vectors (pairs) per second: median burst (best burst)');
  table(['path', 'dotRows (1 query)', 'dotBlock (16 queries)', 'nearest (f32)', 'nearestI16 (training)', 'dotRowsI8 (1 query)', 'dotBlockI8 (16 queries)'], kernelRates(d));
  console.log(`(${d} dimensions; the I8 kernels read int8 codes, a quarter of the bytes; caches are warm in these loops,`);
  console.log(' while the search tables stream lists from memory)');
  if (options.pixelVectors > 0) pixelSearch(options);
}

/** The search table at 784 dimensions: Fashion-MNIST-shaped images, where rows are 6x longer. */
function pixelSearch(options: EngineBenchOptions): void {
  const n = options.pixelVectors;
  const data = pixelLikeData({ count: n, queries: options.queries, seed: options.seed });
  const d = data.dimension;
  const nLists = defaultNLists(n);
  const index = new IvfIndex({ dimension: d, metric: 'squared_euclidean' });
  index.addBatch(Uint32Array.from({ length: n }, (_, i) => i), data.base);
  const truth = index.searchBatch(data.queries, { topK: options.topK });
  const snapshot = index.trainingSnapshot();
  const model = trainKMeans(snapshot.vectors, d, 'squared_euclidean', { nLists, ...DEFAULT_TRAIN_PARAMS });
  index.applyModel(model, { ids: snapshot.ids, lists: model.lists });
  const probeCounts: number[] = [];
  for (let p = 1; p < nLists; p *= 2) probeCounts.push(p);
  console.log(`\n## Search at ${d} dimensions: ${n.toLocaleString('en')} pixel-like images (28 x 28, values in [0, 1]), ${nLists} lists, ${options.queries} queries`);
  console.log(`trained in ${(model.elapsedMs / 1000).toFixed(2)} s, ${model.iterations} iterations (${model.converged ? 'converged' : 'not converged'})`);
  table(SEARCH_HEADER, searchRows(index, data.queries, truth, probeCounts, { dimension: d, topK: options.topK, queries: options.queries }));
}
