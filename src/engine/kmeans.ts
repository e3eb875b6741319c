// k-means for the coarse quantizer: greedy k-means++ seeding on a sample, mini-batch updates
// with per-centroid learning rates (full Lloyd steps when one batch covers the data), repair of
// empty clusters, then the assignment of every row to its nearest centroid.
import { EngineInputError, TrainingAbortedError } from './errors.js';
import { alignUp } from './kernel-heap.js';
import { NEAREST_BLOCK, ROW_TILE, type KernelChoice } from './kernels.js';
import { assertDimension, assertMetric, rowStride, type Metric } from './metric.js';
import { createRandom, DEFAULT_SEED, randomInt, sampleIndices, type Random } from './random.js';
import { paddedRowsBytes, rowsPerChunk, type HeapRows } from './shared-rows.js';
import { TopK } from './top-k.js';
import { assertTrainParams, DEFAULT_TRAIN_PARAMS, type TrainParams, type TrainProgress, type TrainResult } from './training-params.js';

export interface TrainHooks {
  onProgress?(progress: TrainProgress): void;
  /** Asked between iterations; true stops the run with TrainingAbortedError. */
  shouldStop?(): boolean;
}

/** Seeding samples this many rows per centroid (at least SEED_ROWS_MIN, at most all rows). */
const SEED_ROWS_PER_LIST = 20;
const SEED_ROWS_MIN = 4096;

function seedRowCount(count: number, nLists: number): number {
  return Math.min(count, Math.max(SEED_ROWS_MIN, nLists * SEED_ROWS_PER_LIST));
}

/**
 * Mini-batch forgetting: before each batch, every centroid's count of rows seen is scaled by
 * 1 - batch / window, so a centroid is the mean of roughly the rows it won in the last `window`
 * rows: 1 / FORGETTING of an epoch, but at least WINDOW_ROWS_PER_LIST rows per list so that small
 * data does not make centroids noisy. Plain mini-batch k-means (no forgetting) keeps averaging
 * in rows won early, far from where the centroid has moved since: on the benchmark data, after
 * the default 100 batches, it ended 4.6% above a 60-iteration Lloyd; with forgetting (and greedy
 * seeding, and relocation of centroids that stop winning rows), 1.2%.
 */
const FORGETTING = 5;
const WINDOW_ROWS_PER_LIST = 64;

function forgettingWindow(count: number, nLists: number): number {
  return Math.max(count / FORGETTING, nLists * WINDOW_ROWS_PER_LIST);
}

const tile = (rows: number, to: number = ROW_TILE): number => Math.ceil(rows / to) * to;

/**
 * Mini-batch stopping, scikit-learn's MiniBatchKMeans rule: a batch's inertia and shift are
 * noisy (sampling alone keeps the shift near 1e-3 on embedding-like data), so both are smoothed
 * by an exponentially weighted average, and a run has converged when the smoothed shift falls to
 * `tolerance` or when the smoothed inertia has not reached a new minimum for this many batches in
 * a row: the centroids then only wander within the sampling noise. Tolerance 0 turns both off, so
 * that a caller can ask for every iteration. scikit-learn weighs a batch by 2 x batch / rows; here
 * the weight is batch / forgetting window, the span the centroids average over, since with the
 * former's longer memory the average still fell for 100+ batches after the centroids had settled.
 * On the benchmark data (100,000 x 128, 256 lists) runs stop after 75-92 batches, 1.2-1.6% above
 * full Lloyd (patience 5: 46-70 batches, 1.7-2.2%).
 */
export const NO_IMPROVEMENT_PATIENCE = 10;

/** Candidates per greedy k-means++ step: 2 + ln k, scikit-learn's choice. */
function seedTrials(nLists: number): number {
  return 2 + Math.floor(Math.log(nLists));
}

/** Rows quantized at a time for the final assignment (mini-batch steps quantize their batch). */
const ASSIGN_CHUNK = 4096;

/** Bytes of a row as int16 (whole 16-byte lanes). */
const i16RowBytes = (dimension: number): number => alignUp(rowStride(dimension) * 2, 16);

/**
 * The largest int16 magnitude rows and centroids are scaled to: d of them multiplied and summed
 * (in four i32 lanes, then across them) stays below 2^31, so the integer dot product is exact.
 * 4,095 at 128 dimensions, 1,654 at 784: a relative error near 1e-4 per coordinate.
 */
function i16Limit(dimension: number): number {
  return Math.min(32_766, Math.floor(Math.sqrt((2 ** 31 - 1) / (i16RowBytes(dimension) / 2))) - 1);
}

