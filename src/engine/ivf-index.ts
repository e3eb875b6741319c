// The IVF index of every type: a coarse quantizer (centroids) over inverted lists. Untrained it is
// one list of float32 rows (another per memory once it outgrows one) searched exhaustively;
// trained, a search probes the nProbes lists whose centroids are nearest, scans each with the
// type's list codec in the memory that holds it (list-memories.ts) and merges the best k.
// IVF_FLAT keeps its rows in the lists, with int8 codes beside them for a pre-scan re-ranked
// exactly on the rows. IVF_SQ8 and IVF_PQ keep only codes once trained: their results carry code
// distances (marked approximate) and the caller re-ranks them on vectors it keeps elsewhere.
// A row their codes cannot hold (SQ8: a value beyond its trained ranges) is kept exact beside its
// list's codes and scored exactly by every scan of that list (exact-rows.ts), until the next model.
import type { Block, BlockArena } from './block-arena.js';
import { CoarseQuantizer } from './coarse-quantizer.js';
import { EngineInputError } from './errors.js';
import { FlatCodec } from './flat-codec.js';
import { alignUp, type KernelHeap } from './kernel-heap.js';
import { NEAREST_BLOCK, QUERY_TILE, ROW_TILE, tile, type KernelChoice } from './kernels.js';
import { loadListCodec, type IndexTypeName, type IndexTypeSpec } from './index-types.js';
import { InvertedLists } from './inverted-lists.js';
import type { BuiltLists } from './list-build.js';
import { copyEntries, type ListContents, type ListImport, type ListShape } from './list-contents.js';
import type { ListCodec } from './list-codec.js';
import { ADDRESS_SPAN, DEFAULT_LIST_MEMORY_BYTES, ListMemories, addressMemory, addressOffset, assertListMemoryBytes } from './list-memories.js';
import { SCAN_ROWS, groupQueries, scanList, scanListForGroup, scanScratchBytes } from './list-scanner.js';
import { assertDimension, assertMetric, assertVectorLength, encodeVector, exactDistance, exactDistanceFromSums, rowStride, type Metric } from './metric.js';
import { ScalarQuantizer } from './scalar-quantizer.js';
import { prefault } from './prefault.js';
import { allocateSharedRowChunks, ROW_CHUNK_BYTES, rowsPerChunk } from './shared-rows.js';
import { TopK } from './top-k.js';
import type { EngineSearchOptions, EngineSearchResult, EngineStageTimings, IvfModel, ModelAssignment, TrainingSnapshot, VectorIndex, VectorSource } from './vector-index.js';
import { runToEnd } from '../runtime/turns.js';

/**
 * Lists probed when a search names none: ceil(sqrt(nLists)), which on embedding-like data
 * reaches a recall@10 around 0.95 (16 of 256 lists in the engine benchmark).
 */
export function defaultNProbes(nLists: number): number {
  return Math.max(1, Math.min(nLists, Math.ceil(Math.sqrt(nLists))));
}

/** A codec that codes rows in the kernel heap (ListCodec.encodeInHeap, with the scratch it needs). */
function codesInHeap(codec: ListCodec | null): codec is ListCodec & Required<Pick<ListCodec, 'encodeInHeap' | 'encodeScratchBytes'>> {
  return codec?.encodeInHeap !== undefined && codec.encodeScratchBytes !== undefined;
}

/** Queries encoded and probed at once by searchBatch; bounds its scratch memory. */
const BATCH_QUERIES = 1024;
const PREPARED_BYTES = 16 << 20;
/** Rows applyModelInSteps moves into the new lists per step: a few ms of work. */
const APPLY_STEP_ROWS = 4096;
/** Writes an adopting swap assigns and appends per step: each costs a nearest-centroid search. */
const REPLAY_STEP_ROWS = 1024;
/** Rows encoded and assigned at once by addBatch and applyModel. */
const INSERT_ROWS = 1024;

/** Heap-resident state; applyModel builds a whole new one and swaps it in. */
interface IndexState {
  /** The memories the lists are spread over; `heap` and `arena` are the primary one's. */
  memories: ListMemories;
  heap: KernelHeap;
  arena: BlockArena;
  lists: InvertedLists;
  coarse: CoarseQuantizer | null;
  model: IvfModel | null;
  /**
   * The codec of the codes kept beside (or instead of) the rows: IVF_FLAT's int8 pre-scan (null
   * untrained, or with prescan off), the trained SQ8 or PQ codec. Null means no codes.
   */
  codec: ListCodec | null;
  /** Whether the lists hold the float32 rows (always for IVF_FLAT; untrained for the others). */
  rows: boolean;
  scratch: Block | null;
  /** Scratch in each other memory (by memory number) for scanning the lists there. */
  scratches: (Block | null)[];
}

/**
 * Reads one float per cache line of each candidate's row before the re-rank scores any: the
 * rows lie scattered through lists the scan read only the codes of, so they are usually in no
 * cache, and a distance loop that meets them one row at a time waits for each row's first line
 * in turn (it was most of a search at 1-4 probes). These loads are independent, so the memory
 * system fetches the rows side by side. Returns their sum, kept so that the loads stay.
 */
function touchRows(state: IndexState, tags: Float64Array, start: number, n: number, rowBytes: number): number {
  let sum = 0;
  const f32 = state.heap.f32;
  for (let i = start; i < start + n; i++) {
    const tag = tags[i];
    const from = tag < ADDRESS_SPAN ? tag : addressOffset(tag);
    const rows = tag < ADDRESS_SPAN ? f32 : state.memories.heap(addressMemory(tag)).f32;
    for (let b = 0; b < rowBytes; b += 64) sum += rows[(from + b) >>> 2];
  }
  return sum;
}

/** Candidates the re-rank kernel sums per call (its scratch: 36 bytes each). */
const RERANK_CHUNK = 128;
export const RERANK_SCRATCH_BYTES = alignUp(RERANK_CHUNK * 4, 16) + RERANK_CHUNK * 32;

/**
 * Candidates the quantized pre-scan keeps for the exact re-rank. The int8 ranking errs by a small
 * fraction of the gaps between neighbours: on the benchmark data a window of twice topK gives a
 * recall@10 within 0.0001 of scanning the f32 rows, at every nProbes.
 */
function rerankWindow(topK: number): number {
  return topK + Math.max(topK, 8);
}

function assertId(id: unknown, label = 'id'): asserts id is number {
  if (!Number.isInteger(id) || (id as number) < 0 || (id as number) > 0xffff_ffff) {
    throw new EngineInputError(`${label} must be an integer from 0 to 4294967295, got ${String(id)}`);
  }
}

/** Bytes exportListsInSteps copies between two steps: about 5 ms of copying on this project's VMs. */
const EXPORT_STEP_BYTES = 1 << 20;
/** Rows' bytes trainingSnapshotInSteps copies between two steps (into touched memory: 1-3 ms). */
const SNAPSHOT_STEP_BYTES = 4 << 20;

export class IvfIndex implements VectorIndex {
  readonly dimension: number;
  readonly metric: Metric;
  readonly type: IndexTypeName;
  readonly spec: IndexTypeSpec;
  private readonly stride: number;
  private readonly rowBytes: number;
  private readonly kernelChoice: KernelChoice;
  private readonly prescan: boolean;
  /** List bytes one WebAssembly memory holds before lists go to another (list-memories.ts). */
  private readonly listMemoryBytes: number;
  /** Row bytes one chunk of a training snapshot holds (shared-rows.ts). */
  private readonly snapshotChunkBytes: number;
  private state: IndexState;
  /** The state an import was reserved in (reserveImport), and its model's centroids. */
  private reservedImport: { centroids: Float32Array; state: IndexState } | null = null;
  /** Scans the float32 rows: untrained, exact searches, or with prescan off. */
  private readonly flat: FlatCodec;
  /** Writes record the current epoch; a snapshot closes one, so later writes are recognisable. */
  private epoch = 0;
  /** The sum touchRows returns, kept so that its loads are not optimised away. */
  private touch = 0;
  private drainArrays = { ids: new Uint32Array(0), scores: new Float64Array(0), tags: new Float64Array(0), distances: new Float64Array(0) };
  private lastSnapshotEpoch = -1;
  /** An applyModelInSteps is under way (between its steps). */
  private applying = false;
  private readonly snapshotEpochs = new WeakMap<Uint32Array, number>();

