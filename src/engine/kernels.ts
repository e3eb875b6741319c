// The distance kernels behind one interface: WebAssembly SIMD when it is built and supported,
// hand-unrolled typed-array loops otherwise. Both read the same KernelHeap memory by byte address.
import { plainKernels } from './plain-kernels.js';
import { kernelModuleStatus } from './simd/kernel-module.js';

/** Rows handed to `dotRows` and `nearest` come in multiples of this (callers pad capacity). */
export const ROW_TILE = 8;
/** Queries handed to `dotBlock` come in multiples of this. */
export const QUERY_TILE = 4;
/** `nearest` needs scratch for this many rows of k floats. */
export const NEAREST_BLOCK = 32;

/** `rows` rounded up to a whole number of tiles of `to`. */
export const tile = (rows: number, to: number = ROW_TILE): number => Math.ceil(rows / to) * to;

/**
 * Addresses are byte offsets into the heap; a row is `rowBytes` long (a multiple of 16, the
 * vector zero-padded). Counts are multiples of the tiles above; outputs past the real rows are
 * computed from padding and ignored by callers.
 */
export interface Kernels {
  readonly simd: boolean;
  /** out[i] = q . x_i for i < n (any n). */
  dotRows(q: number, x: number, n: number, rowBytes: number, out: number): void;
  /** out[i * ldo + j] = q_i . x_j for i < m (multiple of QUERY_TILE), j < n (even); ldo in floats. */
  dotBlock(q: number, m: number, x: number, n: number, rowBytes: number, out: number, ldo: number): void;
  /**
   * For each row x_i (i < n, a multiple of ROW_TILE): the centroid j < k (a multiple of
   * ROW_TILE) minimising cnorms[j] - 2 x_i.c_j, the first on a tie. Writes labels[i] (u32) and
   * best[i] (f32, that score). `scratch` holds NEAREST_BLOCK x k floats.
   */
  nearest(
    x: number, n: number, c: number, k: number, rowBytes: number,
    cnorms: number, labels: number, best: number, scratch: number,
  ): void;
  /** Adds each row x_i (i < n) to the float64 row sums[labels[i]] (rows of 2 * rowBytes bytes). */
  sumRows(x: number, n: number, rowBytes: number, labels: number, sums: number): void;
  /** Row i of dst becomes row indices[i] (u32) of src, for i < n. */
  gatherRows(src: number, indices: number, n: number, rowBytes: number, dst: number): void;
  /**
   * out[i] = q . codes_i as f32, exact in integers: q holds int16 (2 * codeBytes bytes), each
   * code row int8 (codeBytes, a multiple of 16), any n.
   */
  dotRowsI8(q: number, codes: number, n: number, codeBytes: number, out: number): void;
  /** out[i * ldo + j] = q_i . codes_j as dotRowsI8, for i < m (multiple of QUERY_TILE), j < n (even). */
  dotBlockI8(q: number, m: number, codes: number, n: number, codeBytes: number, out: number, ldo: number): void;
  /**
   * For each row whose byte offset is rows[i] (u32, i < n): the four float64 running sums of
   * exactDistance over its first `bytes` (a multiple of 16), of (q - x)^2 or with `dot` of q * x,
   * into out (f64) at 4i .. 4i + 3, bit for bit as exactDistance accumulates them.
   */
  rerankSums(q: number, rows: number, n: number, bytes: number, dot: number, out: number): void;
  /**
   * Sum over i < n (a multiple of 4) of min(closest[i], max(0, norms[i] + cn - 2 dots[i])) in f32
   * terms summed in float64; with `update` those minima are stored into closest.
   */
  seedPotential(closest: number, norms: number, dots: number, n: number, cn: number, update: number): number;
  /**
   * Row i of dst (int16, `i16Bytes` per row: rowBytes / 2 rounded up to 16, the rest zero) is
   * row i of src (f32) times `scale`, rounded to nearest and saturated, for i < n.
   */
  quantizeRowsI16(src: number, n: number, rowBytes: number, scale: number, dst: number, i16Bytes: number): void;
  /**
   * ScalarQuantizer.encodeQuery for n rows of rowBytes (f32, zero-padded) with the f32 `steps`
   * (rowBytes, zero past the dimension): int16 rows of i16Bytes into dst (zero past rowBytes / 2)
   * and each row's scale (f64) into scales, the same bits as the JS.
   */
  quantizeQueriesI16(src: number, n: number, rowBytes: number, steps: number, dst: number, i16Bytes: number, scales: number): void;
  /**
   * ScalarQuantizer.encodeRow for n rows of rowBytes (f32, zero-padded): int8 codes of codeBytes
   * per row into dst (zero past rowBytes / 4), and misfits[i] (u8) 1 where row i was clamped, else
   * 0, the same bits as the JS. `params`: the offsets (f32, rowBytes), then the inverse steps
   * (f64, 2 rowBytes), both zero past the dimension.
   */
  encodeRowsI8(src: number, n: number, rowBytes: number, params: number, dst: number, codeBytes: number, misfits: number): void;
  /** out[i * ldo + j] = q_i . x_j over int16 rows, exact in integers, as f32; m and n as dotBlock. */
  dotBlockI16(q: number, m: number, x: number, n: number, i16Bytes: number, out: number, ldo: number): void;
  /**
   * `nearest` over int16 rows and centroids with score cnorms[j] - factor * x_i.c_j (f32), also
   * writing second[i], the second lowest score. `scratch` holds NEAREST_BLOCK x k floats.
   */
  nearestI16(
    x: number, n: number, c: number, k: number, i16Bytes: number,
    cnorms: number, factor: number, labels: number, best: number, second: number, scratch: number,
  ): void;
  /**
   * Writes (u32, from byte `out`) each i < n with norms[i] - twice * dots[i] <= bound, computed
   * in f32; returns the byte address after the last one written.
   */
  selectScores(norms: number, dots: number, n: number, twice: number, bound: number, out: number): number;
  /**
   * For each query i < m (its dots with k centroids at dots + 4 i ldo): the p <= k centroids of
   * lowest norms[j] - 2 dots[j], computed in float64, nearest first and the lower j on a tie
   * (TopK's order), into out (u32, p per query). `scratch` takes p float64.
   */
  nearestProbes(dots: number, norms: number, m: number, k: number, ldo: number, p: number, out: number, scratch: number): void;
  /**
   * The k-th smallest (1 <= k <= n) of the f32 scores norms[i] - twice * dots[i] (i < n) that
   * selectScores compares; `scratch` takes n floats (left reordered).
   */
  kthScore(norms: number, dots: number, n: number, twice: number, k: number, scratch: number): number;
  /**
   * selectScores for m queries over the same n (< 65536) rows: query q's dots from dots + 4 q ldo,
   * its twice and bound the f32 pair at params + 8 q. Writes (u32) q * 65536 + i for each row i
   * picked for q, q ascending and i ascending within q; returns the byte address after the last.
   */
  selectBlock(norms: number, dots: number, m: number, n: number, ldo: number, params: number, out: number): number;
  /**
   * out[i] (f32) = the sum over j < m of table[j * entries + codes[i * m + j]] (f32 table, u8
   * codes), for i < n: IVF_PQ's scan. Summed in float64 in j order, rounded once.
   */
  pqScan(table: number, codes: number, n: number, m: number, entries: number, out: number): void;
}