/**
 * Where a run keeps its working state in the heap, after the rows it trains on. A run that only
 * assigns rows to given centroids (`assignOnly`) needs no batch, seeding or sums.
 */
function scratchLayout(count: number, dimension: number, nLists: number, batchSize: number, assignOnly = false) {
  const rowBytes = rowStride(dimension) * 4;
  const batch = assignOnly || batchSize >= count ? 0 : tile(batchSize);
  const quantRows = Math.max(batch, tile(Math.min(count, ASSIGN_CHUNK)));
  const seed = assignOnly ? 0 : tile(seedRowCount(count, nLists));
  const trials = assignOnly ? 0 : tile(seedTrials(nLists), 4);
  const sizes = {
    centroids: tile(nLists) * rowBytes,
    centroidNorms: tile(nLists) * 4,
    rowNorms: tile(count) * 4,
    labels: tile(count) * 4,
    best: tile(count) * 4,
    nearestScratch: NEAREST_BLOCK * tile(nLists) * 4,
    sums: assignOnly ? 0 : nLists * rowBytes * 2,
    batchRows: batch * rowBytes,
    batchIndices: batch * 4,
    seedRows: seed * rowBytes,
    seedCandidateRows: trials * rowBytes,
    seedDots: trials * seed * 4,
    seedNorms: seed * 4,
    seedClosest: seed * 4,
    quantRows: quantRows * i16RowBytes(dimension),
    quantCentroids: tile(nLists) * i16RowBytes(dimension),
    second: quantRows * 4,
  };
  const offsets = {} as Record<keyof typeof sizes, number>;
  let total = 0;
  for (const key of Object.keys(sizes) as (keyof typeof sizes)[]) {
    offsets[key] = total;
    total += alignUp(sizes[key]);
  }
  return { offsets, total };
}

/**
 * Most bytes of rows the centroids of a run over several chunks train on (chunked-kmeans.ts): 1 GiB,
 * about 350,000 rows at 768 dimensions. Faiss trains IVF centroids on at most 256 rows per list,
 * and a default mini-batch run sees at most maxIters x batchSize rows (204,800) in all.
 */
export const DEFAULT_SAMPLE_BYTES = 2 ** 30;

/**
 * Memory one training run of `vectorCount` rows needs at its peak with the default batch size:
 * the snapshot of the rows and their ids, the run's working state in the kernel heap and in
 * JS arrays (for a snapshot in several chunks: the sample the centroids train on, and each chunk's
 * assignment state), its result, the new lists the worker lays out (at most float32 rows with
 * their norms and int8 codes, plus list-build.ts's headroom), and about 48 MiB for the worker
 * thread's own runtime.
 */
export function estimateTrainingBytes(vectorCount: number, dimension: number, nLists: number): number {
  const n = Math.max(1, Math.ceil(vectorCount));
  const k = Math.max(1, Math.ceil(nLists));
  const snapshot = paddedRowsBytes(n, dimension) + n * 4;
  const chunked = n > rowsPerChunk(dimension);
  const trainRows = chunked ? Math.min(n, Math.max(k, Math.floor(DEFAULT_SAMPLE_BYTES / (rowStride(dimension) * 4)))) : n;
  const sample = chunked ? paddedRowsBytes(trainRows, dimension) + n * 12 : 0;
  const scratch = scratchLayout(trainRows, dimension, k, DEFAULT_TRAIN_PARAMS.batchSize).total;
  const arrays = trainRows * 4 /* shuffled order */ + k * 16 /* counts */;
  const result = n * 4 + k * dimension * 4;
  const lists = Math.ceil(n * 1.125) * (rowStride(dimension) * 4 + 4 + Math.ceil(dimension / 16) * 16 + 4);
  return snapshot + sample + scratch + arrays + result + lists + 48 * 2 ** 20;
}

export interface KMeansOptions {
  kernels?: KernelChoice;
  /** Start from these nLists x dimension centroids instead of seeding (a warm start). */
  initialCentroids?: Float32Array;
}

export function assertInitialCentroids(centroids: Float32Array | undefined, nLists: number, dimension: number): void {
  if (centroids === undefined) return;
  if (!(centroids instanceof Float32Array) || centroids.length !== nLists * dimension || !centroids.every(Number.isFinite)) {
    throw new EngineInputError(`initialCentroids must be ${nLists} x ${dimension} finite floats`);
  }
}