  /**
   * `kernels` picks the distance kernels (tests and benchmarks compare them); default auto.
   * `prescan` (default true) keeps int8 codes of every row once trained, and probing searches
   * rank candidates on them before the exact re-rank: a quarter of the bytes to stream for
   * a quarter more memory. Exact searches always scan the f32 rows. `spec` (default IVF_FLAT)
   * is the index type, checked by resolveIndexType. `listMemoryBytes` (internal; tests force
   * small memories with it) is the list bytes one WebAssembly memory holds before lists go to
   * another; default DEFAULT_LIST_MEMORY_BYTES. `snapshotChunkBytes` (internal, the same for
   * training snapshots) is the row bytes one chunk of a snapshot holds; default ROW_CHUNK_BYTES.
   */
  constructor(options: {
    dimension: number; metric: Metric; kernels?: KernelChoice; prescan?: boolean; spec?: IndexTypeSpec; listMemoryBytes?: number; snapshotChunkBytes?: number;
  }) {
    assertDimension(options?.dimension);
    assertMetric(options.metric);
    this.dimension = options.dimension;
    this.metric = options.metric;
    this.spec = options.spec ?? { type: 'ivf_flat' };
    this.type = this.spec.type;
    this.stride = rowStride(this.dimension);
    this.rowBytes = this.stride * 4;
    this.kernelChoice = options.kernels ?? 'auto';
    this.prescan = options.prescan ?? true;
    this.listMemoryBytes = options.listMemoryBytes ?? DEFAULT_LIST_MEMORY_BYTES;
    assertListMemoryBytes(this.listMemoryBytes);
    this.snapshotChunkBytes = options.snapshotChunkBytes ?? ROW_CHUNK_BYTES;
    this.flat = new FlatCodec(this.stride);
    this.state = this.createState(null, null);
  }

  /** Whether searches return code distances for the caller to re-rank (a trained IVF_SQ8 or IVF_PQ). */
  get approximate(): boolean {
    return !this.state.rows;
  }

  get size(): number {
    return this.state.lists.size;
  }

  /** Rows kept exact beside the codes (exact-rows.ts). */
  get exactRows(): number {
    return this.state.lists.exactCount;
  }

  /** IVF_FLAT: rows whose pre-scan code sits at the edge of its range, scored exactly by every scan of their list. */
  get edgeRows(): number {
    return this.state.lists.edgeCount;
  }

  get isTrained(): boolean {
    return this.state.model !== null;
  }

  get nLists(): number {
    return this.state.model?.nLists ?? 0;
  }

  /** How many WebAssembly memories the lists are spread over. */
  get memoryCount(): number {
    return this.state.memories.count;
  }

  /** Whether this index scans with the WebAssembly SIMD kernels. */
  get simd(): boolean {
    return this.state.heap.kernels.simd;
  }

  has(id: number): boolean {
    return this.state.lists.has(id);
  }

  /**
   * A copy of the row kept for `id` (its first `dimension` floats), or undefined when absent or
   * when the lists keep only codes. For the euclidean metrics it is bit for bit the vector added;
   * for cosine it is that vector normalised (rowsAreOriginal tells which).
   */
  row(id: number): Float32Array | undefined {
    if (!this.state.rows) return undefined;
    const at = this.state.lists.rowOf(id);
    if (at < 0) return undefined;
    const from = addressOffset(at) >> 2;
    return this.state.memories.heap(addressMemory(at)).f32.slice(from, from + this.dimension);
  }

  /** Whether row() gives the vectors exactly as added (not for cosine, whose rows are normalised). */
  get rowsAreOriginal(): boolean {
    return this.metric !== 'cosine';
  }

  /** Inserts or replaces `id`. An invalid vector changes nothing. */
  add(id: number, vector: ArrayLike<number>): void {
    this.assertNotApplying();
    assertId(id);
    assertVectorLength(vector, this.dimension, 'vector');
    const state = this.state;
    const scratch = this.scratch(state, this.rowBytes + tile(this.nLists) * 4);
    const norm = encodeVector(vector, 0, this.dimension, this.metric, state.heap.f32, scratch.offset >> 2, 'vector');
    const list = state.coarse ? state.coarse.nearest(state.heap, scratch.offset, scratch.offset + this.rowBytes) : -1;
    state.lists.remove(id);
    state.lists.append(list >= 0 ? list : this.untrainedList(state), id, scratch, 0, norm, this.epoch);
  }

  /** Inserts or replaces many (row-major n x dimension); validates every row before changing anything. */
  addBatch(ids: ArrayLike<number>, vectors: Float32Array): void {
    this.assertNotApplying();
    if (ids == null || typeof ids.length !== 'number') throw new EngineInputError('ids must be an array of integers');
    if (!(vectors instanceof Float32Array)) throw new EngineInputError('vectors must be a Float32Array');
    const n = ids.length;
    if (vectors.length !== n * this.dimension) {
      throw new EngineInputError(`vectors has ${vectors.length} floats, expected ${n} ids x dimension ${this.dimension}`);
    }
    for (let i = 0; i < n; i++) assertId(ids[i], `ids[${i}]`);
    const state = this.state;
    const k = this.nLists;
    const chunk = Math.min(INSERT_ROWS, tile(n));
    // A batch of one chunk is validated as its rows are encoded into the scratch, before anything changes.
    if (n > chunk) {
      const probe = new Float32Array(this.stride);
      for (let i = 0; i < n; i++) encodeVector(vectors, i * this.dimension, this.dimension, this.metric, probe, 0, `vectors row ${i}`);
    }
    // A codec that codes in the kernel does so in the scratch, after the rows and the assignment.
    const inHeap = !state.rows && state.coarse && codesInHeap(state.codec) ? state.codec : null;
    const codeBytes = state.lists.codeBytes;
    const regions = {
      rows: chunk * this.rowBytes, labels: chunk * 4, best: chunk * 4, nearest: NEAREST_BLOCK * tile(k) * 4,
      codes: inHeap ? chunk * codeBytes : 0, misfits: inHeap ? tile(chunk, 16) : 0, encode: inHeap?.encodeScratchBytes(this.rowBytes) ?? 0,
    };
    const scratchBytes = Object.values(regions).reduce((sum, bytes) => sum + bytes, 0);
    const norms = new Float64Array(chunk);
    for (let start = 0; start < n; start += chunk) {
      const count = Math.min(chunk, n - start);
      const scratch = this.scratch(state, scratchBytes);
      const base = scratch.offset;
      const f32 = state.heap.f32;
      for (let i = 0; i < count; i++) {
        norms[i] = encodeVector(vectors, (start + i) * this.dimension, this.dimension, this.metric, f32, (base >> 2) + i * this.stride, `vectors row ${start + i}`);
      }
      const labelsAt = base + regions.rows;
      if (state.coarse) state.coarse.assign(state.heap, base, count, labelsAt, labelsAt + regions.labels, labelsAt + regions.labels + regions.best);
      // The labels and codes are copied out: appends may move the scratch block.
      const lists = state.coarse ? state.heap.u32.slice(labelsAt >> 2, (labelsAt >> 2) + count) : null;
      let misfits = new Uint8Array(count);
      let codes: Int8Array | null = null;
      if (inHeap && lists) {
        const codesAt = labelsAt + regions.labels + regions.best + regions.nearest;
        const misfitsAt = codesAt + regions.codes;
        inHeap.encodeInHeap(state.heap, base, count, this.rowBytes, codesAt, misfitsAt, misfitsAt + regions.misfits);
        codes = state.heap.i8.slice(codesAt, codesAt + count * codeBytes);
        misfits = state.heap.u8.slice(misfitsAt, misfitsAt + count);
      } else if (!state.rows && lists) {
        codes = this.encodeRows(state.codec as ListCodec, () => f32, Float64Array.from({ length: count }, (_, i) => (base >> 2) + i * this.stride), lists, misfits);
      }
      for (let i = 0; i < count; i++) {
        const id = ids[start + i];
        state.lists.remove(id);
        const list = lists ? lists[i] : this.untrainedList(state);
        state.lists.append(list, id, scratch, i * this.rowBytes, norms[i], this.epoch, codes ? { codes, at: i * codeBytes, misfit: misfits[i] === 1 } : undefined);
      }
    }
  }

  /**
   * The list an untrained index appends to: its last, or a new one when the last is full and
   * growing it would pass the per-memory limit (an untrained index outgrows one memory too).
   */
  private untrainedList(state: IndexState): number {
    const lists = state.lists;
    const last = lists.count - 1;
    if (lists.length(last) < lists.capacity(last) || lists.grownBytes(last) <= this.listMemoryBytes) return last;
    return lists.addList();
  }

  remove(id: number): boolean {
    this.assertNotApplying();
    if (!Number.isInteger(id)) return false;
    return this.state.lists.remove(id);
  }

