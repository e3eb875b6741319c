// What the service needs of an index, whatever its type: writes, searches, a training snapshot and
// the swap to a trained model. index-factory.ts builds the implementation for a type, so the
// service never names a concrete class.
import type { IndexTypeName, IndexTypeSpec } from './index-types.js';
import type { BuiltLists, ListLayout } from './list-build.js';
import type { ListContents, ListImport, ListShape } from './list-contents.js';
import type { Metric } from './metric.js';

export interface EngineSearchOptions {
  topK: number;
  /** Lists to probe; defaultNProbes(nLists) when absent. Ignored (everything is scanned) untrained. */
  nProbes?: number;
  /** Only ids it accepts can be returned. Asked only about candidates that would enter the top k. */
  filter?: (id: number) => boolean;
  /** When given, each stage's time is added to it (milliseconds), for metrics; absent, nothing is timed. */
  timings?: EngineStageTimings;
}

/** Time spent per search stage, in milliseconds, accumulated across calls. */
export interface EngineStageTimings {
  /** Ranking centroids to choose the lists (0 for an exact search). */
  probe: number;
  scan: number;
  /** Exact distances of the kept candidates and their final order. */
  rerank: number;
}

/** Ascending distance (ties: smaller id first), at most topK entries. */
export interface EngineSearchResult {
  ids: Uint32Array;
  distances: Float32Array;
  /** Every vector was considered: untrained, or every list probed. */
  exact: boolean;
  /** The distances are code distances (a codes-only index), not yet re-ranked on the vectors. */
  approximate?: true;
}

/**
 * The vector of an id as it was added, for an index that keeps only codes (retraining reads every
 * vector again); undefined when it has none.
 */
export type VectorSource = (id: number) => ArrayLike<number> | undefined;

/** A trained model: the coarse quantizer's centroids and, for types whose codes need them, codec parameters. */
export interface IvfModel {
  centroids: Float32Array;
  nLists: number;
  /** The list codec's trained parameters (opaque to everyone but the codec); absent when it has none. */
  codec?: Uint8Array;
}

/** Rows to train on, copied into shared memory; `epoch` tells later writes apart (applyModel). */
export interface TrainingSnapshot {
  ids: Uint32Array;
  /** The rows of `ids`, in order, in one or more chunks of shared memory (shared-rows.ts). */
  vectors: Float32Array[];
  epoch: number;
  /** How the index lays out trained lists, for a worker to build them (trainInWorker's `lists`). */
  layout: ListLayout;
}

/** The list of each id in a training snapshot, as trainKMeans returned them (`lists[i]` for `ids[i]`). */
export interface ModelAssignment {
  ids: Uint32Array;
  lists: Uint32Array;
  /** The snapshot's epoch, when `ids` is not the snapshot's own array. */
  epoch?: number;
  /**
   * The new lists already laid out (by the training worker, from this snapshot and these lists):
   * the index adopts them, drops what was removed or written since and places those writes,
   * instead of rebuilding every list on its own thread.
   */
  built?: BuiltLists;
}

export interface VectorIndex {
  readonly dimension: number;
  readonly metric: Metric;
  readonly type: IndexTypeName;
  /** The type with its options decided (what its codec trains with). */
  readonly spec: IndexTypeSpec;
  /** Searches return code distances, to re-rank on the vectors kept elsewhere (trained IVF_SQ8, IVF_PQ). */
  readonly approximate: boolean;
  readonly size: number;
  /**
   * Rows kept exact beside the codes: those a codes-only type's codes cannot hold (IVF_SQ8: a
   * value beyond its trained ranges), until the next model codes them; 0 for other types.
   */
  readonly exactRows: number;
  readonly isTrained: boolean;
  readonly nLists: number;
  /** Whether this index scans with the WebAssembly SIMD kernels. */
  readonly simd: boolean;
  has(id: number): boolean;
  /** A copy of the row kept for `id`, or undefined (absent, or only codes kept); see rowsAreOriginal. */
  row(id: number): Float32Array | undefined;
  /** Whether row() returns each vector bit for bit as added (false for cosine: rows are normalised). */
  readonly rowsAreOriginal: boolean;
  /** Inserts or replaces `id`. An invalid vector changes nothing. */
  add(id: number, vector: ArrayLike<number>): void;
  /** Inserts or replaces many (row-major n x dimension); validates every row before changing anything. */
  addBatch(ids: ArrayLike<number>, vectors: Float32Array): void;
  remove(id: number): boolean;
  search(query: ArrayLike<number>, options: EngineSearchOptions): EngineSearchResult;
  /** Many queries at once (row-major n x dimension): the same answers as `search`, faster per query. */
  searchBatch(queries: Float32Array, options: EngineSearchOptions): EngineSearchResult[];
  /** `source` gives the vectors when the index keeps only codes. */
  /**
   * A copy of every current vector for a training run (in chunks of shared memory); `into`, from
   * allocateSnapshot, is used when it has room for them all (its memory may be touched meanwhile
   * off the caller's thread: engine/prefault.ts).
   */
  trainingSnapshot(source?: VectorSource, into?: Float32Array[]): TrainingSnapshot;
  /** trainingSnapshot in steps (about 4 MiB of rows each), for a caller serving queries in between; the index must not change until the last. */
  trainingSnapshotInSteps(source?: VectorSource, into?: Float32Array[]): Generator<void, TrainingSnapshot, undefined>;
  /** Empty snapshot chunks with room for `rows` rows, for trainingSnapshot's `into`. */
  allocateSnapshot(rows: number): Float32Array[];
  /** Installs a model in one step (no search sees a mix); see IvfIndex.applyModel. */
  applyModel(model: IvfModel, assignment?: ModelAssignment, source?: VectorSource): void;
  /** applyModel in resumable steps of a few ms each, the swap in the last one; writes wait until it ends. */
  applyModelInSteps(model: IvfModel, assignment?: ModelAssignment, source?: VectorSource): Generator<void, void, undefined>;
  model(): IvfModel | null;
  /** A copy of the trained lists (ids, rows, norms, codes), for persisting; null untrained. */
  exportLists(): ListContents | null;
  /** exportLists in steps (about 1 MiB copied each), for a caller serving queries in between; the index must not change until the last. */
  exportListsInSteps(): Generator<void, ListContents | null, undefined>;
  /**
   * Replaces the whole index by `model` with the lists exactly as `contents` gives them (as
   * exportLists wrote them for this type, dimension and metric): nothing is re-encoded or
   * reassigned. Checks every shape and that no id appears twice before changing anything.
   */
  importLists(model: IvfModel, contents: ListContents): void;
  /** importLists with the lists given one at a time as they arrive; see IvfIndex.beginImport. */
  beginImport(model: IvfModel, shape: ListShape, idBound?: number): ListImport;
  /** Touches the memory an import of `model`'s lists (about `entries` entries) will use, before they are known; see IvfIndex.reserveImport. */
  reserveImport(model: IvfModel, entries: number): Promise<void>;
  /** Bytes held resident by the index. */
  memoryBytes(): number;
}
