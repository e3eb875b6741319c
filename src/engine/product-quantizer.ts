// The product-quantizer list codec (IVF_PQ): a vector is cut into `subvectors` pieces and each
// piece is coded as the index of its nearest centroid in that piece's codebook (2^bits entries,
// trained by k-means on a sample), one byte per piece. A query builds a table of its dot product
// with every codebook entry, so scanning an entry is `subvectors` table lookups (asymmetric
// distance: the query stays exact, only the stored vector is coded). Codes are not residuals of
// the list centroid, so one table serves every list a query probes.
import { EngineInputError } from './errors.js';
import type { InvertedLists } from './inverted-lists.js';
import { KernelHeap } from './kernel-heap.js';
import { NEAREST_BLOCK, tile, type HeapViews } from './kernels.js';
import { trainKMeans } from './chunked-kmeans.js';
import type { FitRows, ListCodec } from './list-codec.js';
import { rowStride } from './metric.js';

export interface PqShape {
  subvectors: number;
  bits: number;
}

/** Rows the codebooks train on, at most: 64 per codebook entry is plenty for 8-dimensional pieces. */
const TRAIN_ROWS_PER_ENTRY = 64;
const TRAIN_ITERS = 16;
/** Rows encoded per kernel call. */
const ENCODE_ROWS = 1024;
const FORMAT = 1;
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
  readonly codeBytes: number;
  readonly queryBytes: number;
  /** The codebooks as kernel rows, for encoding with the `nearest` kernel (built on first use). */
  private encoder: { heap: KernelHeap; books: number; rows: number; labels: number; best: number; scratch: number } | null = null;

  constructor(dimension: number, shape: PqShape, entries: number, codebooks: Float32Array) {
    assertPqShape(shape, dimension);
    this.dimension = dimension;
    this.subvectors = shape.subvectors;
    this.bits = shape.bits;
    this.entries = entries;
    this.pieceDimension = dimension / shape.subvectors;
    if (!Number.isInteger(entries) || entries < 1 || entries > 2 ** shape.bits || codebooks.length !== shape.subvectors * entries * this.pieceDimension) {
      throw new EngineInputError('product quantizer codebooks do not match their shape');
    }
    this.codebooks = codebooks;
    this.codeBytes = shape.subvectors;
    this.queryBytes = shape.subvectors * entries * 4;
  }

  /** The codebooks, and the kernel memory that encodes with them once it has been built. */
  get residentBytes(): number {
    return this.codebooks.byteLength + (this.encoder?.heap.byteLength ?? 0);
  }

  get entryBytes(): number {
    return this.codeBytes;
  }

  /** Trains one codebook per piece on at most TRAIN_ROWS_PER_ENTRY x 2^bits of `fit`'s rows, evenly spread. */
  static train(fit: FitRows, shape: PqShape, seed = 1): ProductQuantizer {
    const { source, rows, dimension } = fit;
    assertPqShape(shape, dimension);
    if (rows.length === 0) throw new EngineInputError('a product quantizer needs at least one row to train on');
    const wanted = 2 ** shape.bits;
    const step = Math.max(1, Math.floor(rows.length / (TRAIN_ROWS_PER_ENTRY * wanted)));
    const sample = Math.ceil(rows.length / step);
    const entries = Math.min(wanted, sample);
    const piece = dimension / shape.subvectors;
    const codebooks = new Float32Array(shape.subvectors * entries * piece);
    const pieces = new Float32Array(sample * piece);
    for (let m = 0; m < shape.subvectors; m++) {
      for (let s = 0; s < sample; s++) {
        const at = rows[s * step] + m * piece;
        for (let t = 0; t < piece; t++) pieces[s * piece + t] = source[at + t];
      }
      const result = trainKMeans(pieces, piece, 'squared_euclidean', {
        nLists: entries, batchSize: sample, maxIters: TRAIN_ITERS, tolerance: 1e-4, seed: seed + m,
      });
      codebooks.set(result.centroids, m * entries * piece);
    }
    return new ProductQuantizer(dimension, shape, entries, codebooks);
  }

  /** u8 format | u8 bits | u16 0 | u32 dimension | u32 subvectors | u32 entries | f32 codebooks. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + this.codebooks.byteLength);
    const view = new DataView(out.buffer);
    view.setUint8(0, FORMAT);
    view.setUint8(1, this.bits);
    view.setUint32(4, this.dimension, true);
    view.setUint32(8, this.subvectors, true);
    view.setUint32(12, this.entries, true);
    out.set(new Uint8Array(this.codebooks.buffer, this.codebooks.byteOffset, this.codebooks.byteLength), HEADER_BYTES);
    return out;
  }

  static fromBytes(bytes: Uint8Array, dimension: number): ProductQuantizer {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength < HEADER_BYTES || view.getUint8(0) !== FORMAT || view.getUint32(4, true) !== dimension) {
      throw new EngineInputError(`product quantizer parameters do not fit dimension ${dimension}`);
    }
    const subvectors = view.getUint32(8, true);
    const entries = view.getUint32(12, true);
    const floats = (bytes.byteLength - HEADER_BYTES) / 4;
    if (!Number.isInteger(floats)) throw new EngineInputError('product quantizer parameters are truncated');
    const codebooks = new Float32Array(floats);
    new Uint8Array(codebooks.buffer).set(bytes.subarray(HEADER_BYTES));
    if (!codebooks.every(Number.isFinite)) throw new EngineInputError('product quantizer codebooks are not finite');
    return new ProductQuantizer(dimension, { subvectors, bits: view.getUint8(1) }, entries, codebooks);
  }

  entriesAt(lists: InvertedLists, list: number): number {
    return lists.codesAt(list);
  }

  encode(source: Float32Array, from: number, codes: Int8Array, to: number): void {
    this.encodeBatch(source, [from], codes, to);
  }

  /** Each piece of each row goes to its nearest codebook entry, found by the `nearest` kernel. */
  encodeBatch(source: Float32Array, rows: ArrayLike<number>, codes: Int8Array, to: number): void {
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
          for (let t = 0; t < piece; t++) f32[base + i * stride + t] = source[at + t];
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

  scan(heap: KernelHeap, query: number, entries: number, n: number, out: number): void {
    const { f32, u8 } = heap;
    const m = this.subvectors;
    const stride = this.entries;
    const table = query >> 2;
    const to = out >> 2;
    for (let i = 0; i < n; i++) {
      const code = entries + i * m;
      let sum = 0;
      for (let j = 0, row = table; j < m; j++, row += stride) sum += f32[row + u8[code + j]];
      f32[to + i] = sum;
    }
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