  search(query: ArrayLike<number>, options: EngineSearchOptions): EngineSearchResult {
    const { topK, nProbes, filter } = this.searchOptions(options);
    assertVectorLength(query, this.dimension, 'query');
    const state = this.state;
    const k = this.nLists;
    const exact = !state.coarse || nProbes >= k;
    const codec = this.scanCodec(state, exact);
    const outFloats = Math.max(SCAN_ROWS, tile(k));
    const scratch = this.scratch(state, this.rowBytes + outFloats * 4 + SCAN_ROWS * 4 + codec.queryBytes);
    const queryAt = scratch.offset;
    const outAt = queryAt + this.rowBytes;
    const selectedAt = outAt + outFloats * 4;
    const preparedAt = selectedAt + SCAN_ROWS * 4;
    const heap = state.heap;
    encodeVector(query, 0, this.dimension, this.metric, heap.f32, queryAt >> 2, 'query');
    const twice = 2 * codec.prepareQuery(heap, queryAt >> 2, preparedAt);
    const best = new TopK(this.window(state, codec, topK));
    const timings = options.timings;
    const started = timings ? performance.now() : 0;
    const probed = state.coarse && !exact ? state.coarse.probe(heap, queryAt, outAt, nProbes) : null;
    const probedAt = timings ? performance.now() : 0;
    const lists = state.lists;
    const count = probed ? probed.length : lists.count;
    const scanScratch = { out: outAt, selected: selectedAt };
    // Residual codes: each list's scan leaves out the query's dot with its centroid.
    const offsetOf = (list: number): number => codec.listOffset?.(heap.f32, queryAt >> 2, list) ?? 0;
    // Rows kept exact, or with an edge code, are scored beside each list's codes, on the codes'
    // scale (InvertedLists.offerApart); a scan of the rows themselves needs none of that.
    const exactRows = (lists.exactCount > 0 || lists.edgeCount > 0) && !codec.exact;
    const constant = exactRows ? 2 * codec.queryConstant(heap.f32, queryAt >> 2) : 0;
    if (state.memories.count === 1) {
      for (let p = 0; p < count; p++) {
        const list = probed ? probed[p] : p;
        scanList(best, heap, lists, codec, list, preparedAt, twice, offsetOf(list), scanScratch, filter);
        if (exactRows) lists.offerApart(best, list, heap.f32, queryAt >> 2, constant, filter);
      }
    } else {
      // Each list is scanned in its own memory, with the prepared query copied there once.
      const placed = new Float64Array(state.memories.count).fill(-1);
      const queryBytes = alignUp(codec.queryBytes);
      for (let p = 0; p < count; p++) {
        const list = probed ? probed[p] : p;
        const memory = lists.memoryOf(list);
        if (exactRows) lists.offerApart(best, list, heap.f32, queryAt >> 2, constant, filter);
        if (memory === 0) {
          scanList(best, heap, lists, codec, list, preparedAt, twice, offsetOf(list), scanScratch, filter);
          continue;
        }
        let at = placed[memory];
        if (at < 0) {
          at = placed[memory] = this.scratchIn(state, memory, queryBytes + SCAN_ROWS * 8);
          state.memories.heap(memory).u8.set(heap.u8.subarray(preparedAt, preparedAt + codec.queryBytes), at);
        }
        scanList(best, state.memories.heap(memory), lists, codec, list, at, twice, offsetOf(list), { out: at + queryBytes, selected: at + queryBytes + SCAN_ROWS * 4 }, filter);
      }
    }
    // The scan's output region is free again for the re-rank.
    if (!timings) return this.finish(state, best, queryAt, exact, topK, outAt);
    const scannedAt = performance.now();
    const result = this.finish(state, best, queryAt, exact, topK, outAt);
    addTimings(timings, started, probedAt, scannedAt, performance.now());
    return result;
  }

  /** Many queries at once (row-major n x dimension): the same answers as `search`, faster per query. */
  searchBatch(queries: Float32Array, options: EngineSearchOptions): EngineSearchResult[] {
    const { topK, nProbes, filter } = this.searchOptions(options);
    if (!(queries instanceof Float32Array)) throw new EngineInputError('queries must be a Float32Array');
    const total = queries.length / this.dimension;
    if (!Number.isInteger(total)) {
      throw new EngineInputError(`queries has ${queries.length} floats, not a multiple of dimension ${this.dimension}`);
    }
    // Each block validates its rows as it encodes them (a search changes nothing, so a bad row
    // found in a later block leaves nothing to undo); encoding every row twice cost batches a
    // share of what they save.
    const results: EngineSearchResult[] = [];
    // Prepared queries may be large (PQ tables): a block's stay within PREPARED_BYTES.
    const codec = this.scanCodec(this.state, !this.state.coarse || nProbes >= this.nLists);
    const perBlock = Math.max(QUERY_TILE, Math.min(BATCH_QUERIES, Math.floor(PREPARED_BYTES / codec.queryBytes)));
    for (let start = 0; start < total; start += perBlock) {
      const count = Math.min(perBlock, total - start);
      results.push(...this.searchBlock(queries, start, count, topK, nProbes, filter, options.timings));
    }
    return results;
  }

  /**
   * Rows to train on (ids and row-major vectors, cosine rows unit length), copied once into
   * shared memory, in chunks of at most snapshotChunkBytes: a training worker reads them in place
   * and the index stays free to change.
   * An index that keeps only codes reads its vectors from `source`.
   */
  trainingSnapshot(source?: VectorSource, into?: Float32Array[]): TrainingSnapshot {
    return runToEnd(this.trainingSnapshotInSteps(source, into));
  }

  /**
   * trainingSnapshot in steps of about SNAPSHOT_STEP_BYTES copied, so that a caller serving
   * queries answers them in between (120,000 x 128 rows held its thread 40-60 ms in one step).
   * The index must not change until the last step.
   */
  *trainingSnapshotInSteps(source?: VectorSource, into?: Float32Array[]): Generator<void, TrainingSnapshot, undefined> {
    const { lists } = this.state;
    const n = lists.size;
    const d = this.dimension;
    const perChunk = rowsPerChunk(d, this.snapshotChunkBytes);
    const rowsIn = (chunk: number): number => Math.min(perChunk, n - chunk * perChunk);
    const used = into?.slice(0, Math.max(1, Math.ceil(n / perChunk)));
    // `into` came from allocateSnapshot for fewer rows when writes outran it: then fresh memory.
    const vectors = used !== undefined && used.length * perChunk >= n && used.every((chunk, i) => chunk.length >= rowsIn(i) * d)
      ? used.map((chunk, i) => chunk.subarray(0, rowsIn(i) * d))
      : this.allocateSnapshot(n);
    const ids = new Uint32Array(new SharedArrayBuffer(Math.max(n, 1) * 4), 0, n);
    // Copies `rows` rows laid out `step` floats apart from `f32` at `from` to snapshot row `row` on.
    const put = (f32: Float32Array, from: number, step: number, row: number, rows: number): void => {
      while (rows > 0) {
        const chunk = vectors[Math.floor(row / perChunk)];
        const at = row % perChunk;
        const here = Math.min(rows, perChunk - at);
        if (step === d) chunk.set(f32.subarray(from, from + here * d), at * d);
        else for (let i = 0; i < here; i++) chunk.set(f32.subarray(from + i * step, from + i * step + d), (at + i) * d);
        row += here;
        rows -= here;
        from += here * step;
      }
    };
    let row = 0;
    let lastStep = 0;
    const scratch = new Float32Array(this.stride);
    // One view for every row read from the source (a codes-only index's snapshot is one task, and
    // views made per row were a large share of it).
    const head = scratch.subarray(0, d);
    for (let list = 0; list < lists.count; list++) {
      const length = lists.length(list);
      if (!this.state.rows) {
        const listIds = lists.ids(list);
        for (let i = 0, r = row; i < length; i++, r++) {
          this.readSource(source, listIds[i], scratch);
          vectors[Math.floor(r / perChunk)].set(head, (r % perChunk) * d);
        }
      } else {
        put(lists.heapOf(list).f32, lists.rowsAt(list) >> 2, this.stride, row, length);
      }
      ids.set(lists.ids(list).subarray(0, length), row);
      row += length;
      // Its exact rows, as they were added.
      const exact = lists.exactLength(list);
      for (let i = 0; i < exact; i++) put(lists.exactRow(list, i).row, 0, d, row + i, 1);
      ids.set(lists.exactIds(list).subarray(0, exact), row);
      row += exact;
      if ((row - lastStep) * d * 4 >= SNAPSHOT_STEP_BYTES) {
        lastStep = row;
        yield;
      }
    }
    const epoch = this.epoch;
    this.lastSnapshotEpoch = epoch;
    this.snapshotEpochs.set(ids, epoch);
    this.epoch++;
    return { ids, vectors, epoch, layout: { spec: this.spec, metric: this.metric, prescan: this.prescan, listMemoryBytes: this.listMemoryBytes } };
  }

  allocateSnapshot(rows: number): Float32Array[] {
    return allocateSharedRowChunks(rows, this.dimension, this.metric === 'cosine', this.snapshotChunkBytes);
  }

