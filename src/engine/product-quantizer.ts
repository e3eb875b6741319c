// The product-quantizer list codec (IVF_PQ): a vector is cut into `subvectors` pieces and each
// piece is coded as the index of its nearest centroid in that piece's codebook (2^bits entries,
// trained by k-means on a sample), one byte per piece. A query builds a table of its dot product
// with every codebook entry, so scanning an entry is `subvectors` table lookups (asymmetric
// distance: the query stays exact, only the stored vector is coded). As in Faiss's IVFPQ, a
// vector's code is of its residual from its list's centroid, which the codebooks resolve far more
// finely than the vector itself; q.x = q.c + q.r, so the same table serves every list and the
// scan of a list adds its q.c (listOffset). Format 1 models, which coded the vectors themselves,
// still load and scan as they did.
import { EngineInputError } from './errors.js';
import type { InvertedLists } from './inverted-lists.js';
import { KernelHeap } from './kernel-heap.js';
import { NEAREST_BLOCK, tile, type HeapViews } from './kernels.js';
import { trainKMeans } from './chunked-kmeans.js';
import { assignToCentroids } from './kmeans.js';
import type { FitRows, ListCodec } from './list-codec.js';
import { rowStride } from './metric.js';
import { placeRows } from './shared-rows.js';

export interface PqShape {
  subvectors: number;
  bits: number;
}

/** Rows the codebooks train on, at most: 64 per codebook entry is plenty for 8-dimensional pieces. */
const TRAIN_ROWS_PER_ENTRY = 64;
const TRAIN_ITERS = 16;
/** Rows encoded per kernel call. */
const ENCODE_ROWS = 1024;
/** Format 1 codes the vectors themselves, format 2 their residuals from the list centroids. */
const FORMAT_DIRECT = 1;
const FORMAT_RESIDUAL = 2;
const HEADER_BYTES = 16;

/** Throws EngineInputError unless `shape` can code vectors of `dimension`. */
export function assertPqShape(shape: PqShape, dimension: number): void {
  const { subvectors, bits } = shape;
  if (!Number.isInteger(subvectors) || subvectors < 1 || subvectors > dimension || dimension % subvectors !== 0) {
    throw new EngineInputError(`pqSubvectors must divide the dimension ${dimension}, got ${String(subvectors)}`);
  }
  if (!Number.isInteger(bits) || bits < 1 || bits > 8) throw new EngineInputError(`pqBits must be an integer from 1 to 8, got ${String(bits)}`);
}

export class ProductQuantizer implements ListCodec {
  readonly exact = false;
  /** Tables are large: scanning each query in place beats gathering them. */
  readonly blocked = false;
  readonly dimension: number;
  readonly subvectors: number;
  readonly bits: number;
  /** Entries per codebook: 2^bits, or fewer when it trained on fewer rows. */
  readonly entries: number;
  readonly pieceDimension: number;
  /** subvectors x entries x pieceDimension floats. */
  readonly codebooks: Float32Array;
  /** The model's centroids (nLists x dimension, shared, not copied) when codes are residuals from them; null for format 1. */
  readonly centroids: Float32Array | null;
  readonly codeBytes: number;
  readonly queryBytes: number;
  /** The codebooks as kernel rows, for encoding with the `nearest` kernel (built on first use). */
  private encoder: { heap: KernelHeap; books: number; rows: number; labels: number; best: number; scratch: number } | null = null;

  constructor(dimension: number, shape: PqShape, entries: number, codebooks: Float32Array, centroids: Float32Array | null) {
    assertPqShape(shape, dimension);
    if (centroids !== null && (centroids.length === 0 || centroids.length % dimension !== 0)) {
      throw new EngineInputError('product quantizer centroids do not match the dimension');
    }
    this.dimension = dimension;
    this.subvectors = shape.subvectors;
    this.bits = shape.bits;
    this.entries = entries;
    this.pieceDimension = dimension / shape.subvectors;
    if (!Number.isInteger(entries) || entries < 1 || entries > 2 ** shape.bits || codebooks.length !== shape.subvectors * entries * this.pieceDimension) {
      throw new EngineInputError('product quantizer codebooks do not match their shape');
    }
    this.codebooks = codebooks;
    this.centroids = centroids;
    this.codeBytes = shape.subvectors;
    this.queryBytes = shape.subvectors * entries * 4;
  }

  /** The codebooks, and the kernel memory that encodes with them once it has been built (the centroids are the model's). */
  get residentBytes(): number {
    return this.codebooks.byteLength + (this.encoder?.heap.byteLength ?? 0);
  }

  get entryBytes(): number {
    return this.codeBytes;
  }