/** k-means over rows already in a kernel heap (validated, normalised for cosine). */
export function kmeansOnHeap(rows: HeapRows, params: TrainParams, hooks: TrainHooks = {}, initialCentroids?: Float32Array): TrainResult {
  return new KMeansRun(rows, params, hooks, initialCentroids).run();
}

/**
 * k-means on `sample`, rows drawn from `population` rows that live elsewhere: the centroids only,
 * `lists` left empty (the caller assigns every row with assignToCentroids); inertia is reported
 * at the population's scale.
 */
export function kmeansOnSample(sample: HeapRows, population: number, params: TrainParams, hooks: TrainHooks = {}, initialCentroids?: Float32Array): TrainResult {
  return new KMeansRun(sample, params, hooks, initialCentroids, { population }).run(false);
}

/** The nearest of `nLists` centroids for every row in a heap, and the exact inertia of that assignment. */
export function assignToCentroids(rows: HeapRows, centroids: Float32Array, nLists: number): { lists: Uint32Array; inertia: number } {
  const params = { nLists, batchSize: rows.count, maxIters: 1, tolerance: 0 };
  return new KMeansRun(rows, params, {}, centroids, { assignOnly: true }).assignOnly();
}

class KMeansRun {
  private readonly started = performance.now();
  private readonly n: number;
  private readonly d: number;
  private readonly stride: number;
  private readonly rowBytes: number;
  private readonly k: number;
  private readonly kTiled: number;
  private readonly full: boolean;
  private readonly batch: number;
  private readonly random: Random;
  private readonly at: ReturnType<typeof scratchLayout>['offsets'];
  private readonly f32: Float32Array;
  private readonly u32: Uint32Array;
  private readonly f64: Float64Array;
  /** Variance of the data, the scale of the relative shift. */
  private variance = 1;
  private iterations = 0;
  /** Full batch: of the last iteration; mini-batch: smoothed (see NO_IMPROVEMENT_PATIENCE). */
  private shift = Number.NaN;
  private inertia = Number.NaN;
  /** Mini-batch: the lowest smoothed inertia so far, and batches since it was reached. */
  private bestInertia = Infinity;
  private sinceImprovement = 0;
  /** Rows ever assigned to each centroid (mini-batch) or assigned this step (Lloyd). */
  private readonly counts: Float64Array;
  private readonly batchCounts: Uint32Array;
  private readonly batchNorms: Float64Array;
  /** Mini-batch: the iteration each centroid last won a row, and how long it may go without. */
  private readonly lastWon: Uint32Array;
  private readonly patience: number;
  private readonly seedTrials: number;
  /** int16 rows: bytes per row, the largest magnitude, and the rows' scale (limit / max |x|). */
  private readonly qb: number;
  private readonly limit: number;
  private rowScale = 1;
  /** Rows of the final assignment scored again exactly. */
  closeCalls = 0;

  /** Reported inertia is scaled by this: a run on a sample stands for all the rows it was drawn from. */
  private readonly inertiaScale: number;

  /**
   * `population`: the rows a sample run stands for (progress reports inertia at that scale);
   * `assignOnly`: the run will only assign its rows to `initialCentroids` (assignToCentroids).
   */
  constructor(
    private readonly rows: HeapRows,
    private readonly params: TrainParams,
    private readonly hooks: TrainHooks,
    private readonly initialCentroids?: Float32Array,
    setup: { population?: number; assignOnly?: boolean } = {},
  ) {
    this.n = rows.count;
    this.d = rows.dimension;
    this.stride = rowStride(this.d);
    this.rowBytes = this.stride * 4;
    this.k = params.nLists;
    this.kTiled = tile(this.k);
    this.full = params.batchSize >= this.n;
    this.batch = Math.min(params.batchSize, this.n);
    this.random = createRandom(params.seed ?? DEFAULT_SEED);
    this.counts = new Float64Array(this.k);
    this.batchCounts = new Uint32Array(this.k);
    this.batchNorms = new Float64Array(setup.assignOnly ? 0 : this.batch);
    this.inertiaScale = (setup.population ?? this.n) / this.n;
    this.lastWon = new Uint32Array(this.k);
    // A centroid that wins no row during one forgetting window is treated as empty, like a
    // Lloyd cluster that loses all its rows.
    this.patience = Math.max(1, Math.ceil(forgettingWindow(this.n, this.k) / this.batch));
    this.seedTrials = seedTrials(this.k);
    this.qb = i16RowBytes(this.d);
    this.limit = i16Limit(this.d);
    const layout = scratchLayout(this.n, this.d, this.k, params.batchSize, setup.assignOnly);
    const base = rows.heap.reserve(layout.total);
    this.at = { ...layout.offsets };
    for (const key of Object.keys(this.at) as (keyof typeof this.at)[]) this.at[key] += base;
    this.f32 = rows.heap.f32;
    this.u32 = rows.heap.u32;
    this.f64 = rows.heap.f64;
  }