  /**
   * Installs a model in one step (no search sees a mix): every current vector goes to its list.
   * Vectors in `assignment` reuse its list unless written after the snapshot it came from;
   * anything else is assigned to its nearest centroid now. That snapshot is the one whose `ids`
   * array is passed, else the one `assignment.epoch` names, else the latest; with no snapshot
   * ever taken (a model loaded from storage) the assignment is trusted as given.
   */
  applyModel(model: IvfModel, assignment?: ModelAssignment, source?: VectorSource): void {
    runToEnd(this.applyModelInSteps(model, assignment, source));
  }

  /**
   * applyModel in steps: the generator stops after about APPLY_STEP_ROWS rows of work, so that a
   * caller serving queries can resume it from its event loop instead of holding the thread for the
   * whole rebuild (0.4-0.9 s per 100,000 vectors). Searches in between see the previous model; the
   * last step swaps the new state in at once. Writes must wait until it is done (they throw meanwhile).
   */
  *applyModelInSteps(model: IvfModel, assignment?: ModelAssignment, source?: VectorSource): Generator<void, void, undefined> {
    this.assertNotApplying();
    this.applying = true;
    try {
      yield* this.buildAndSwap(model, assignment, source);
    } finally {
      this.applying = false;
    }
  }

  private assertNotApplying(): void {
    if (this.applying) throw new Error('a model is being applied to this index: writes wait until it is in place');
  }

  private *buildAndSwap(model: IvfModel, assignment?: ModelAssignment, source?: VectorSource): Generator<void, void, undefined> {
    const { nLists } = this.checkModel(model, assignment);
    // The index's own copy of the model, which a residual codec reads its centroids from.
    const owned = ownedModel(model);
    // A compressed type's codec comes with the model (checked before anything changes).
    const trained = this.spec.type === 'ivf_flat' ? null : loadListCodec(this.spec, owned, this.dimension);
    const old = this.state;
    const trustedEpoch = assignment
      ? (this.snapshotEpochs.get(assignment.ids) ?? assignment.epoch ?? (this.lastSnapshotEpoch >= 0 ? this.lastSnapshotEpoch : Infinity))
      : -1;
    if (assignment?.built) {
      yield* this.adoptAndSwap(owned, assignment.built, trained, trustedEpoch, source);
      return;
    }
    // The given list of each vector, by its bookkeeping slot (ids are hashed once, here).
    const lists = old.lists;
    const given = new Int32Array(lists.slotCount).fill(-1);
    if (assignment && trustedEpoch >= 0) {
      for (let i = 0; i < assignment.ids.length; i++) {
        const slot = lists.slotOf(assignment.ids[i]);
        if (slot >= 0) given[slot] = assignment.lists[i];
      }
    }

    // First where every vector goes, then lists built at their final sizes.
    const slots = new Uint32Array(lists.size);
    const target = new Uint32Array(lists.size);
    const unassigned: number[] = [];
    let row = 0;
    // Each list's entries, then its exact rows: the order readRows reads them in.
    for (let list = 0; list < lists.count; list++) {
      for (const [ids, length] of [[lists.ids(list), lists.length(list)], [lists.exactIds(list), lists.exactLength(list)]] as const) {
        for (let i = 0; i < length; i++, row++) {
          const slot = lists.slotOf(ids[i]);
          slots[row] = slot;
          if (given[slot] >= 0 && lists.epochOfSlot(slot) <= trustedEpoch) target[row] = given[slot];
          else unassigned.push(row);
        }
      }
    }
    // Every row in list order: where it is in the old lists (each in its list's memory), or (codes
    // only) read from the source.
    const located = old.rows ? this.rowLocations(old) : null;
    const read = located ? null : this.readRows(old, source);
    const rowsByIndex = located ? located.at : (read as { at: Float64Array }).at;
    // Searches between steps may grow the old memories, which replaces their views: read them afresh.
    const sourceOf = located
      ? (r: number): Float32Array => old.memories.heap(located.memory[r]).f32
      : (): Float32Array => (read as { f32: Float32Array }).f32;
    const codec = trained ?? (this.prescan ? ScalarQuantizer.fitRows(sourceOf, rowsByIndex, this.dimension) : null);
    const next = this.createState(owned, codec);
    yield;
    this.assignNearest(next, sourceOf, rowsByIndex, unassigned, target);
    const sizes = new Uint32Array(nLists);
    for (let i = 0; i < target.length; i++) sizes[target[i]]++;
    next.lists = new InvertedLists(next.memories, next.rows ? this.stride : 0, nLists, sizes, codec, lists);
    const misfits = new Uint8Array(target.length);
    const codes = next.rows ? null : this.encodeRows(codec as ListCodec, sourceOf, rowsByIndex, target, misfits);
    const codeBytes = next.lists.codeBytes;
    yield;
    row = 0;
    for (let list = 0; list < lists.count; list++) {
      const ids = lists.ids(list);
      const norms = lists.normsAt(list) >> 2;
      let oldF32 = lists.heapOf(list).f32;
      for (let i = 0; i < lists.length(list); i++, row++) {
        const code = codes ? { codes, at: row * codeBytes, misfit: misfits[row] === 1 } : undefined;
        next.lists.appendSlot(target[row], ids[i], slots[row], sourceOf(row), rowsByIndex[row], oldF32[norms + i], code);
        if ((row + 1) % APPLY_STEP_ROWS === 0) {
          yield;
          oldF32 = lists.heapOf(list).f32;
        }
      }
      // The rows the previous codes kept exact: coded again under the new model's codec when they fit it now.
      const exactIds = lists.exactIds(list);
      for (let i = 0; i < lists.exactLength(list); i++, row++) {
        const code = codes ? { codes, at: row * codeBytes, misfit: misfits[row] === 1 } : undefined;
        next.lists.appendSlot(target[row], exactIds[i], slots[row], sourceOf(row), rowsByIndex[row], lists.exactRow(list, i).norm, code);
      }
    }
    this.state = next;
  }

  /**
   * The swap with lists built off this thread (list-build.ts) from a snapshot of epoch
   * `trustedEpoch`: adopts their memory, gives each entry its id's slot, drops the entries removed
   * or written since the snapshot, appends those writes at their nearest centroid, then swaps.
   * Each step handles about APPLY_STEP_ROWS entries, as the rebuild does. `model` is the index's
   * own copy, kept as it is.
   */
  private *adoptAndSwap(model: IvfModel, built: BuiltLists, trained: ListCodec | null, trustedEpoch: number, source?: VectorSource): Generator<void, void, undefined> {
    const { nLists } = model;
    if (!Number.isFinite(trustedEpoch) || trustedEpoch < 0) throw new EngineInputError('built lists need the training snapshot their assignment came from');
    const rows = this.spec.type === 'ivf_flat';
    const codec = trained ?? (this.prescan && built.prescan ? ScalarQuantizer.fromBytes(built.prescan, this.dimension) : null);
    if (built.nLists !== nLists || built.stride !== (rows ? this.stride : 0) || built.codeBytes !== (codec?.codeBytes ?? 0) || this.prescan !== (built.prescan !== undefined || !rows)) {
      throw new EngineInputError('the built lists do not match this index and model (type, dimension, pre-scan or lists)');
    }
    const old = this.state;
    const memories = ListMemories.adopting(built.memories, this.listMemoryBytes, this.kernelChoice);
    const lists = new InvertedLists(memories, built.stride, nLists, undefined, codec, old.lists, built.blocks);
    const coarse = new CoarseQuantizer(memories.primary, model.centroids, nLists, this.dimension, this.stride);
    const next: IndexState = {
      memories, heap: memories.heap(0), arena: memories.primary, lists, coarse, codec, rows, scratch: null, scratches: [],
      model,
    };
    const previous = old.lists;
    const unchanged = (id: number): number => {
      const slot = previous.slotOf(id);
      return slot >= 0 && previous.epochOfSlot(slot) <= trustedEpoch ? slot : -1;
    };
    let done = 0;
    for (let list = 0; list < nLists; list++) {
      done += lists.length(list);
      lists.settle(list, unchanged);
      if (done >= APPLY_STEP_ROWS) {
        done = 0;
        yield;
      }
    }
    // Writes since the snapshot: their current rows, at their nearest centroid.
    const written = previous.writtenSince(trustedEpoch);
    for (let start = 0; start < written.length; start += REPLAY_STEP_ROWS) {
      const ids = written.slice(start, start + REPLAY_STEP_ROWS);
      const { f32, at } = old.rows ? this.copyRowsOf(previous, ids) : this.readIds(ids, source);
      const target = new Uint32Array(ids.length);
      this.assignNearest(next, () => f32, at, ids.map((_, i) => i), target);
      for (let i = 0; i < ids.length; i++) lists.appendSlot(target[i], ids[i], previous.slotOf(ids[i]), f32, at[i], this.normOf(f32, at[i]));
      yield;
    }
    this.state = next;
  }