  /**
   * Trains one codebook per piece on at most TRAIN_ROWS_PER_ENTRY x 2^bits of `fit`'s rows, evenly
   * spread: on their residuals from the nearest of `centroids` (nLists x dimension) when given.
   */
  static train(fit: FitRows, shape: PqShape, seed = 1, centroids: Float32Array | null = null): ProductQuantizer {
    const { source, rows, dimension } = fit;
    assertPqShape(shape, dimension);
    if (rows.length === 0) throw new EngineInputError('a product quantizer needs at least one row to train on');
    const wanted = 2 ** shape.bits;
    const step = Math.max(1, Math.floor(rows.length / (TRAIN_ROWS_PER_ENTRY * wanted)));
    const sample = Math.ceil(rows.length / step);
    const entries = Math.min(wanted, sample);
    const piece = dimension / shape.subvectors;
    const vectors = new Float32Array(sample * dimension);
    for (let s = 0; s < sample; s++) vectors.set(source.subarray(rows[s * step], rows[s * step] + dimension), s * dimension);
    if (centroids !== null) {
      const { lists } = assignToCentroids(placeRows(vectors, dimension, 'squared_euclidean'), centroids, centroids.length / dimension);
      for (let s = 0; s < sample; s++) {
        for (let t = 0, c = lists[s] * dimension; t < dimension; t++) vectors[s * dimension + t] -= centroids[c + t];
      }
    }
    const codebooks = new Float32Array(shape.subvectors * entries * piece);
    const pieces = new Float32Array(sample * piece);
    for (let m = 0; m < shape.subvectors; m++) {
      for (let s = 0; s < sample; s++) pieces.set(vectors.subarray(s * dimension + m * piece, s * dimension + (m + 1) * piece), s * piece);
      const result = trainKMeans(pieces, piece, 'squared_euclidean', {
        nLists: entries, batchSize: sample, maxIters: TRAIN_ITERS, tolerance: 1e-4, seed: seed + m,
      });
      codebooks.set(result.centroids, m * entries * piece);
    }
    return new ProductQuantizer(dimension, shape, entries, codebooks, centroids);
  }

  /** u8 format | u8 bits | u16 0 | u32 dimension | u32 subvectors | u32 entries | f32 codebooks. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + this.codebooks.byteLength);
    const view = new DataView(out.buffer);
    view.setUint8(0, this.centroids ? FORMAT_RESIDUAL : FORMAT_DIRECT);
    view.setUint8(1, this.bits);
    view.setUint32(4, this.dimension, true);
    view.setUint32(8, this.subvectors, true);
    view.setUint32(12, this.entries, true);
    out.set(new Uint8Array(this.codebooks.buffer, this.codebooks.byteOffset, this.codebooks.byteLength), HEADER_BYTES);
    return out;
  }

  /** The codec `toBytes` wrote; a residual codec (format 2) needs its model's `centroids`, which it keeps (not a copy). */
  static fromBytes(bytes: Uint8Array, dimension: number, centroids?: Float32Array): ProductQuantizer {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const format = bytes.byteLength < HEADER_BYTES ? 0 : view.getUint8(0);
    if ((format !== FORMAT_DIRECT && format !== FORMAT_RESIDUAL) || view.getUint32(4, true) !== dimension) {
      throw new EngineInputError(`product quantizer parameters do not fit dimension ${dimension}`);
    }
    if (format === FORMAT_RESIDUAL && centroids === undefined) throw new EngineInputError('a residual product quantizer needs its model\'s centroids');
    const subvectors = view.getUint32(8, true);
    const entries = view.getUint32(12, true);
    const floats = (bytes.byteLength - HEADER_BYTES) / 4;
    if (!Number.isInteger(floats)) throw new EngineInputError('product quantizer parameters are truncated');
    const codebooks = new Float32Array(floats);
    new Uint8Array(codebooks.buffer).set(bytes.subarray(HEADER_BYTES));
    if (!codebooks.every(Number.isFinite)) throw new EngineInputError('product quantizer codebooks are not finite');
    return new ProductQuantizer(dimension, { subvectors, bits: view.getUint8(1) }, entries, codebooks, format === FORMAT_RESIDUAL ? (centroids as Float32Array) : null);
  }

  entriesAt(lists: InvertedLists, list: number): number {
    return lists.codesAt(list);
  }

  /** Every row has a nearest codebook entry per piece: nothing is clamped (true). */
  encode(source: Float32Array, from: number, codes: Int8Array, to: number, list: number): boolean {
    this.encodeBatch(source, [from], codes, to, [list]);
    return true;
  }