  /** Trains the centroids, then (unless `assignRows` is false: lists left empty) assigns every row. */
  run(assignRows = true): TrainResult {
    this.report('INITIALIZING');
    this.computeRowNorms();
    this.seedCentroids();
    let converged = false;
    while (this.iterations < this.params.maxIters) {
      this.checkStop();
      this.iterations++;
      if (this.full) this.lloydStep();
      else this.miniBatchStep();
      this.report('ITERATING');
      if (this.shift <= this.params.tolerance || (this.params.tolerance > 0 && this.sinceImprovement >= NO_IMPROVEMENT_PATIENCE)) {
        converged = true;
        break;
      }
    }
    this.checkStop();
    let lists: Uint32Array = new Uint32Array(0);
    if (assignRows) {
      this.report('ASSIGNING');
      lists = this.assignAll();
    }
    return {
      centroids: this.centroidsOut(),
      nLists: this.k,
      lists,
      iterations: this.iterations,
      shift: this.shift,
      inertia: this.inertia * this.inertiaScale,
      converged,
      elapsedMs: performance.now() - this.started,
    };
  }

  /** The nearest of the given centroids for every row, and the exact inertia of that assignment. */
  assignOnly(): { lists: Uint32Array; inertia: number } {
    if (!this.initialCentroids) throw new EngineInputError('an assignment needs centroids');
    this.computeRowNorms();
    this.loadCentroids(this.initialCentroids);
    const lists = this.assignAll();
    return { lists, inertia: this.inertia };
  }

  private checkStop(): void {
    if (this.hooks.shouldStop?.()) throw new TrainingAbortedError();
  }

  private report(phase: TrainProgress['phase']): void {
    this.hooks.onProgress?.({
      phase,
      iteration: this.iterations,
      maxIters: this.params.maxIters,
      shift: this.shift,
      inertia: this.inertia * this.inertiaScale,
      elapsedMs: performance.now() - this.started,
    });
  }

  private rowAt(i: number): number {
    return this.rows.ptr + i * this.rowBytes;
  }

  private centroidAt(j: number): number {
    return this.at.centroids + j * this.rowBytes;
  }

  private computeRowNorms(): void {
    const { f32, d } = this;
    const norms = this.at.rowNorms >> 2;
    let maxAbs = 0;
    for (let i = 0; i < this.n; i++) {
      const row = this.rowAt(i) >> 2;
      let sum = 0;
      for (let j = 0; j < d; j++) {
        const v = f32[row + j];
        sum += v * v;
        if (v > maxAbs) maxAbs = v;
        else if (-v > maxAbs) maxAbs = -v;
      }
      f32[norms + i] = sum;
    }
    f32.fill(0, norms + this.n, norms + tile(this.n));
    this.rowScale = maxAbs > 0 ? this.limit / maxAbs : 1;
  }

  // A plain loop: copyWithin on a shared buffer costs more per call than copying one row.
  private copyRow(fromByte: number, toByte: number): void {
    const f32 = this.f32;
    const from = fromByte >> 2;
    const to = toByte >> 2;
    for (let t = 0; t < this.stride; t++) f32[to + t] = f32[from + t];
  }

  private setCentroidNorm(j: number): void {
    const c = this.centroidAt(j) >> 2;
    let sum = 0;
    for (let t = 0; t < this.d; t++) sum += this.f32[c + t] * this.f32[c + t];
    this.f32[(this.at.centroidNorms >> 2) + j] = sum;
  }

  /** Padding centroids stay zero with an infinite norm, so they never win a row. */
  private clearCentroids(): void {
    this.f32.fill(0, this.centroidAt(0) >> 2, this.centroidAt(this.kTiled) >> 2);
    this.f32.fill(Infinity, (this.at.centroidNorms >> 2) + this.k, (this.at.centroidNorms >> 2) + this.kTiled);
  }

  private loadCentroids(centroids: Float32Array): void {
    this.clearCentroids();
    for (let c = 0; c < this.k; c++) {
      this.f32.set(centroids.subarray(c * this.d, (c + 1) * this.d), this.centroidAt(c) >> 2);
      this.setCentroidNorm(c);
    }
  }