  /** The squared norm kept beside a stored row (as encodeVector computed it; 0 for cosine rows). */
  private normOf(f32: Float32Array, from: number): number {
    if (this.metric === 'cosine') return 0;
    let sum = 0;
    for (let t = 0; t < this.dimension; t++) sum += f32[from + t] * f32[from + t];
    return Math.fround(sum);
  }

  /** The rows `lists` keep for `ids` (present in them), copied out one per stride. */
  private copyRowsOf(lists: InvertedLists, ids: number[]): { f32: Float32Array; at: Float64Array } {
    const f32 = new Float32Array(Math.max(1, ids.length) * this.stride);
    const memories = lists.memorySet;
    for (let i = 0; i < ids.length; i++) {
      const address = lists.rowOf(ids[i]);
      const from = addressOffset(address) >> 2;
      f32.set(memories.heap(addressMemory(address)).f32.subarray(from, from + this.stride), i * this.stride);
    }
    return { f32, at: Float64Array.from(ids, (_, i) => i * this.stride) };
  }

  /** The rows of `ids` read from `source` (the lists keep only codes), one per stride. */
  private readIds(ids: number[], source: VectorSource | undefined): { f32: Float32Array; at: Float64Array } {
    const f32 = new Float32Array(Math.max(1, ids.length) * this.stride);
    const row = new Float32Array(this.stride);
    for (let i = 0; i < ids.length; i++) {
      this.readSource(source, ids[i], row);
      f32.set(row, i * this.stride);
    }
    return { f32, at: Float64Array.from(ids, (_, i) => i * this.stride) };
  }

  /** A copy of the trained lists and the parameters of their codes; null untrained. */
  exportLists(): ListContents | null {
    return runToEnd(this.exportListsInSteps());
  }

  /**
   * exportLists in steps of about EXPORT_STEP_BYTES copied, so that a caller serving queries can
   * answer them in between (the copies of a large index's lists take it hundreds of milliseconds,
   * most of them page faults on the new arrays). The index must not change until the last step.
   */
  *exportListsInSteps(): Generator<void, ListContents | null, undefined> {
    const { model, lists, codec, rows } = this.state;
    if (model === null) return null;
    const entries = [];
    let copied = 0;
    for (let list = 0; list < lists.count; list++) {
      const entry = lists.exportList(list);
      entries.push(entry);
      copied += entry.ids.byteLength + entry.norms.byteLength + (entry.rows?.byteLength ?? 0) + (entry.codes?.byteLength ?? 0) + (entry.exact?.rows.byteLength ?? 0);
      if (copied >= EXPORT_STEP_BYTES) {
        copied = 0;
        yield;
      }
    }
    return { nLists: model.nLists, stride: rows ? this.stride : 0, codeBytes: lists.codeBytes, codec: codec?.toBytes() ?? null, lists: entries };
  }

  /**
   * Replaces the index by `model` with `contents` as its lists (see VectorIndex.importLists). The
   * codes' codec comes from `contents` (IVF_FLAT's pre-scan) or the model (SQ8, PQ); either must
   * give the code size the contents were written with.
   */
  importLists(model: IvfModel, contents: ListContents): void {
    let entries = 0;
    let idBound = 0;
    for (const list of contents.lists) {
      entries += list.ids.length + (list.exact?.ids.length ?? 0);
      for (const id of list.ids) if (id >= idBound) idBound = id + 1;
      for (const id of list.exact?.ids ?? []) if (id >= idBound) idBound = id + 1;
    }
    // Ids are engine slots, dense from 0: sparser ones are checked and located through Sets and Maps.
    const listImport = this.beginImport(model, contents, idBound <= Math.max(entries * 4, 1 << 16) ? idBound : undefined);
    for (const entries of contents.lists) {
      listImport.add(entries.ids, (regions) => copyEntries(entries, regions), entries);
    }
    listImport.commit();
  }

  /**
   * Starts replacing the index by `model` with lists given one at a time, in order, by the
   * returned import's `add` (as they arrive: an open streaming its segment set copies each byte
   * once, from its buffers into the lists). `shape` is the lists' as exportLists gave them. Ids
   * below `idBound`, when given, are located through an array (and none may reach it). Nothing
   * changes until `commit`, which needs every list; a list that does not fit throws
   * EngineInputError from `add`, and the index is left as it was. The index must not change
   * between the two. Uses the memory reserveImport touched when given the same centroids.
   */
  beginImport(model: IvfModel, shape: ListShape, idBound?: number): ListImport {
    this.assertNotApplying();
    const { nLists } = this.checkModel(model);
    const owned = ownedModel(model);
    const rows = this.spec.type === 'ivf_flat';
    const codec = rows
      ? shape.codec === null ? null : ScalarQuantizer.fromBytes(shape.codec, this.dimension)
      : loadListCodec(this.spec, owned, this.dimension);
    if (shape.nLists !== nLists || shape.stride !== (rows ? this.stride : 0) || shape.codeBytes !== (codec?.codeBytes ?? 0)) {
      throw new EngineInputError('the lists do not match this index and model (type, dimension, codes or number of lists)');
    }
    const reserved = this.reservedImport;
    this.reservedImport = null;
    // IVF_FLAT's reservation was made before its pre-scan codec was known: the lists take it now.
    const next = reserved !== null && reserved.centroids === model.centroids ? { ...reserved.state, codec } : this.createState(owned, codec);
    const lists = new InvertedLists(next.memories, rows ? this.stride : 0, nLists, 'on-import', codec);
    if (idBound !== undefined) lists.reserveDenseIds(idBound);
    // Ids seen: one bit each below the bound, a Set for any beyond it (a Set of a million numbers cost 0.2 s).
    const seen = new Uint32Array((Math.max(idBound ?? 0, 1 << 16) + 31) >>> 5);
    const seenBeyond = new Set<number>();
    const note = (id: number, where: string): void => {
      assertId(id, where);
      if (idBound !== undefined && id >= idBound) throw new EngineInputError(`${where}: id ${id} is beyond the import's bound ${idBound}`);
      const word = id >>> 5;
      const twice = word < seen.length ? (seen[word] & (1 << (id & 31))) !== 0 : seenBeyond.has(id);
      if (twice) throw new EngineInputError(`id ${id} appears twice in the lists`);
      if (word < seen.length) seen[word] |= 1 << (id & 31);
      else seenBeyond.add(id);
    };
    let list = 0;
    return {
      add: (ids, fill, extra) => {
        if (list === nLists) throw new EngineInputError(`the model has ${nLists} lists, and the import gives more`);
        const exact = extra?.exact;
        if (extra !== undefined && (extra.norms.length !== ids.length || (extra.rows?.length ?? 0) !== ids.length * shape.stride || (extra.codes?.length ?? 0) !== ids.length * shape.codeBytes)) {
          throw new EngineInputError(`list ${list} has entries of the wrong shape`);
        }
        if (exact !== undefined && (rows || codec?.exactDimension === undefined || exact.rows.length !== exact.ids.length * this.dimension || exact.norms.length !== exact.ids.length)) {
          throw new EngineInputError(`list ${list} has exact rows of the wrong shape, or its index keeps none`);
        }
        for (let i = 0; i < ids.length; i++) note(ids[i], `list ${list} id ${i}`);
        if (exact !== undefined) for (let i = 0; i < exact.ids.length; i++) note(exact.ids[i], `list ${list} exact id ${i}`);
        lists.importList(list++, ids, fill, this.epoch, exact);
      },
      commit: () => {
        if (list !== nLists) throw new EngineInputError(`the model has ${nLists} lists, and the import gave ${list}`);
        next.lists = lists;
        this.state = next;
      },
    };
  }

  /**
   * Starts an import of `model`'s lists before they are known: makes the new state, grows its
   * memory by what `entries` entries take at the least (their codes and norms, and IVF_FLAT's
   * rows) and has another thread touch it, so that the touching overlaps the caller's work until
   * the import (an open reads its segments meanwhile). The next import uses it when given the same
   * centroids, and drops it otherwise. Resolves once touched.
   */
  reserveImport(model: IvfModel, entries: number): Promise<void> {
    this.assertNotApplying();
    this.reservedImport = null;
    this.checkModel(model);
    const owned = ownedModel(model);
    const rows = this.spec.type === 'ivf_flat';
    const codec = rows ? null : loadListCodec(this.spec, owned, this.dimension);
    const state = this.createState(owned, codec);
    const heap = state.memories.primary.heap;
    // IVF_FLAT's pre-scan codes are a byte per dimension (its codec comes with the lists).
    const entryBytes = 4 + (rows ? this.rowBytes + (this.prescan ? this.dimension : 0) : codec?.codeBytes ?? 0);
    heap.growTo(Math.min(heap.maxBytes, heap.byteLength + Math.min(entries * entryBytes, this.listMemoryBytes)));
    const touched = prefault([heap.memory]);
    touched.catch(() => undefined);
    this.reservedImport = { centroids: model.centroids, state };
    return touched;
  }

