// The float32 list codec: the lists' own rows are the codes, scanned as exact dot products. An
// IVF_FLAT index scans with it untrained and whenever a search probes every list.
import type { InvertedLists } from './inverted-lists.js';
import type { HeapViews, Kernels } from './kernels.js';
import type { ListCodec } from './list-codec.js';

export class FlatCodec implements ListCodec {
  readonly codeBytes = 0;
  readonly exact = true;
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
  encode(): void {}

  prepareQuery(heap: HeapViews, from: number, to: number): number {
    if (from !== to >> 2) heap.f32.copyWithin(to >> 2, from, from + this.stride);
    return 1;
  }

  scan(kernels: Kernels, query: number, entries: number, n: number, out: number): void {
    kernels.dotRows(query, entries, n, this.entryBytes, out);
  }

  scanBlock(kernels: Kernels, queries: number, m: number, entries: number, n: number, out: number, ldo: number): void {
    kernels.dotBlock(queries, m, entries, n, this.entryBytes, out, ldo);
  }
}