  /**
   * k-means++ on a sample: each next centroid is a sample row drawn with probability
   * proportional to its squared distance from the centroids chosen so far.
   */
  private seedCentroids(): void {
    const { f32, k } = this;
    const sampleCount = seedRowCount(this.n, this.k);
    const picks = sampleIndices(this.random, this.n, sampleCount);
    const rowNorms = this.at.rowNorms >> 2;
    const sampleNorms = new Float64Array(sampleCount);
    let sum = new Float64Array(this.d);
    let sumNorms = 0;
    for (let i = 0; i < sampleCount; i++) {
      this.copyRow(this.rowAt(picks[i]), this.at.seedRows + i * this.rowBytes);
      sampleNorms[i] = f32[rowNorms + picks[i]];
      sumNorms += sampleNorms[i];
      const row = (this.at.seedRows >> 2) + i * this.stride;
      for (let t = 0; t < this.d; t++) sum[t] += f32[row + t];
    }
    let meanNorm = 0;
    for (let t = 0; t < this.d; t++) meanNorm += (sum[t] / sampleCount) ** 2;
    const variance = sumNorms / sampleCount - meanNorm;
    this.variance = variance > 0 ? variance : 1;
    sum = new Float64Array(0);
    // Padding rows of the sample stay zero.
    f32.fill(0, (this.at.seedRows >> 2) + sampleCount * this.stride, (this.at.seedRows >> 2) + tile(sampleCount) * this.stride);
    if (this.initialCentroids) {
      this.loadCentroids(this.initialCentroids);
      return;
    }
    this.clearCentroids();

    // Greedy k-means++ (as in scikit-learn): of a few rows drawn by squared distance, keep the one
    // that lowers the sample's potential (sum of squared distances to the nearest centroid) most.
    const trials = this.seedTrials;
    const kernels = this.rows.heap.kernels;
    const sampleTiled = tile(sampleCount);
    // closest (f32, in the heap for seedPotential): each sample row's squared distance to its
    // nearest centroid so far; padding rows stay 0 and add nothing to a potential.
    const closest = this.at.seedClosest >> 2;
    const norms = this.at.seedNorms;
    for (let i = 0; i < sampleCount; i++) f32[(norms >> 2) + i] = sampleNorms[i];
    f32.fill(0, (norms >> 2) + sampleCount, (norms >> 2) + sampleTiled);
    f32.fill(Infinity, closest, closest + sampleCount);
    f32.fill(0, closest + sampleCount, closest + sampleTiled);
    const cumulative = new Float64Array(sampleCount);
    const candidates = new Uint32Array(trials);
    const candidateNorms = new Float64Array(trials);
    let chosen = randomInt(this.random, sampleCount);
    this.copyRow(this.at.seedRows + chosen * this.rowBytes, this.centroidAt(0));
    this.setCentroidNorm(0);
    kernels.dotRows(this.centroidAt(0), this.at.seedRows, sampleTiled, this.rowBytes, this.at.seedDots);
    kernels.seedPotential(this.at.seedClosest, norms, this.at.seedDots, sampleTiled, f32[this.at.centroidNorms >> 2], 1);
    for (let j = 1; j < k; j++) {
      let potential = 0;
      for (let i = 0; i < sampleCount; i++) cumulative[i] = potential += f32[closest + i];
      if (!(potential > 0)) {
        // Every sample row coincides with a centroid (duplicates): empty-cluster repair copes.
        chosen = randomInt(this.random, sampleCount);
        this.copyRow(this.at.seedRows + chosen * this.rowBytes, this.centroidAt(j));
        this.setCentroidNorm(j);
        continue;
      }
      for (let t = 0; t < trials; t++) {
        const target = this.random() * potential;
        let lo = 0;
        let hi = sampleCount - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (cumulative[mid] <= target) lo = mid + 1;
          else hi = mid;
        }
        candidates[t] = lo;
        candidateNorms[t] = sampleNorms[lo];
      }
      for (let t = 0; t < trials; t++) this.copyRow(this.at.seedRows + candidates[t] * this.rowBytes, this.at.seedCandidateRows + t * this.rowBytes);
      kernels.dotBlock(this.at.seedCandidateRows, tile(trials, 4), this.at.seedRows, sampleTiled, this.rowBytes, this.at.seedDots, sampleTiled);
      let bestTrial = 0;
      let bestPotential = Infinity;
      for (let t = 0; t < trials; t++) {
        const sum = kernels.seedPotential(this.at.seedClosest, norms, this.at.seedDots + t * sampleTiled * 4, sampleTiled, candidateNorms[t], 0);
        if (sum < bestPotential) {
          bestPotential = sum;
          bestTrial = t;
        }
      }
      kernels.seedPotential(this.at.seedClosest, norms, this.at.seedDots + bestTrial * sampleTiled * 4, sampleTiled, candidateNorms[bestTrial], 1);
      this.copyRow(this.at.seedRows + candidates[bestTrial] * this.rowBytes, this.centroidAt(j));
      this.setCentroidNorm(j);
    }
  }

  private order: Uint32Array | null = null;
  private cursor = 0;

  /**
   * One mini-batch step (Sculley 2010, with scikit-learn's aggregated update): each centroid
   * moves towards the mean of its batch rows with rate (rows this batch) / (rows counted), the
   * counts decaying by FORGETTING so that rows won long ago fade out.
   */
  private miniBatchStep(): void {
    const { f32, u32, d, stride, k, rowBytes } = this;
    if (!this.order) {
      this.order = new Uint32Array(this.n);
      for (let i = 0; i < this.n; i++) this.order[i] = i;
    }
    // Each epoch's shuffle is drawn as the cursor reaches a position (Fisher-Yates step i only
    // touches positions from i on, and nothing else draws numbers during the steps): the same
    // order as shuffling the whole epoch up front, without drawing the part a run never reaches.
    const order = this.order;
    const n = this.n;
    const b = this.batch;
    const rowNorms = this.at.rowNorms >> 2;
    const batchNorms = this.batchNorms;
    const indices = this.at.batchIndices >> 2;
    for (let i = 0; i < b; i++) {
      if (this.cursor === n) this.cursor = 0;
      const at = this.cursor++;
      if (at < n - 1) {
        const swap = at + randomInt(this.random, n - at);
        const t = order[at];
        order[at] = order[swap];
        order[swap] = t;
      }
      const source = order[at];
      u32[indices + i] = source;
      batchNorms[i] = f32[rowNorms + source];
    }
    const kernels = this.rows.heap.kernels;
    kernels.gatherRows(this.rows.ptr, this.at.batchIndices, b, rowBytes, this.at.batchRows);
    // A batch is a noisy sample anyway: its rows go to the nearest centroid by int16 scores,
    // which differ from exact ones only between centroids within about 1e-4 of each other.
    kernels.quantizeRowsI16(this.at.batchRows, tile(b), rowBytes, this.rowScale, this.at.quantRows, this.qb);
    const { factor } = this.quantizeCentroids();
    kernels.nearestI16(
      this.at.quantRows, tile(b), this.at.quantCentroids, this.kTiled, this.qb,
      this.at.centroidNorms, factor, this.at.labels, this.at.best, this.at.second, this.at.nearestScratch,
    );

    const labels = this.at.labels >> 2;
    const best = this.at.best >> 2;
    const batchCounts = this.batchCounts;
    batchCounts.fill(0);
    let inertia = 0;
    for (let i = 0; i < b; i++) {
      inertia += Math.max(0, batchNorms[i] + f32[best + i]);
      batchCounts[u32[labels + i]]++;
    }
    const batchInertia = (inertia * this.n) / b;
    const sums = this.f64;
    const sumsAt = this.at.sums >> 3;
    sums.fill(0, sumsAt, sumsAt + k * stride);
    kernels.sumRows(this.at.batchRows, b, rowBytes, this.at.labels, this.at.sums);

    let moved = 0;
    const decay = Math.max(0, 1 - b / forgettingWindow(this.n, k));
    for (let c = 0; c < k; c++) this.counts[c] *= decay;
    for (let c = 0; c < k; c++) {
      const m = batchCounts[c];
      if (m === 0) continue;
      this.lastWon[c] = this.iterations;
      this.counts[c] += m;
      const rate = 1 / this.counts[c];
      const centroid = this.centroidAt(c) >> 2;
      const sum = sumsAt + c * stride;
      for (let t = 0; t < d; t++) {
        const old = f32[centroid + t];
        f32[centroid + t] = old + (sums[sum + t] - m * old) * rate;
        const delta = f32[centroid + t] - old;
        moved += delta * delta;
      }
      this.setCentroidNorm(c);
    }
    moved += this.repairEmpty(
      (c) => this.iterations - this.lastWon[c] >= this.patience,
      b,
      (i) => batchNorms[i] + f32[best + i],
      (i) => this.at.batchRows + i * rowBytes,
      (c) => {
        this.counts[c] = 1;
        this.lastWon[c] = this.iterations;
      },
    );
    this.smooth(batchInertia, moved / (k * this.variance));
  }

  /**
   * Folds one batch's inertia and shift into their running averages, and counts batches without
   * a new lowest average. The first batch is measured against the seeds: it is reported as it is
   * but starts no average.
   */
  private smooth(batchInertia: number, batchShift: number): void {
    if (this.iterations <= 2) {
      this.inertia = batchInertia;
      this.shift = batchShift;
      if (this.iterations === 1) return;
    } else {
      const weight = Math.min(1, this.batch / forgettingWindow(this.n, this.k));
      this.inertia += (batchInertia - this.inertia) * weight;
      this.shift += (batchShift - this.shift) * weight;
    }
    if (this.inertia < this.bestInertia) {
      this.bestInertia = this.inertia;
      this.sinceImprovement = 0;
    } else {
      this.sinceImprovement++;
    }
  }

  /** One Lloyd step over all rows: assign each to its nearest centroid, move centroids to the means. */
  private lloydStep(): void {
    const { f32, u32, d, k, n, stride } = this;
    this.assignRows();
    const labels = this.at.labels >> 2;
    const best = this.at.best >> 2;
    const rowNorms = this.at.rowNorms >> 2;
    const counts = this.counts;
    counts.fill(0);
    let inertia = 0;
    for (let i = 0; i < n; i++) {
      inertia += Math.max(0, f32[rowNorms + i] + f32[best + i]);
      counts[u32[labels + i]]++;
    }
    this.inertia = inertia;
    const sums = this.f64;
    const sumsAt = this.at.sums >> 3;
    sums.fill(0, sumsAt, sumsAt + k * stride);
    this.rows.heap.kernels.sumRows(this.rows.ptr, n, this.rowBytes, this.at.labels, this.at.sums);
    // Empty clusters take over the rows farthest from their centroids, which leave their old cluster.
    let moved = this.repairEmpty(
      (c) => counts[c] === 0,
      n,
      (i) => (counts[u32[labels + i]] > 1 ? f32[rowNorms + i] + f32[best + i] : -1),
      (i) => this.rowAt(i),
      (c, i) => {
        const from = u32[labels + i];
        const row = this.rowAt(i) >> 2;
        counts[from]--;
        for (let t = 0; t < d; t++) {
          sums[sumsAt + from * stride + t] -= f32[row + t];
          sums[sumsAt + c * stride + t] = f32[row + t];
        }
        counts[c] = 1;
        u32[labels + i] = c;
      },
    );
    for (let c = 0; c < k; c++) {
      if (counts[c] === 0) continue;
      const centroid = this.centroidAt(c) >> 2;
      const scale = 1 / counts[c];
      for (let t = 0; t < d; t++) {
        const old = f32[centroid + t];
        f32[centroid + t] = sums[sumsAt + c * stride + t] * scale;
        const delta = f32[centroid + t] - old;
        moved += delta * delta;
      }
      this.setCentroidNorm(c);
    }
    this.shift = moved / (k * this.variance);
  }

  /**
   * Moves every empty centroid onto one of the rows farthest from their own centroid (among the
   * `candidates` rows; `distance` < 0 excludes a row). Returns the squared distance moved.
   */
  private repairEmpty(
    isEmpty: (c: number) => boolean,
    candidates: number,
    distance: (i: number) => number,
    rowOf: (i: number) => number,
    onMove: (c: number, i: number) => void,
  ): number {
    const empty: number[] = [];
    for (let c = 0; c < this.k; c++) if (isEmpty(c)) empty.push(c);
    if (empty.length === 0) return 0;
    const farthest = new TopK(empty.length);
    for (let i = 0; i < candidates; i++) {
      const dist = distance(i);
      if (dist > 0) farthest.offer(-dist, i);
    }
    const { ids } = farthest.drain();
    let moved = 0;
    const f32 = this.f32;
    for (let e = 0; e < ids.length; e++) {
      const c = empty[e];
      const centroid = this.centroidAt(c) >> 2;
      const row = rowOf(ids[e]) >> 2;
      for (let t = 0; t < this.d; t++) {
        const delta = f32[row + t] - f32[centroid + t];
        moved += delta * delta;
        f32[centroid + t] = f32[row + t];
      }
      this.setCentroidNorm(c);
      onMove(c, ids[e]);
    }
    return moved;
  }

  /** Nearest centroid of every row, into the labels and best scratch. */
  private assignRows(): void {
    this.rows.heap.kernels.nearest(
      this.rows.ptr, tile(this.n), this.at.centroids, this.kTiled, this.rowBytes,
      this.at.centroidNorms, this.at.labels, this.at.best, this.at.nearestScratch,
    );
  }

  /**
   * The centroids as int16 rows at their own scale; `factor` turns an integer row . centroid
   * product into twice the dot product, `scale` is the centroids' and `maxNorm` their largest norm.
   */
  private quantizeCentroids(): { factor: number; scale: number; maxNorm: number } {
    const { f32, d, k } = this;
    let maxAbs = 0;
    let maxNorm = 0;
    const norms = this.at.centroidNorms >> 2;
    for (let c = 0; c < k; c++) {
      const at = this.centroidAt(c) >> 2;
      for (let t = 0; t < d; t++) {
        const v = f32[at + t];
        if (v > maxAbs) maxAbs = v;
        else if (-v > maxAbs) maxAbs = -v;
      }
      if (f32[norms + c] > maxNorm) maxNorm = f32[norms + c];
    }
    const scale = maxAbs > 0 ? this.limit / maxAbs : 1;
    this.rows.heap.kernels.quantizeRowsI16(this.at.centroids, this.kTiled, this.rowBytes, scale, this.at.quantCentroids, this.qb);
    return { factor: 2 / (this.rowScale * scale), scale, maxNorm: Math.sqrt(maxNorm) };
  }

  /**
   * The final assignment: every row's nearest centroid, and the exact inertia of the model. Rows
   * are scored in int16 a chunk at a time; a row whose best score beats its second by more than
   * twice the bound on the quantization and rounding error of a score keeps that label, the
   * others (close calls, a few percent) are scored again exactly in f32.
   */
  private assignAll(): Uint32Array {
    const { f32, u32, n, d, k } = this;
    const kernels = this.rows.heap.kernels;
    const { factor, scale, maxNorm } = this.quantizeCentroids();
    const rowErr = (Math.sqrt(d) * 0.5) / this.rowScale;
    const centroidErr = (Math.sqrt(d) * 0.5) / scale;
    const labels = this.at.labels >> 2;
    const best = this.at.best >> 2;
    const second = this.at.second >> 2;
    const rowNorms = this.at.rowNorms >> 2;
    const cnorms = this.at.centroidNorms >> 2;
    const dots = this.at.nearestScratch >> 2;
    for (let start = 0; start < n; start += ASSIGN_CHUNK) {
      const m = Math.min(ASSIGN_CHUNK, n - start);
      kernels.quantizeRowsI16(this.rowAt(start), tile(m), this.rowBytes, this.rowScale, this.at.quantRows, this.qb);
      kernels.nearestI16(
        this.at.quantRows, tile(m), this.at.quantCentroids, this.kTiled, this.qb, this.at.centroidNorms, factor,
        this.at.labels + start * 4, this.at.best + start * 4, this.at.second, this.at.nearestScratch,
      );
      for (let r = 0; r < m; r++) {
        const i = start + r;
        const norm = Math.sqrt(f32[rowNorms + i]) + rowErr;
        // |x.c - x'.c'| <= |x - x'| |c| + |x'| |c - c'|; then f32 rounding of the score's terms.
        const err = 2 * (rowErr * maxNorm + norm * centroidErr) + 1e-6 * (maxNorm * maxNorm + 2 * norm * (maxNorm + centroidErr));
        if (f32[second + r] - f32[best + i] > 2 * err) continue;
        kernels.dotRows(this.rowAt(i), this.at.centroids, this.kTiled, this.rowBytes, this.at.nearestScratch);
        let label = 0;
        let low = Infinity;
        for (let c = 0; c < k; c++) {
          const score = f32[cnorms + c] - 2 * f32[dots + c];
          if (score < low) {
            low = score;
            label = c;
          }
        }
        u32[labels + i] = label;
        this.closeCalls++;
      }
    }
    // Inertia from differences: exact up to f32 rounding of the rows and centroids.
    let inertia = 0;
    for (let i = 0; i < n; i++) {
      const row = this.rowAt(i) >> 2;
      const centroid = this.centroidAt(u32[labels + i]) >> 2;
      let sum = 0;
      for (let t = 0; t < d; t++) {
        const delta = f32[row + t] - f32[centroid + t];
        sum += delta * delta;
      }
      inertia += sum;
    }
    this.inertia = inertia;
    return u32.slice(labels, labels + n);
  }

  private centroidsOut(): Float32Array {
    const out = new Float32Array(this.k * this.d);
    for (let c = 0; c < this.k; c++) {
      const from = this.centroidAt(c) >> 2;
      out.set(this.f32.subarray(from, from + this.d), c * this.d);
    }
    return out;
  }
}