  model(): IvfModel | null {
    const model = this.state.model;
    if (!model) return null;
    return { centroids: model.centroids.slice(), nLists: model.nLists, ...(model.codec ? { codec: model.codec.slice() } : {}) };
  }

  /**
   * Bytes held: every heap memory (rows or codes, norms, centroids, scratch), the bookkeeping
   * beside them, the model's copy and the codec (parameters and working memory).
   */
  memoryBytes(): number {
    const { memories, lists, model, codec } = this.state;
    const modelBytes = model ? model.centroids.byteLength + (model.codec?.byteLength ?? 0) : 0;
    return memories.byteLength + lists.bookkeepingBytes() + modelBytes + (codec?.residentBytes ?? 0);
  }

  private searchOptions(options: EngineSearchOptions): { topK: number; nProbes: number; filter?: (id: number) => boolean } {
    if (options == null || typeof options !== 'object') throw new EngineInputError('search options are required');
    const { topK, nProbes, filter } = options;
    if (!Number.isInteger(topK) || topK < 1 || topK > 1_000_000) {
      throw new EngineInputError(`topK must be an integer from 1 to 1000000, got ${String(topK)}`);
    }
    if (nProbes !== undefined && (!Number.isInteger(nProbes) || nProbes < 1)) {
      throw new EngineInputError(`nProbes must be a positive integer, got ${String(nProbes)}`);
    }
    if (filter !== undefined && typeof filter !== 'function') throw new EngineInputError('filter must be a function');
    const k = this.nLists;
    return { topK, nProbes: k === 0 ? 0 : Math.min(k, nProbes ?? defaultNProbes(k)), filter };
  }

  private createState(model: IvfModel | null, codec: ListCodec | null): IndexState {
    const memories = new ListMemories(this.listMemoryBytes, this.kernelChoice);
    const arena = memories.primary;
    const coarse = model ? new CoarseQuantizer(arena, model.centroids, model.nLists, this.dimension, this.stride) : null;
    // Untrained: the first list (untrainedList adds more as memories fill). Trained: applyModel
    // puts lists sized for their contents here.
    const lists = new InvertedLists(memories, this.stride, model ? 0 : 1);
    return {
      memories, heap: arena.heap, arena, lists, coarse, model, codec,
      rows: model === null || this.spec.type === 'ivf_flat', scratch: null, scratches: [],
    };
  }

  /** The codec a search scans with: the f32 rows when exact or without codes, else the codes. */
  private scanCodec(state: IndexState, exact: boolean): ListCodec {
    if (!state.rows) return state.codec as ListCodec;
    return exact ? this.flat : state.codec ?? this.flat;
  }

  /**
   * The codes of the rows at float indices `rows` (row r of `sourceOf(r)`, bound for list
   * lists[r]), one after another: a batch per run of rows in the same memory. misfits[r] is set
   * to 1 for the rows the codes cannot hold (kept exact by the lists).
   */
  private encodeRows(codec: ListCodec, sourceOf: (row: number) => Float32Array, rows: Float64Array, lists: Uint32Array, misfits: Uint8Array): Int8Array {
    const codes = new Int8Array(rows.length * codec.codeBytes);
    for (let start = 0; start < rows.length;) {
      const source = sourceOf(start);
      let end = start + 1;
      while (end < rows.length && sourceOf(end) === source) end++;
      codec.encodeBatch(source, rows.subarray(start, end), codes, start * codec.codeBytes, lists.subarray(start, end), misfits.subarray(start, end));
      start = end;
    }
    return codes;
  }

  /** The vector of `id` from `source`, validated and stored as the lists would hold it, into `into`. */
  private readSource(source: VectorSource | undefined, id: number, into: Float32Array): void {
    const vector = source?.(id);
    if (vector === undefined) throw new EngineInputError(`this ${this.type} index keeps only codes: a vector source must give the vector of id ${id}`);
    assertVectorLength(vector, this.dimension, `vector of id ${id}`);
    encodeVector(vector, 0, this.dimension, this.metric, into, 0, `vector of id ${id}`);
  }

  /** Every row of `state` in list order (each list's entries, then its exact rows), read from `source` (the lists keep only codes). */
  private readRows(state: IndexState, source: VectorSource | undefined): { f32: Float32Array; at: Float64Array } {
    const n = state.lists.size;
    const f32 = new Float32Array(Math.max(1, n) * this.stride);
    const at = new Float64Array(n);
    const row = new Float32Array(this.stride);
    let r = 0;
    for (let list = 0; list < state.lists.count; list++) {
      const ids = state.lists.ids(list);
      for (let i = 0; i < state.lists.length(list); i++, r++) {
        this.readSource(source, ids[i], row);
        f32.set(row, r * this.stride);
        at[r] = r * this.stride;
      }
      // Then its exact rows, which the lists hold as they were added.
      for (let i = 0; i < state.lists.exactLength(list); i++, r++) {
        f32.set(state.lists.exactRow(list, i).row, r * this.stride);
        at[r] = r * this.stride;
      }
    }
    return { f32, at };
  }

  /** The state's scratch block, at least `bytes` long; read its offset after any other allocation. */
  private scratch(state: IndexState, bytes: number): Block {
    const old = state.scratch;
    if (old && old.bytes >= bytes) return old;
    if (old) state.arena.free(old);
    // Doubling keeps a stream of growing requests from reallocating every time.
    state.scratch = state.arena.alloc(Math.max(bytes, (old?.bytes ?? 0) * 2));
    return state.scratch;
  }

  /**
   * Byte offset of scratch of at least `bytes` in `memory` (not the primary), for scanning the
   * lists there; taking it may compact that memory, so read its lists' offsets afterwards.
   */
  private scratchIn(state: IndexState, memory: number, bytes: number): number {
    const old = state.scratches[memory] ?? null;
    if (old && old.bytes >= bytes) return old.offset;
    const arena = state.memories.arena(memory);
    if (old) arena.free(old);
    const block = arena.alloc(Math.max(bytes, (old?.bytes ?? 0) * 2));
    state.scratches[memory] = block;
    return block.offset;
  }

  private searchBlock(
    queries: Float32Array, first: number, m: number, topK: number, nProbes: number, filter?: (id: number) => boolean, timings?: EngineStageTimings,
  ): EngineSearchResult[] {
    const state = this.state;
    const k = this.nLists;
    const coarse = state.coarse;
    const exact = !coarse || nProbes >= k;
    const codec = this.scanCodec(state, exact);
    const queryBytes = codec.queryBytes;
    const mTiled = tile(m, QUERY_TILE);
    const groupSize = groupQueries(queryBytes, codec.entryBytes);
    const regions = {
      queries: mTiled * this.rowBytes,
      prepared: mTiled * queryBytes,
      scores: exact ? 0 : mTiled * tile(k) * 4,
      group: codec.blocked ? groupSize * queryBytes : 0,
      // Room for a group's scores and picks, and for one query's scan of SCAN_ROWS (small lists scan alone).
      ...scanScratchBytes(groupSize),
      members: groupSize * 4,
      // (8 more: the region is placed at the next multiple of 8, for the kernel's float64 scratch)
      probes: exact ? 0 : alignUp(CoarseQuantizer.probeBlockBytes(mTiled, nProbes) + 8),
    };
    // The out region also serves the codec's batch query preparation.
    regions.out = Math.max(regions.out, alignUp(codec.prepareQueriesScratch?.(m, this.rowBytes) ?? 0));
    const scratch = this.scratch(state, Object.values(regions).reduce((a, b) => a + b, 0));
    const queriesAt = scratch.offset;
    const preparedAt = queriesAt + regions.queries;
    const scoresAt = preparedAt + regions.prepared;
    const groupAt = scoresAt + regions.scores;
    const outAt = groupAt + regions.group;
    const selectedAt = outAt + regions.out;
    const paramsAt = selectedAt + regions.selected;
    const membersAt = paramsAt + regions.params;
    const probesAt = alignUp(membersAt + regions.members, 8);
    const heap = state.heap;
    const f32 = heap.f32;
    const twice = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      encodeVector(queries, (first + i) * this.dimension, this.dimension, this.metric, f32, (queriesAt >> 2) + i * this.stride, `queries row ${first + i}`);
    }
    // One kernel call for the block when the codec has one (at 784 dimensions the JS coding cost
    // as much as the scan at 1 probe); the out region is free until the scan.
    if (codec.prepareQueries) codec.prepareQueries(heap, queriesAt, m, this.rowBytes, preparedAt, twice, outAt);
    else for (let i = 0; i < m; i++) twice[i] = codec.prepareQuery(heap, (queriesAt >> 2) + i * this.stride, preparedAt + i * queryBytes);
    for (let i = 0; i < m; i++) twice[i] *= 2;
    f32.fill(0, (queriesAt >> 2) + m * this.stride, (queriesAt >> 2) + mTiled * this.stride);