/** Current typed views of a heap's memory (they change when the memory grows). */
export interface HeapViews {
  readonly f32: Float32Array;
  readonly u32: Uint32Array;
  readonly f64: Float64Array;
  readonly i8: Int8Array;
  readonly u8: Uint8Array;
  readonly i16: Int16Array;
}

export type KernelChoice = 'auto' | 'simd' | 'plain';

/** Which kernels `auto` picks in this process. */
export function kernelInfo(): { simd: boolean; reason?: string } {
  return kernelModuleStatus.available ? { simd: true } : { simd: false, reason: kernelModuleStatus.reason };
}

function simdKernels(memory: WebAssembly.Memory, module: WebAssembly.Module): Kernels {
  const exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as Omit<Kernels, 'simd'>;
  return {
    simd: true,
    dotRows: exports.dotRows,
    dotBlock: exports.dotBlock,
    nearest: exports.nearest,
    sumRows: exports.sumRows,
    gatherRows: exports.gatherRows,
    dotRowsI8: exports.dotRowsI8,
    dotBlockI8: exports.dotBlockI8,
    selectScores: exports.selectScores,
    selectBlock: exports.selectBlock,
    kthScore: exports.kthScore,
    pqScan: exports.pqScan,
    nearestProbes: exports.nearestProbes,
    quantizeRowsI16: exports.quantizeRowsI16,
    quantizeQueriesI16: exports.quantizeQueriesI16,
    encodeRowsI8: exports.encodeRowsI8,
    dotBlockI16: exports.dotBlockI16,
    nearestI16: exports.nearestI16,
    seedPotential: exports.seedPotential,
    rerankSums: exports.rerankSums,
  };
}

/**
 * Kernels bound to one memory. `module` overrides the module loaded at start (tests pass a freshly
 * assembled one); `simd` without a usable module is an error, `auto` falls back quietly.
 */
export function bindKernels(
  memory: WebAssembly.Memory,
  views: HeapViews,
  choice: KernelChoice = 'auto',
  module: WebAssembly.Module | null = kernelModuleStatus.available ? kernelModuleStatus.module : null,
): Kernels {
  if (choice === 'plain') return plainKernels(views);
  if (module) return simdKernels(memory, module);
  if (choice === 'simd') {
    throw new Error(`SIMD kernels unavailable: ${kernelModuleStatus.available ? 'no module' : kernelModuleStatus.reason}`);
  }
  return plainKernels(views);
}
