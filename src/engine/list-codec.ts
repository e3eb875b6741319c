// How an index type stores and scans its list entries (Faiss's split: the inverted lists hold
// opaque codes, each type supplies how to fit, encode and scan them). The float32 rows themselves
// (flat-codec.ts) and the int8 scalar quantizer (scalar-quantizer.ts) are the implementations.
import type { InvertedLists } from './inverted-lists.js';
import type { HeapViews, Kernels } from './kernels.js';

export interface ListCodec {
  /** Bytes the codec stores per entry beside its row; 0 when it scans the float32 rows themselves. */
  readonly codeBytes: number;
  /** Bytes from one scanned entry to the next. */
  readonly entryBytes: number;
  /** Bytes of a query prepared for `scan`. */
  readonly queryBytes: number;
  /** Whether the scan's dot products are exact (else the best candidates are re-ranked on rows). */
  readonly exact: boolean;
  /** Byte address of the first entry of `list` the scan reads (valid until the next allocation). */
  entriesAt(lists: InvertedLists, list: number): number;
  /** Writes the code of the float32 row at float index `from` of the heap to byte `to`. */
  encode(heap: HeapViews, from: number, to: number): void;
  /**
   * Writes the float32 query at float index `from` as the scan reads it, at byte `to`; returns
   * the scale s with q.x = s * (what scan writes for x), up to a constant that does not rank.
   */
  prepareQuery(heap: HeapViews, from: number, to: number): number;
  /** out[i] = prepared query . entry i, for i < n. */
  scan(kernels: Kernels, query: number, entries: number, n: number, out: number): void;
  /** out[i * ldo + j] = prepared query i . entry j, for i < m (multiple of QUERY_TILE), j < n (even). */
  scanBlock(kernels: Kernels, queries: number, m: number, entries: number, n: number, out: number, ldo: number): void;
}

/** How a codec is fitted: on the rows at float indices `rows` of `f32`. */
export type ListCodecFit = (f32: Float32Array, rows: ArrayLike<number>, dimension: number) => ListCodec;