    // Which queries scan which list: all of them when exact, else each query's nProbes nearest,
    // found for the whole block in one blocked pass over the centroids.
    const started = timings ? performance.now() : 0;
    const lists = state.lists;
    // Each pass scans every list for its members there. Probing, two passes: each query's
    // nearest list first, where its top k mostly lies, so that the bound it sets keeps the
    // offers from its other lists few (in list order, a query met its lists in random rank
    // order and offered about twice the candidates a single search does).
    const passes: Uint32Array[][] = [];
    let probes: Uint32Array | null = null;
    if (exact) {
      const all = new Uint32Array(m);
      for (let i = 0; i < m; i++) all[i] = i;
      passes.push(new Array<Uint32Array>(lists.count).fill(all));
    } else {
      probes = coarse.probeBlock(heap, queriesAt, m, mTiled, scoresAt, nProbes, probesAt);
      if (nProbes > 1) {
        passes.push(membersOfProbes(probes, m, nProbes, k, 0, 1), membersOfProbes(probes, m, nProbes, k, 1, nProbes));
      } else {
        passes.push(membersOfProbes(probes, m, nProbes, k, 0, nProbes));
      }
    }

    const probedAt = timings ? performance.now() : 0;
    const best = TopK.many(m, this.window(state, codec, topK));
    const scanScratch = { out: outAt, selected: selectedAt, params: paramsAt };
    // Lists in other memories are scanned there, with the block's prepared queries copied to
    // each such memory once (its scratch laid out as the primary's from `prepared` on).
    const placed = state.memories.count > 1 ? new Float64Array(state.memories.count).fill(-1) : null;
    const preparedBytes = m * queryBytes;
    const beyond = {
      group: regions.prepared,
      out: regions.prepared + regions.group,
      selected: regions.prepared + regions.group + regions.out,
      params: regions.prepared + regions.group + regions.out + regions.selected,
      members: regions.prepared + regions.group + regions.out + regions.selected + regions.params,
      bytes: regions.prepared + regions.group + regions.out + regions.selected + regions.params + regions.members,
    };
    // Residual codes: each list's scan leaves out each query's dot with its centroid.
    const listOffset = codec.listOffset?.bind(codec);
    // Rows kept exact, or with an edge code, are scored beside each list's codes (as in search).
    const exactRows = (lists.exactCount > 0 || lists.edgeCount > 0) && !codec.exact;
    const constants = new Float64Array(exactRows ? m : 0);
    for (let i = 0; i < constants.length; i++) constants[i] = 2 * codec.queryConstant(heap.f32, (queriesAt >> 2) + i * this.stride);
    for (const members of passes) for (let list = 0; list < lists.count; list++) {
      if (exactRows && lists.hasApart(list)) {
        for (const query of members[list]) lists.offerApart(best[query], list, heap.f32, (queriesAt >> 2) + query * this.stride, constants[query], filter);
      }
      const memory = placed ? lists.memoryOf(list) : 0;
      const offsetOf = listOffset && ((query: number): number => listOffset(heap.f32, (queriesAt >> 2) + query * this.stride, list));
      if (memory === 0) {
        scanListForGroup(best, twice, heap, lists, codec, list, members[list], preparedAt, groupAt, membersAt, scanScratch, filter, offsetOf);
        continue;
      }
      if (members[list].length === 0 || lists.length(list) === 0) continue;
      const there = state.memories.heap(memory);
      let at = (placed as Float64Array)[memory];
      if (at < 0) {
        at = (placed as Float64Array)[memory] = this.scratchIn(state, memory, beyond.bytes);
        there.u8.set(heap.u8.subarray(preparedAt, preparedAt + preparedBytes), at);
      }
      scanListForGroup(
        best, twice, there, lists, codec, list, members[list], at, at + beyond.group, at + beyond.members,
        { out: at + beyond.out, selected: at + beyond.selected, params: at + beyond.params }, filter, offsetOf,
      );
    }
    const scannedAt = timings ? performance.now() : 0;
    const results: EngineSearchResult[] = [];
    // The scores region is free once the lists are scanned.
    results.push(...this.finishAll(state, best, queriesAt, exact, topK, outAt, probes && byNearestList(probes, m, nProbes, k)));
    if (timings) addTimings(timings, started, probedAt, scannedAt, performance.now());
    return results;
  }

  /** Candidates a scan keeps: more than topK when the engine re-ranks them on its own rows. */
  private window(state: IndexState, codec: ListCodec, topK: number): number {
    return codec.exact || !state.rows ? topK : rerankWindow(topK);
  }

  /** Re-ranks the kept candidates by their exact distance and keeps the best `keep`. */
  private finish(state: IndexState, best: TopK, queryAt: number, exact: boolean, keep: number, scratchAt: number): EngineSearchResult {
    if (!state.rows) return this.codeDistances(state, best, queryAt, exact);
    const { ids, scores, tags } = this.drained(best.k * 2);
    const n = best.drainInto(ids, scores, tags, 0);
    this.touch += touchRows(state, tags, 0, n, this.rowBytes);
    return this.rerank(state, ids, tags, 0, n, queryAt, exact, keep, scratchAt);
  }

  /**
   * The batch's finish: the rows of the next query's candidates are touched before this query's
   * are scored, so that their fetch overlaps this re-rank (the two queries' candidates take turns
   * in the halves of one set of arrays). `order` (default the queries' own) is the order to
   * re-rank in: searchBlock groups the queries by nearest list, where most candidates lie, so
   * that rows one query fetched are often still in cache for the next (measured: about a tenth of
   * the re-rank at 784 dimensions, 1 probe).
   */
  private finishAll(
    state: IndexState, best: TopK[], queriesAt: number, exact: boolean, keep: number, scratchAt: number, order?: Uint32Array | null,
  ): EngineSearchResult[] {
    const m = best.length;
    const results: EngineSearchResult[] = new Array(m);
    if (!state.rows) {
      for (let i = 0; i < m; i++) results[i] = this.codeDistances(state, best[i], queriesAt + i * this.rowBytes, exact);
      return results;
    }
    if (m === 0) return results;
    const at = (i: number): number => (order ? order[i] : i);
    const half = best[0].k;
    const { ids, scores, tags } = this.drained(2 * half);
    let count = best[at(0)].drainInto(ids, scores, tags, 0);
    this.touch += touchRows(state, tags, 0, count, this.rowBytes);
    for (let i = 0; i < m; i++) {
      const query = at(i);
      const from = (i & 1) * half;
      const next = half - from;
      const nextCount = i + 1 < m ? best[at(i + 1)].drainInto(ids, scores, tags, next) : 0;
      this.touch += touchRows(state, tags, next, nextCount, this.rowBytes);
      results[query] = this.rerank(state, ids, tags, from, count, queriesAt + query * this.rowBytes, exact, keep, scratchAt);
      count = nextCount;
    }
    return results;
  }

  /** Arrays of at least `n` that a finish drains candidates into (reused: one search at a time). */
  private drained(n: number): { ids: Uint32Array; scores: Float64Array; tags: Float64Array; distances: Float64Array } {
    if (this.drainArrays.ids.length < n) {
      this.drainArrays = { ids: new Uint32Array(n), scores: new Float64Array(n), tags: new Float64Array(n), distances: new Float64Array(n) };
    }
    return this.drainArrays;
  }

  /**
   * Scores drained candidates (tags: their rows' addresses) exactly and keeps the best `keep`.
   * Rows in the primary memory are summed by the rerankSums kernel RERANK_CHUNK at a time, with
   * `scratchAt` (RERANK_CHUNK x 36 bytes) for their offsets and sums; JS adds the tail of the
   * dimension and combines, so the distances equal exactDistance's (subset scans, other memories).
   */
  private rerank(
    state: IndexState, ids: Uint32Array, tags: Float64Array, from: number, n: number, queryAt: number, exact: boolean, keep: number, scratchAt: number,
  ): EngineSearchResult {
    const heap = state.heap;
    // distances[i] is that of candidate from + i.
    const distances = this.drained(n).distances;
    const whole = this.dimension - (this.dimension % 4);
    const offsetsAt = scratchAt;
    const sumsAt = alignUp(scratchAt + RERANK_CHUNK * 4, 16);
    for (let start = 0; start < n; start += RERANK_CHUNK) {
      const end = Math.min(n, start + RERANK_CHUNK);
      let count = 0;
      const u32 = heap.u32;
      for (let i = start; i < end; i++) if (tags[from + i] < ADDRESS_SPAN) u32[(offsetsAt >> 2) + count++] = tags[from + i];
      heap.kernels.rerankSums(queryAt, offsetsAt, count, whole * 4, this.metric === 'cosine' ? 1 : 0, sumsAt);
      const f32 = heap.f32;
      const f64 = heap.f64;
      let at = sumsAt >> 3;
      for (let i = start; i < end; i++) {
        const tag = tags[from + i];
        if (tag < ADDRESS_SPAN) {
          distances[i] = exactDistanceFromSums(this.metric, f64[at], f64[at + 1], f64[at + 2], f64[at + 3], f32, queryAt >> 2, f32, tag / 4, this.dimension);
          at += 4;
        } else {
          distances[i] = exactDistance(this.metric, f32, queryAt >> 2, state.memories.heap(addressMemory(tag)).f32, addressOffset(tag) / 4, this.dimension);
        }
      }
    }
    // Insertion sort by (distance, id): the candidates arrive nearly in order.
    for (let i = 1; i < n; i++) {
      const d = distances[i];
      const id = ids[from + i];
      let j = i - 1;
      while (j >= 0 && (distances[j] > d || (distances[j] === d && ids[from + j] > id))) {
        distances[j + 1] = distances[j];
        ids[from + j + 1] = ids[from + j];
        j--;
      }
      distances[j + 1] = d;
      ids[from + j + 1] = id;
    }
    // A row with an edge code may have been offered twice (its code's score and its exact one,
    // InvertedLists.offerApart): the two have one distance, so they lie side by side.
    let unique = Math.min(n, 1);
    for (let i = 1; i < n; i++) {
      if (ids[from + i] === ids[from + unique - 1]) continue;
      ids[from + unique] = ids[from + i];
      distances[unique++] = distances[i];
    }
    const size = Math.min(keep, unique);
    return { ids: ids.slice(from, from + size), distances: Float32Array.from(distances.subarray(0, size)), exact };
  }

  /**
   * The kept candidates of a codes-only scan with their code distances: a score is the squared
   * distance less ||q||^2 (cosine: twice the distance less 2), with q.x taken from the codes.
   */
  private codeDistances(state: IndexState, best: TopK, queryAt: number, exact: boolean): EngineSearchResult {
    const { ids, scores } = best.drain();
    const f32 = state.heap.f32;
    let qq = 0;
    for (let t = 0; t < this.dimension; t++) qq += f32[(queryAt >> 2) + t] ** 2;
    // The scan's q.x left out a constant that ranks nothing but belongs in a distance.
    const dropped = -2 * (state.codec as ListCodec).queryConstant(f32, queryAt >> 2);
    const distances = new Float32Array(ids.length);
    for (let i = 0; i < ids.length; i++) {
      if (this.metric === 'cosine') distances[i] = Math.min(2, Math.max(0, 1 + (scores[i] + dropped) / 2));
      else {
        const squared = Math.max(0, scores[i] + dropped + qq);
        distances[i] = this.metric === 'euclidean' ? Math.sqrt(squared) : squared;
      }
    }
    return { ids, distances, exact, approximate: true };
  }

  private checkModel(model: IvfModel, assignment?: ModelAssignment): IvfModel {
    if (model == null || typeof model !== 'object') throw new EngineInputError('model is required');
    const { centroids, nLists } = model;
    if (!Number.isInteger(nLists) || nLists < 1 || nLists > 65_536) {
      throw new EngineInputError(`nLists must be an integer from 1 to 65536, got ${String(nLists)}`);
    }
    if (!(centroids instanceof Float32Array) || centroids.length !== nLists * this.dimension) {
      throw new EngineInputError(`centroids must be a Float32Array of nLists x dimension = ${nLists * this.dimension} floats`);
    }
    for (let i = 0; i < centroids.length; i++) {
      if (!Number.isFinite(centroids[i])) throw new EngineInputError(`centroids[${i}] is not finite`);
    }
    if (assignment !== undefined) {
      const { ids, lists } = assignment;
      if (!(ids instanceof Uint32Array) || !(lists instanceof Uint32Array) || ids.length !== lists.length) {
        throw new EngineInputError('assignment must pair a Uint32Array of ids with a Uint32Array of lists of the same length');
      }
      if (assignment.epoch !== undefined && !Number.isInteger(assignment.epoch)) {
        throw new EngineInputError(`assignment.epoch must be an integer, got ${String(assignment.epoch)}`);
      }
      for (let i = 0; i < lists.length; i++) {
        if (lists[i] >= nLists) throw new EngineInputError(`assignment.lists[${i}] = ${lists[i]} is not a list of a ${nLists}-list model`);
      }
    }
    return { centroids, nLists };
  }

  /**
   * Where every stored row of `state` is, in list order (the order rebuilds walk): its memory
   * and its float index there.
   */
  private rowLocations(state: IndexState): { at: Float64Array; memory: Uint32Array } {
    const at = new Float64Array(state.lists.size);
    const memory = new Uint32Array(state.lists.size);
    let row = 0;
    for (let list = 0; list < state.lists.count; list++) {
      const rows = state.lists.rowsAt(list) >> 2;
      const length = state.lists.length(list);
      memory.fill(state.lists.memoryOf(list), row, row + length);
      for (let i = 0; i < length; i++) at[row++] = rows + i * this.stride;
    }
    return { at, memory };
  }

  /**
   * Assigns the rows listed in `which` (row r at float index rowsAt[r] of `sourceOf(r)`) to their
   * nearest centroid of `to`, into `target`.
   */
  private assignNearest(to: IndexState, sourceOf: (row: number) => Float32Array, rowsAt: Float64Array, which: number[], target: Uint32Array): void {
    if (which.length === 0) return;
    const coarse = to.coarse as CoarseQuantizer;
    const chunk = Math.min(INSERT_ROWS, tile(which.length));
    const scratch = this.scratch(to, chunk * (this.rowBytes + 8) + NEAREST_BLOCK * coarse.paddedLists * 4);
    for (let start = 0; start < which.length; start += chunk) {
      const count = Math.min(chunk, which.length - start);
      const f32 = to.heap.f32;
      const base = scratch.offset;
      for (let i = 0; i < count; i++) {
        const r = which[start + i];
        const at = rowsAt[r];
        f32.set(sourceOf(r).subarray(at, at + this.stride), (base >> 2) + i * this.stride);
      }
      const labelsAt = base + chunk * this.rowBytes;
      coarse.assign(to.heap, base, count, labelsAt, labelsAt + chunk * 4, labelsAt + chunk * 8);
      const labels = to.heap.u32;
      for (let i = 0; i < count; i++) target[which[start + i]] = labels[(labelsAt >> 2) + i];
    }
  }
}

