// The float32 list codec: the lists' own rows are the codes, scanned as exact dot products. An
// IVF_FLAT index scans with it untrained and whenever a search probes every list.
import type { InvertedLists } from './inverted-lists.js';
import type { KernelHeap } from './kernel-heap.js';
import type { HeapViews } from './kernels.js';
import type { ListCodec } from './list-codec.js';

export class FlatCodec implements ListCodec {
  readonly codeBytes = 0;
  readonly exact = true;
  readonly blocked = true;
  readonly residentBytes = 0;
  readonly entryBytes: number;
  readonly queryBytes: number;
  private readonly stride: number;

  constructor(stride: number) {
    this.stride = stride;
    this.entryBytes = stride * 4;
    this.queryBytes = stride * 4;
  }

  entriesAt(lists: InvertedLists, list: number): number {
    return lists.rowsAt(list);
  }

  /** Nothing to write: the row is the code. */
  encode(): boolean {
    return true;
  }

  encodeBatch(source: Float32Array, rows: ArrayLike<number>, codes: Int8Array, to: number, lists: ArrayLike<number>, misfits?: Uint8Array): void {
    misfits?.fill(0, 0, rows.length);
  }

  toBytes(): null {
    return null;
  }

  prepareQuery(heap: HeapViews, from: number, to: number): number {
    if (from !== to >> 2) heap.f32.copyWithin(to >> 2, from, from + this.stride);
    return 1;
  }

  queryConstant(): number {
    return 0;
  }

  scan(heap: KernelHeap, query: number, entries: number, n: number, out: number): void {
    heap.kernels.dotRows(query, entries, n, this.entryBytes, out);
  }

  scanBlock(heap: KernelHeap, queries: number, m: number, entries: number, n: number, out: number, ldo: number): void {
    heap.kernels.dotBlock(queries, m, entries, n, this.entryBytes, out, ldo);
  }
}
