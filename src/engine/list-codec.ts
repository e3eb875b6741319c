// How an index type stores and scans its list entries (Faiss's split: the inverted lists hold
// opaque codes, each type supplies how to fit, encode and scan them). The float32 rows themselves
// (flat-codec.ts) and the int8 scalar quantizer (scalar-quantizer.ts) are the implementations.
import type { InvertedLists } from './inverted-lists.js';
import type { KernelHeap } from './kernel-heap.js';
import type { HeapViews } from './kernels.js';

export interface ListCodec {
  /** Bytes the codec stores per entry beside its row; 0 when it scans the float32 rows themselves. */
  readonly codeBytes: number;
  /** Bytes from one scanned entry to the next. */
  readonly entryBytes: number;
  /** Bytes the codec itself holds (its parameters, and any working memory it keeps). */
  readonly residentBytes: number;
  /** Bytes of a query prepared for `scan`. */
  readonly queryBytes: number;
  /** Whether the scan's dot products are exact (else the best candidates are re-ranked on rows). */
  readonly exact: boolean;
  /** Whether scanBlock beats one scan per query (else the scanner scans each query in place). */
  readonly blocked: boolean;
  /** Byte address of the first entry of `list` the scan reads (valid until the next allocation). */
  entriesAt(lists: InvertedLists, list: number): number;
  /**
   * Set by codecs whose code may not hold a row within their resolution (IVF_SQ8 clamps values
   * outside its trained ranges): the floats of such a row that codes-only lists keep exact beside
   * the codes (exact-rows.ts). Absent when every row codes within the codec's usual error.
   */
  readonly exactDimension?: number;
  /**
   * Writes the code of the float32 row at float index `from` of `source`, bound for `list`, to
   * byte `to` of `codes` (the list matters to codecs that code residuals from its centroid).
   * Returns false when the code does not hold the row within the codec's resolution (see
   * exactDimension); codecs without that notion always return true.
   */
  encode(source: Float32Array, from: number, codes: Int8Array, to: number, list: number): boolean;
  /**
   * Writes the codes of the rows at float indices `rows` of `source`, bound for `lists`, one after
   * another from byte `to`; with `misfits`, sets misfits[r] to 1 when encode would return false for
   * row r, else 0.
   */
  encodeBatch(source: Float32Array, rows: ArrayLike<number>, codes: Int8Array, to: number, lists: ArrayLike<number>, misfits?: Uint8Array): void;
  /**
   * Optional: encodeBatch for n rows laid out rowBytes apart from byte `from` of `heap`, in one
   * kernel call (for codecs that code no residuals: the list is not asked): codes codeBytes apart
   * from byte `to`, a misfit flag (u8) per row from byte `misfits`; `scratch` is
   * encodeScratchBytes(rowBytes) free bytes, 8-aligned.
   */
  encodeInHeap?(heap: KernelHeap, from: number, n: number, rowBytes: number, to: number, misfits: number, scratch: number): void;
  encodeScratchBytes?(rowBytes: number): number;
  /**
   * Writes the float32 query at float index `from` as the scan reads it, at byte `to`; returns
   * the scale s with q.x = s * (what scan writes for x), up to a constant that does not rank.
   */
  prepareQuery(heap: HeapViews, from: number, to: number): number;
  /**
   * Optional: prepareQuery for n float32 queries of rowBytes each from byte `from` at once, the
   * prepared ones queryBytes apart from `to`, each scale into `scales`; the same bytes and
   * scales as n prepareQuery calls. `scratch` is prepareQueriesScratch(n, rowBytes) free bytes.
   */
  prepareQueries?(heap: KernelHeap, from: number, n: number, rowBytes: number, to: number, scales: Float64Array, scratch: number): void;
  prepareQueriesScratch?(n: number, rowBytes: number): number;
  /** That constant: q.x = constant + scale * scan for the query at float index `from` of `source`. */
  queryConstant(source: Float32Array, from: number): number;
  /**
   * Codecs that code residuals from the list centroids: q.c of `list` for the float32 query at
   * float index `from` of `query`, which the scan of that list leaves out (q.x = offset + scan).
   */
  listOffset?(query: Float32Array, from: number, list: number): number;
  /** out[i] = prepared query . entry i, for i < n. */
  scan(heap: KernelHeap, query: number, entries: number, n: number, out: number): void;
  /** out[i * ldo + j] = prepared query i . entry j, for i < m (multiple of QUERY_TILE), j < n (even). */
  scanBlock(heap: KernelHeap, queries: number, m: number, entries: number, n: number, out: number, ldo: number): void;
  /** The trained parameters, to persist with the model (null when there are none to keep). */
  toBytes(): Uint8Array | null;
}

/** Rows to fit a codec on: float indices into `source`, each row `dimension` floats. */
export interface FitRows {
  source: Float32Array;
  rows: ArrayLike<number>;
  dimension: number;
}
