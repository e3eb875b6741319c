// The coarse quantizer of an IVF index: the centroids, kept in the heap as rows padded to a whole
// tile followed by their squared norms (+Infinity for padding, so a padding centroid never wins),
// and the nearest-centroid questions asked of them: a row's list, a query's probes.
import type { Block, BlockArena } from './block-arena.js';
import { alignUp, type KernelHeap } from './kernel-heap.js';
import { QUERY_TILE, tile } from './kernels.js';
import { TopK } from './top-k.js';

/** Bytes of queries probeBlock scores against the centroids at once: half a 64 KiB L1. */
const PROBE_CHUNK_BYTES = 32 << 10;

export class CoarseQuantizer {
  readonly nLists: number;
  /** nLists rounded up to a whole tile: the rows the kernels scan. */
  readonly paddedLists: number;
  private readonly block: Block;
  private readonly rowBytes: number;

  constructor(arena: BlockArena, centroids: Float32Array, nLists: number, dimension: number, stride: number) {
    this.nLists = nLists;
    this.paddedLists = tile(nLists);
    this.rowBytes = stride * 4;
    const k = this.paddedLists;
    this.block = arena.alloc(k * (this.rowBytes + 4));
    const f32 = arena.heap.f32;
    const rows = this.block.offset >> 2;
    const norms = rows + k * stride;
    f32.fill(0, rows, norms);
    f32.fill(Infinity, norms + nLists, norms + k);
    for (let c = 0; c < nLists; c++) {
      let sum = 0;
      for (let t = 0; t < dimension; t++) {
        const value = centroids[c * dimension + t];
        f32[rows + c * stride + t] = value;
        sum += value * value;
      }
      f32[norms + c] = sum;
    }
  }

  /** Byte address of the centroid rows (read after any allocation: the block may move). */
  get centroidsAt(): number {
    return this.block.offset;
  }

  /** Byte address of the centroids' squared norms. */
  get normsAt(): number {
    return this.block.offset + this.paddedLists * this.rowBytes;
  }

  /** The list whose centroid is nearest the row at `queryAt`; `outAt` takes paddedLists floats. */
  nearest(heap: KernelHeap, queryAt: number, outAt: number): number {
    heap.kernels.dotRows(queryAt, this.centroidsAt, this.paddedLists, this.rowBytes, outAt);
    const f32 = heap.f32;
    const norms = this.normsAt >> 2;
    const out = outAt >> 2;
    let bestList = 0;
    let bestScore = Infinity;
    for (let c = 0; c < this.nLists; c++) {
      const score = f32[norms + c] - 2 * f32[out + c];
      if (score < bestScore) {
        bestScore = score;
        bestList = c;
      }
    }
    return bestList;
  }

  /** The nProbes lists nearest the query, nearest first (so the top-k bound tightens early). */
  probe(heap: KernelHeap, queryAt: number, outAt: number, nProbes: number): Uint32Array {
    heap.kernels.dotRows(queryAt, this.centroidsAt, this.paddedLists, this.rowBytes, outAt);
    return this.nearestOfScores(heap.f32, outAt >> 2, nProbes);
  }

  /**
   * The nProbes nearest lists of each of m queries (rows from `queriesAt`, mTiled of them with the
   * padding), found in one blocked pass: `scoresAt` takes mTiled x paddedLists floats. With
   * `probesAt` (probeBlockBytes free bytes) the nearest are picked by one kernel call for the
   * whole block, not a JS heap per query; the same lists in the same order.
   */
  probeBlock(heap: KernelHeap, queriesAt: number, m: number, mTiled: number, scoresAt: number, nProbes: number, probesAt?: number): Uint32Array {
    const k = this.paddedLists;
    // dotBlock walks the centroids once and meets every query at each: in chunks whose queries
    // stay in L1, not the whole batch re-read from L2 (or memory) for every pair of centroids.
    const chunk = Math.max(QUERY_TILE, Math.floor(PROBE_CHUNK_BYTES / this.rowBytes / QUERY_TILE) * QUERY_TILE);
    for (let first = 0; first < mTiled; first += chunk) {
      const rows = Math.min(chunk, mTiled - first);
      heap.kernels.dotBlock(queriesAt + first * this.rowBytes, rows, this.centroidsAt, k, this.rowBytes, scoresAt + first * k * 4, k);
    }
    if (probesAt !== undefined) {
      const scratchAt = probesAt + alignUp(m * nProbes * 4, 8);
      heap.kernels.nearestProbes(scoresAt, this.normsAt, m, this.nLists, k, nProbes, probesAt, scratchAt);
      return heap.u32.slice(probesAt >> 2, (probesAt >> 2) + m * nProbes);
    }
    const probes = new Uint32Array(m * nProbes);
    for (let i = 0; i < m; i++) probes.set(this.nearestOfScores(heap.f32, (scoresAt >> 2) + i * k, nProbes), i * nProbes);
    return probes;
  }

  /** Bytes probeBlock's `probesAt` takes for m queries. */
  static probeBlockBytes(m: number, nProbes: number): number {
    return alignUp(m * nProbes * 4, 8) + nProbes * 8;
  }

  /**
   * Labels each of `count` rows from `rowsAt` with its nearest list (u32 at `labelsAt`); `bestAt`
   * takes tile(count) floats and `scratchAt` NEAREST_BLOCK x paddedLists floats.
   */
  assign(heap: KernelHeap, rowsAt: number, count: number, labelsAt: number, bestAt: number, scratchAt: number): void {
    heap.kernels.nearest(rowsAt, tile(count), this.centroidsAt, this.paddedLists, this.rowBytes, this.normsAt, labelsAt, bestAt, scratchAt);
  }

  private nearestOfScores(f32: Float32Array, dots: number, nProbes: number): Uint32Array {
    const norms = this.normsAt >> 2;
    const nearest = new TopK(nProbes);
    let bound = Infinity;
    for (let c = 0; c < this.nLists; c++) {
      const score = f32[norms + c] - 2 * f32[dots + c];
      if (score <= bound && nearest.offer(score, c)) bound = nearest.bound;
    }
    return nearest.drain().ids;
  }
}