/** For each list, the queries whose probes of rank from..to (exclusive) include it, ascending. */
function membersOfProbes(probes: Uint32Array, m: number, nProbes: number, nLists: number, from: number, to: number): Uint32Array[] {
  const counts = new Uint32Array(nLists);
  for (let i = 0; i < m; i++) for (let p = from; p < to; p++) counts[probes[i * nProbes + p]]++;
  const members: Uint32Array[] = new Array(nLists);
  for (let list = 0; list < nLists; list++) members[list] = new Uint32Array(counts[list]);
  counts.fill(0);
  for (let i = 0; i < m; i++) {
    for (let p = from; p < to; p++) {
      const list = probes[i * nProbes + p];
      members[list][counts[list]++] = i;
    }
  }
  return members;
}

/** The m queries ordered by their nearest list (probes: nProbes per query, nearest first), stably. */
function byNearestList(probes: Uint32Array, m: number, nProbes: number, nLists: number): Uint32Array {
  const starts = new Uint32Array(nLists + 1);
  for (let i = 0; i < m; i++) starts[probes[i * nProbes] + 1]++;
  for (let list = 0; list < nLists; list++) starts[list + 1] += starts[list];
  const order = new Uint32Array(m);
  for (let i = 0; i < m; i++) order[starts[probes[i * nProbes]]++] = i;
  return order;
}

function addTimings(timings: EngineStageTimings, started: number, probedAt: number, scannedAt: number, finishedAt: number): void {
  timings.probe += probedAt - started;
  timings.scan += scannedAt - probedAt;
  timings.rerank += finishedAt - scannedAt;
}

/** A copy of `model` the index owns (the caller may reuse its arrays); its codec shares the centroids. */
function ownedModel(model: IvfModel): IvfModel {
  return { centroids: model.centroids.slice(), nLists: model.nLists, ...(model.codec ? { codec: model.codec.slice() } : {}) };
}
