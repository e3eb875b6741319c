// Row-major float32 matrices kept in a shared WebAssembly memory, so that the kernels, and a
// training worker handed the same memory, read them where they are instead of copying them.
import { EngineInputError } from './errors.js';
import { KernelHeap, alignUp, HeapExhaustedError, MAX_HEAP_BYTES } from './kernel-heap.js';
import { ROW_TILE, type KernelChoice } from './kernels.js';
import { encodeVector, rowStride, type Metric } from './metric.js';

/** Rows in a kernel heap: `count` rows of `rowStride(dimension)` floats from byte `ptr`. */
export interface HeapRows {
  heap: KernelHeap;
  ptr: number;
  count: number;
  dimension: number;
}

interface Home {
  memory: WebAssembly.Memory;
  /** Rows are unit length (a cosine index's snapshot). */
  unitNorm: boolean;
}

const homes = new WeakMap<ArrayBufferLike, Home>();

/** Bytes for `count` rows padded to whole kernel tiles. */
export function paddedRowsBytes(count: number, dimension: number): number {
  return alignUp(Math.ceil(count / ROW_TILE) * ROW_TILE * rowStride(dimension) * 4);
}

/**
 * A zeroed count x dimension matrix in a new shared memory, with room for the padding rows the
 * kernels overrun into. When the dimension is a multiple of 4 the kernels can read it in place.
 */
export function allocateSharedRows(count: number, dimension: number, unitNorm: boolean): Float32Array {
  const bytes = paddedRowsBytes(count, dimension);
  if (bytes > MAX_HEAP_BYTES) throw new HeapExhaustedError(bytes);
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65_536)), maximum: 65_536, shared: true });
  const buffer = memory.buffer;
  homes.set(buffer, { memory, unitNorm });
  return new Float32Array(buffer, 0, count * dimension);
}

/**
 * Most bytes of rows one chunk of a training snapshot holds: a kernel heap is addressed with
 * 31-bit byte offsets, and the run's working space grows the chunk's memory after its rows.
 */
export const ROW_CHUNK_BYTES = 2 ** 30;

/** Rows of `dimension` floats that fit in one chunk of `chunkBytes` (at least 1). */
export function rowsPerChunk(dimension: number, chunkBytes: number = ROW_CHUNK_BYTES): number {
  return Math.max(1, Math.floor(chunkBytes / (rowStride(dimension) * 4 * ROW_TILE)) * ROW_TILE);
}

/**
 * allocateSharedRows for more rows than one memory should hold: consecutive chunks of at most
 * rowsPerChunk(dimension, chunkBytes) rows, each in its own shared memory (one chunk for up to
 * 350,000 rows at 768 dimensions). Rows keep their order across the chunks.
 */
export function allocateSharedRowChunks(count: number, dimension: number, unitNorm: boolean, chunkBytes: number = ROW_CHUNK_BYTES): Float32Array[] {
  const per = rowsPerChunk(dimension, chunkBytes);
  const chunks: Float32Array[] = [];
  for (let start = 0; start < count || chunks.length === 0; start += per) {
    const rows = Math.min(per, count - start);
    chunks.push(allocateSharedRows(Math.max(rows, 1), dimension, unitNorm).subarray(0, Math.max(rows, 0) * dimension));
  }
  return chunks;
}

/** The shared memories chunks made by allocateSharedRows / allocateSharedRowChunks live in. */
export function memoriesOf(chunks: readonly Float32Array[]): WebAssembly.Memory[] {
  return chunks.map((chunk) => {
    const home = homes.get(chunk.buffer);
    if (!home) throw new EngineInputError('rows not allocated by allocateSharedRows');
    return home.memory;
  });
}

/** Rows given as one array or as consecutive chunks (a training snapshot's `vectors`). */
export type RowChunks = Float32Array | readonly Float32Array[];

export function chunksOf(vectors: RowChunks): readonly Float32Array[] {
  return vectors instanceof Float32Array ? [vectors] : vectors;
}

/** The shared memory `vectors` live in, when the kernels can read them there as rows. */
export function sharedRowsHome(vectors: Float32Array, dimension: number): Home | undefined {
  const home = homes.get(vectors.buffer);
  if (!home || dimension % 4 !== 0 || vectors.byteOffset % 16 !== 0) return undefined;
  const count = vectors.length / dimension;
  if (vectors.byteOffset + paddedRowsBytes(count, dimension) > home.memory.buffer.byteLength) return undefined;
  return home;
}

/** Throws unless `vectors` holds a whole number of rows, at least one (in every chunk). */
export function rowCount(vectors: RowChunks, dimension: number): number {
  if (!(vectors instanceof Float32Array)) {
    if (!Array.isArray(vectors) || vectors.length === 0) throw new EngineInputError('vectors must be a Float32Array or a non-empty array of them');
    let total = 0;
    for (const chunk of vectors) {
      if (!(chunk instanceof Float32Array)) throw new EngineInputError('vectors must be a Float32Array or a non-empty array of them');
      total += rowCount(chunk, dimension);
    }
    return total;
  }
  const count = vectors.length / dimension;
  if (!Number.isInteger(count) || count < 1) {
    throw new EngineInputError(`vectors has ${vectors.length} floats, not a positive multiple of dimension ${dimension}`);
  }
  return count;
}

/**
 * Rows ready for k-means under `metric`: read in place when they already live in a shared kernel
 * memory in the right form, otherwise validated (finite) and copied, normalised for cosine.
 */
export function placeRows(vectors: Float32Array, dimension: number, metric: Metric, kernels: KernelChoice = 'auto'): HeapRows {
  if (!(vectors instanceof Float32Array)) throw new EngineInputError('vectors must be a Float32Array');
  const count = rowCount(vectors, dimension);
  const home = sharedRowsHome(vectors, dimension);
  if (home && (metric !== 'cosine' || home.unitNorm)) {
    return { heap: new KernelHeap({ memory: home.memory, kernels }), ptr: vectors.byteOffset, count, dimension };
  }
  const heap = new KernelHeap({ bytes: paddedRowsBytes(count, dimension), kernels });
  const stride = rowStride(dimension);
  const f32 = heap.f32;
  for (let i = 0; i < count; i++) encodeVector(vectors, i * dimension, dimension, metric, f32, i * stride, `vectors row ${i}`);
  return { heap, ptr: 0, count, dimension };
}
