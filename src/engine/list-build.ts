// Lays out an index's new inverted lists off the main thread: the training worker, holding the
// snapshot's rows and their lists, writes every list block (rows, norms, codes) into new shared
// memories (as many as the index's per-memory limit needs), and the index adopts them, so its
// own thread only settles the slots and swaps.
import { EngineInputError } from './errors.js';
import { loadListCodec, type IndexTypeSpec } from './index-types.js';
import { InvertedLists, type ListBlocks } from './inverted-lists.js';
import type { KernelChoice } from './kernels.js';
import type { ListCodec } from './list-codec.js';
import type { IvfModel } from './vector-index.js';
import { ListMemories } from './list-memories.js';
import { rowStride, type Metric } from './metric.js';
import { ScalarQuantizer } from './scalar-quantizer.js';
import type { HeapRows } from './shared-rows.js';

/** How an index lays out its trained lists: what the builder must match (IvfIndex.trainingSnapshot). */
export interface ListLayout {
  spec: IndexTypeSpec;
  metric: Metric;
  /** IVF_FLAT keeps int8 codes beside its rows, refitted at every model. */
  prescan: boolean;
  /** List bytes one memory holds before lists go to another (ListMemories' limit). */
  listMemoryBytes: number;
}

/** Lists built for one model in their own shared memories, ready for IvfIndex.applyModel to adopt. */
export interface BuiltLists {
  /** The memories the lists are in, the first the primary (`blocks.memories` indexes them). */
  memories: WebAssembly.Memory[];
  nLists: number;
  /** Floats per stored row: 0 when the lists keep only codes. */
  stride: number;
  codeBytes: number;
  blocks: ListBlocks;
  /** IVF_FLAT's fitted pre-scan quantizer (ScalarQuantizer.toBytes), when prescan is on. */
  prescan?: Uint8Array;
}

/**
 * Spare rows each list reserves, as a share of its rows: writes that land while the worker builds
 * are appended by the swap, and a list that overflows moves to a new block (and enough moves
 * compact the whole arena, one long pause on the thread that serves queries). An eighth covers a
 * stream of 10,000 writes/s during a one-second training run of 100,000 vectors.
 */
const HEADROOM = 1 / 8;

/** Rows per batch of codes encoded at once (the codes of a batch are held in a JS array). */
const ENCODE_ROWS = 4096;

/** Whether the trained lists of `layout` keep the float32 rows (else only codes). */
export function storesRows(layout: ListLayout): boolean {
  return layout.spec.type === 'ivf_flat';
}

/**
 * The codec the trained lists of `layout` keep codes with: the type's codec trained with `model`,
 * IVF_FLAT's pre-scan quantizer, or none.
 */
export function layoutCodec(layout: ListLayout, dimension: number, model: IvfModel, prescan: () => ScalarQuantizer | null): ListCodec | null {
  if (!storesRows(layout)) return loadListCodec(layout.spec, model, dimension);
  return layout.prescan ? prescan() : null;
}

/**
 * The lists of `model` holding row i of `rows` (ids[i]) in list labels[i], in row order: the layout
 * IvfIndex's own rebuild gives when the rows are its lists in order (a training snapshot). The
 * rows may be in several chunks, read in order.
 */
export function buildLists(
  rows: HeapRows | readonly HeapRows[], ids: Uint32Array, labels: Uint32Array, model: IvfModel, layout: ListLayout, kernels: KernelChoice,
): BuiltLists {
  const { nLists } = model;
  const chunks = 'heap' in rows ? [rows] : rows;
  const { dimension } = chunks[0];
  const count = chunks.reduce((sum, chunk) => sum + chunk.count, 0);
  if (ids.length !== count || labels.length !== count) throw new EngineInputError(`lists need an id and a list for each of the ${count} rows`);
  const stride = rowStride(dimension);
  const offsets = chunks.map((chunk) => Float64Array.from({ length: chunk.count }, (_, i) => (chunk.ptr >> 2) + i * stride));
  let fitted: ScalarQuantizer | null = null;
  const codec = layoutCodec(layout, dimension, model, () => (fitted = fitAcross(chunks, offsets, dimension)));
  const keepRows = storesRows(layout);
  const sizes = new Uint32Array(nLists);
  for (let i = 0; i < count; i++) sizes[labels[i]]++;
  const room = new Uint32Array(nLists);
  for (let l = 0; l < nLists; l++) room[l] = sizes[l] + Math.ceil(sizes[l] * HEADROOM);
  const memories = new ListMemories(layout.listMemoryBytes, kernels);
  const lists = new InvertedLists(memories, keepRows ? stride : 0, nLists, room, codec);
  const cosine = layout.metric === 'cosine';
  // Codes-only lists take codes encoded in batches, as the index's own rebuild does.
  const batch = !keepRows && codec ? new Int8Array(Math.min(ENCODE_ROWS, count) * codec.codeBytes) : null;
  // Rows the codes cannot hold: the lists keep them exact (exact-rows.ts).
  const misfits = new Uint8Array(Math.min(ENCODE_ROWS, count));
  let first = 0;
  for (let c = 0; c < chunks.length; c++) {
    const source = chunks[c].heap.f32;
    const at = offsets[c];
    for (let start = 0; start < at.length; start += ENCODE_ROWS) {
      const end = Math.min(at.length, start + ENCODE_ROWS);
      if (batch && codec) codec.encodeBatch(source, at.subarray(start, end), batch, 0, labels.subarray(first + start, first + end), misfits);
      for (let i = start; i < end; i++) {
        const from = at[i];
        let norm = 0;
        if (!cosine) {
          // As encodeVector computed it when the row was added: float64 in order, then float32.
          let sum = 0;
          for (let t = 0; t < dimension; t++) sum += source[from + t] * source[from + t];
          norm = Math.fround(sum);
        }
        const code = batch && codec ? { codes: batch, at: (i - start) * codec.codeBytes, misfit: misfits[i - start] === 1 } : undefined;
        lists.appendRow(labels[first + i], ids[first + i], source, from, norm, code);
      }
    }
    first += at.length;
  }
  const prescan = fitted as ScalarQuantizer | null;
  return {
    memories: memories.memories(),
    nLists,
    stride: keepRows ? stride : 0,
    codeBytes: lists.codeBytes,
    blocks: lists.exportBlocks(),
    ...(prescan ? { prescan: prescan.toBytes() } : {}),
  };
}

/** IVF_FLAT's pre-scan quantizer fitted over the rows of every chunk, as ScalarQuantizer.fit does over one. */
function fitAcross(chunks: readonly HeapRows[], offsets: readonly Float64Array[], dimension: number): ScalarQuantizer {
  if (chunks.length === 1) return ScalarQuantizer.fit(chunks[0].heap.f32, offsets[0], dimension);
  const all = new Float64Array(offsets.reduce((sum, at) => sum + at.length, 0));
  const owner = new Uint16Array(all.length);
  let row = 0;
  for (let c = 0; c < chunks.length; c++) {
    all.set(offsets[c], row);
    owner.fill(c, row, row + offsets[c].length);
    row += offsets[c].length;
  }
  return ScalarQuantizer.fitRows((r) => chunks[owner[r]].heap.f32, all, dimension);
}
