// The int8 list codec (Faiss's scalar quantizer): int8 codes of stored rows and int16 codes of
// queries, so the kernels rank candidates on a quarter of the bytes before an exact re-rank. Each
// dimension gets its own affine code, x_d ~ offset_d + step_d * code_d with code_d in [-127, 127].
import { EngineInputError } from './errors.js';
import type { InvertedLists } from './inverted-lists.js';
import type { KernelHeap } from './kernel-heap.js';
import type { HeapViews } from './kernels.js';
import type { ListCodec } from './list-codec.js';

/** Codes are padded to whole 16-byte SIMD steps (the padding codes are 0 and add nothing). */
export function codeBytesFor(dimension: number): number {
  return Math.ceil(dimension / 16) * 16;
}

/** Room left around the fitted range, so rows added after training are rarely clamped. */
const MARGIN = 0.1;
const FIT_ROWS = 32_768;

export class ScalarQuantizer implements ListCodec {
  readonly codeBytes: number;
  readonly exact = false;
  readonly blocked = true;
  /** A value beyond the trained range clamps: such rows of codes-only lists are kept exact. */
  readonly exactDimension: number;
  private readonly inverseSteps: Float64Array;

  constructor(
    readonly dimension: number,
    readonly offsets: Float32Array,
    readonly steps: Float32Array,
  ) {
    this.codeBytes = codeBytesFor(dimension);
    this.exactDimension = dimension;
    this.inverseSteps = Float64Array.from(steps, (step) => 1 / step);
  }

  /** Offsets and steps (float32) and the inverse steps (float64). */
  get residentBytes(): number {
    return this.dimension * 16;
  }

  get entryBytes(): number {
    return this.codeBytes;
  }

  /** The query's int16 codes. */
  get queryBytes(): number {
    return this.codeBytes * 2;
  }

  /**
   * Fits the per-dimension ranges of the rows found at float indices `rows` of `f32`, looking at
   * most at FIT_ROWS of them evenly spread (the margin covers what a sample misses).
   */
  static fit(f32: Float32Array, rows: ArrayLike<number>, dimension: number): ScalarQuantizer {
    return ScalarQuantizer.fitRows(() => f32, rows, dimension);
  }

  /** fit, with row r read from `sourceOf(r)` (rows spread over several memories). */
  static fitRows(sourceOf: (row: number) => Float32Array, rows: ArrayLike<number>, dimension: number): ScalarQuantizer {
    const low = new Float64Array(dimension).fill(Infinity);
    const high = new Float64Array(dimension).fill(-Infinity);
    const step = Math.max(1, Math.floor(rows.length / FIT_ROWS));
    for (let r = 0; r < rows.length; r += step) {
      const at = rows[r];
      const f32 = sourceOf(r);
      for (let d = 0; d < dimension; d++) {
        const v = f32[at + d];
        if (v < low[d]) low[d] = v;
        if (v > high[d]) high[d] = v;
      }
    }
    const offsets = new Float32Array(dimension);
    const steps = new Float32Array(dimension);
    for (let d = 0; d < dimension; d++) {
      const span = rows.length > 0 ? high[d] - low[d] : 0;
      offsets[d] = rows.length > 0 ? (high[d] + low[d]) / 2 : 0;
      steps[d] = span > 0 ? (span * (1 + 2 * MARGIN)) / 254 : 1;
    }
    return new ScalarQuantizer(dimension, offsets, steps);
  }

  /**
   * Writes the int8 codes of the row at float index `from` to byte index `to` of `i8`. Returns
   * false when a value had to be clamped: it lies outside the trained range by more than half a
   * step, so its code errs by more than the codes' resolution (codes-only lists keep such a row
   * exact: exact-rows.ts).
   */
  encodeRow(f32: Float32Array, from: number, i8: Int8Array, to: number): boolean {
    const { offsets, inverseSteps, dimension } = this;
    let fits = true;
    for (let d = 0; d < dimension; d++) {
      const code = Math.round((f32[from + d] - offsets[d]) * inverseSteps[d]);
      if (code > 127 || code < -127) {
        fits = false;
        i8[to + d] = code > 127 ? 127 : -127;
      } else i8[to + d] = code;
    }
    i8.fill(0, to + dimension, to + this.codeBytes);
    return fits;
  }

  /**
   * Writes the query at float index `from` as int16 codes at index `to` of `i16`, scaled so that
   * q . x = constant + scale * (q16 . codes_x); returns the scale (the constant does not rank).
   */
  encodeQuery(f32: Float32Array, from: number, i16: Int16Array, to: number): number {
    const { steps, dimension } = this;
    let largest = 0;
    for (let d = 0; d < dimension; d++) largest = Math.max(largest, Math.abs(f32[from + d] * steps[d]));
    const scale = largest > 0 ? largest / 32_767 : 1;
    for (let d = 0; d < dimension; d++) i16[to + d] = Math.round((f32[from + d] * steps[d]) / scale);
    i16.fill(0, to + dimension, to + this.codeBytes);
    return scale;
  }