  /** Each piece of each row (less its list's centroid) goes to its nearest codebook entry, found by the `nearest` kernel. */
  encodeBatch(source: Float32Array, rows: ArrayLike<number>, codes: Int8Array, to: number, lists: ArrayLike<number>, misfits?: Uint8Array): void {
    misfits?.fill(0, 0, rows.length);
    const centroids = this.centroids;
    const d = this.dimension;
    const encoder = this.encoder ?? this.buildEncoder();
    const { heap } = encoder;
    const piece = this.pieceDimension;
    const stride = rowStride(piece);
    const k = tile(this.entries);
    const bookBytes = k * (stride * 4 + 4);
    for (let start = 0; start < rows.length; start += ENCODE_ROWS) {
      const count = Math.min(ENCODE_ROWS, rows.length - start);
      for (let m = 0; m < this.subvectors; m++) {
        const f32 = heap.f32;
        const base = encoder.rows >> 2;
        for (let i = 0; i < count; i++) {
          const at = rows[start + i] + m * piece;
          if (centroids) {
            const c = lists[start + i] * d + m * piece;
            for (let t = 0; t < piece; t++) f32[base + i * stride + t] = source[at + t] - centroids[c + t];
          } else {
            for (let t = 0; t < piece; t++) f32[base + i * stride + t] = source[at + t];
          }
        }
        const book = encoder.books + m * bookBytes;
        heap.kernels.nearest(encoder.rows, tile(count), book, k, stride * 4, book + k * stride * 4, encoder.labels, encoder.best, encoder.scratch);
        const labels = heap.u32;
        for (let i = 0; i < count; i++) codes[to + (start + i) * this.codeBytes + m] = labels[(encoder.labels >> 2) + i];
      }
    }
  }

  /** table[m * entries + e] = q_m . codebook_m[e]. */
  prepareQuery(heap: HeapViews, from: number, to: number): number {
    const f32 = heap.f32;
    const piece = this.pieceDimension;
    const table = to >> 2;
    for (let m = 0; m < this.subvectors; m++) {
      for (let e = 0; e < this.entries; e++) {
        const c = (m * this.entries + e) * piece;
        let sum = 0;
        for (let t = 0; t < piece; t++) sum += f32[from + m * piece + t] * this.codebooks[c + t];
        f32[table + m * this.entries + e] = sum;
      }
    }
    return 1;
  }

  queryConstant(): number {
    return 0;
  }

  /** q.c of `list`'s centroid (0 for format 1): what the scan of that list leaves out of q.x. */
  listOffset(query: Float32Array, from: number, list: number): number {
    const centroids = this.centroids;
    if (!centroids) return 0;
    let sum = 0;
    for (let t = 0, c = list * this.dimension; t < this.dimension; t++) sum += query[from + t] * centroids[c + t];
    return sum;
  }

  scan(heap: KernelHeap, query: number, entries: number, n: number, out: number): void {
    heap.kernels.pqScan(query, entries, n, this.subvectors, this.entries, out);
  }

  scanBlock(heap: KernelHeap, queries: number, m: number, entries: number, n: number, out: number, ldo: number): void {
    for (let q = 0; q < m; q++) this.scan(heap, queries + q * this.queryBytes, entries, n, out + q * ldo * 4);
  }

  private buildEncoder(): NonNullable<ProductQuantizer['encoder']> {
    const piece = this.pieceDimension;
    const stride = rowStride(piece);
    const k = tile(this.entries);
    const bookBytes = k * (stride * 4 + 4);
    const rowsBytes = tile(ENCODE_ROWS) * stride * 4;
    const heap = new KernelHeap({ bytes: this.subvectors * bookBytes + rowsBytes + tile(ENCODE_ROWS) * 8 + NEAREST_BLOCK * k * 4 });
    heap.growTo(this.subvectors * bookBytes + rowsBytes + tile(ENCODE_ROWS) * 8 + NEAREST_BLOCK * k * 4);
    const f32 = heap.f32;
    f32.fill(0);
    for (let m = 0; m < this.subvectors; m++) {
      const book = (m * bookBytes) >> 2;
      const norms = book + k * stride;
      f32.fill(Infinity, norms + this.entries, norms + k);
      for (let e = 0; e < this.entries; e++) {
        let sum = 0;
        for (let t = 0; t < piece; t++) {
          const value = this.codebooks[(m * this.entries + e) * piece + t];
          f32[book + e * stride + t] = value;
          sum += value * value;
        }
        f32[norms + e] = sum;
      }
    }
    const rows = this.subvectors * bookBytes;
    const labels = rows + rowsBytes;
    const best = labels + tile(ENCODE_ROWS) * 4;
    this.encoder = { heap, books: 0, rows, labels, best, scratch: best + tile(ENCODE_ROWS) * 4 };
    return this.encoder;
  }
}