  entriesAt(lists: InvertedLists, list: number): number {
    return lists.codesAt(list);
  }

  encode(source: Float32Array, from: number, codes: Int8Array, to: number): boolean {
    return this.encodeRow(source, from, codes, to);
  }

  encodeBatch(source: Float32Array, rows: ArrayLike<number>, codes: Int8Array, to: number, lists?: ArrayLike<number>, misfits?: Uint8Array): void {
    for (let r = 0; r < rows.length; r++) {
      const fits = this.encodeRow(source, rows[r], codes, to + r * this.codeBytes);
      if (misfits) misfits[r] = fits ? 0 : 1;
    }
  }

  /** encodeBatch in the kernel: at 128-d the JS loop cost 3-4 us a row, Math.round most of it. */
  encodeInHeap(heap: KernelHeap, from: number, n: number, rowBytes: number, to: number, misfits: number, scratch: number): void {
    const offsetsAt = scratch >> 2;
    const inverseAt = (scratch + rowBytes) >> 3;
    heap.f32.set(this.offsets, offsetsAt);
    heap.f32.fill(0, offsetsAt + this.dimension, offsetsAt + (rowBytes >> 2));
    heap.f64.set(this.inverseSteps, inverseAt);
    heap.f64.fill(0, inverseAt + this.dimension, inverseAt + (rowBytes >> 2));
    heap.kernels.encodeRowsI8(from, n, rowBytes, scratch, to, this.codeBytes, misfits);
  }

  /** The offsets (f32) and inverse steps (f64) as encodeRowsI8 reads them. */
  encodeScratchBytes(rowBytes: number): number {
    return rowBytes * 3;
  }

  /** u32 dimension, then the offsets and the steps as float32. */
  toBytes(): Uint8Array {
    const out = new Uint8Array(4 + this.dimension * 8);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.dimension, true);
    for (let d = 0; d < this.dimension; d++) {
      view.setFloat32(4 + d * 4, this.offsets[d], true);
      view.setFloat32(4 + (this.dimension + d) * 4, this.steps[d], true);
    }
    return out;
  }

  /** The quantizer `toBytes` wrote, for an index of `dimension`. */
  static fromBytes(bytes: Uint8Array, dimension: number): ScalarQuantizer {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.byteLength !== 4 + dimension * 8 || view.getUint32(0, true) !== dimension) {
      throw new EngineInputError(`scalar quantizer parameters do not fit dimension ${dimension}`);
    }
    const offsets = new Float32Array(dimension);
    const steps = new Float32Array(dimension);
    for (let d = 0; d < dimension; d++) {
      offsets[d] = view.getFloat32(4 + d * 4, true);
      steps[d] = view.getFloat32(4 + (dimension + d) * 4, true);
      if (!Number.isFinite(offsets[d]) || !(steps[d] > 0) || !Number.isFinite(steps[d])) {
        throw new EngineInputError(`scalar quantizer parameters of dimension ${d} are not usable`);
      }
    }
    return new ScalarQuantizer(dimension, offsets, steps);
  }

  prepareQuery(heap: HeapViews, from: number, to: number): number {
    return this.encodeQuery(heap.f32, from, heap.i16, to >> 1);
  }

  /** The steps padded to rowBytes, then a float64 scale per query. */
  prepareQueriesScratch(n: number, rowBytes: number): number {
    return rowBytes + n * 8;
  }

  /** encodeQuery for many queries in one kernel call: at 784 dimensions the JS loops cost as much as a list scan. */
  prepareQueries(heap: KernelHeap, from: number, n: number, rowBytes: number, to: number, scales: Float64Array, scratch: number): void {
    const stepsAt = scratch >> 2;
    heap.f32.set(this.steps, stepsAt);
    heap.f32.fill(0, stepsAt + this.dimension, stepsAt + (rowBytes >> 2));
    const scalesAt = scratch + rowBytes;
    heap.kernels.quantizeQueriesI16(from, n, rowBytes, scratch, to, this.queryBytes, scalesAt);
    scales.set(heap.f64.subarray(scalesAt >> 3, (scalesAt >> 3) + n));
  }

  /** q . offsets: the part of q.x the codes leave out. */
  queryConstant(source: Float32Array, from: number): number {
    let sum = 0;
    for (let d = 0; d < this.dimension; d++) sum += source[from + d] * this.offsets[d];
    return sum;
  }

  scan(heap: KernelHeap, query: number, entries: number, n: number, out: number): void {
    heap.kernels.dotRowsI8(query, entries, n, this.codeBytes, out);
  }

  scanBlock(heap: KernelHeap, queries: number, m: number, entries: number, n: number, out: number, ldo: number): void {
    heap.kernels.dotBlockI8(queries, m, entries, n, this.codeBytes, out, ldo);
  }
}
