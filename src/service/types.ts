// The domain API's vocabulary: what callers of the index service pass in and get back.
// The GraphQL layer maps these one to one; tests and benchmarks use them directly.

import type { Fusion, IndexType, ItemField, Metric, Permission, TextLanguage, TrainingPhase, TrainingTrigger } from './enumerations.js';

export type { Fusion, IndexType, ItemField, Metric, Permission, TextLanguage, TrainingPhase, TrainingTrigger };

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A 32-byte index key (raw bytes, or a base64 / hex string), or an index grant token (`cdxg_...`). */
export type IndexKeyInput = string | Uint8Array;

/** An index grant as listed: never its token. */
export interface IndexGrantInfo {
  id: string;
  label: string | null;
  permissions: Permission[];
  expiresAt: Date | null;
  createdAt: Date;
  lastUsedAt: Date | null;
}

/** A grant just created: the only time its token is ever returned. */
export interface CreatedIndexGrant extends IndexGrantInfo {
  token: string;
}

export interface CreateGrantOptions {
  permissions: Permission[];
  expiresAt?: Date | null;
  label?: string | null;
}
/** A vector as numbers or as little-endian float32. */
export type VectorInput = ArrayLike<number>;

export interface CreateIndexOptions {
  dimension: number;
  metric?: Metric;
  type?: IndexType;
  /** Lists to train into; chosen from the vector count at training time when absent. */
  nLists?: number;
  /** IVF_PQ only: pieces each vector is cut into (must divide the dimension); pieces of at most 8 dimensions when absent. */
  pqSubvectors?: number;
  /** IVF_PQ only: bits per piece's code, 1 to 8 (default 8; codes take one byte each). */
  pqBits?: number;
  /** Keyword (BM25) search over contents and `textFields`; default false. */
  textSearch?: boolean;
  /** Dotted metadata paths whose strings are indexed beside the contents (needs textSearch). */
  textFields?: string[];
  /** Stop words and stemming of the keyword index; default english (needs textSearch). */
  textLanguage?: TextLanguage;
}

export interface IndexInfo {
  name: string;
  dimension: number;
  metric: Metric;
  type: IndexType;
  /** Lists of the trained model, else the configured value, else null (chosen at training). */
  nLists: number | null;
  /** IVF_PQ's shape; null for the other types. */
  pqSubvectors: number | null;
  pqBits: number | null;
  vectorCount: number;
  /** Bytes the engine holds for this index (lists, codes, centroids, codec, bookkeeping), measured. */
  residentBytes: number;
  /** residentBytes per vector held; null while the index is empty. */
  bytesPerVector: number | null;
  isTrained: boolean;
  isTraining: boolean;
  lastTrainingRun: TrainingRun | null;
  createdAt: Date;
  textSearch: boolean;
  textFields: string[];
  /** Null when the index has no text search. */
  textLanguage: TextLanguage | null;
}

export interface ItemInput {
  id: string;
  vector: VectorInput;
  contents?: string | null;
  metadata?: JsonObject | null;
}

export interface Item {
  id: string;
  /** Present when `vector` was included. */
  vector?: number[];
  contents?: string | null;
  metadata?: JsonObject | null;
}

export interface SearchHit extends Item {
  /** The vector distance; null for a hit only the keyword search found. */
  distance: number | null;
  /** With text: the fused score (higher is better); absent or null on a vector-only query. */
  score?: number | null;
  /** With text: the BM25 score; null for a hit only the vector search found. */
  textScore?: number | null;
}

export interface SearchResults {
  hits: SearchHit[];
  /** True when the answer came from a full scan (untrained index, or every list probed). */
  exact: boolean;
  /**
   * True when the distances are code distances (rerankMult 0 on a trained IVF_SQ8 or IVF_PQ
   * index): the order and distances the codes give, not the exact ones.
   */
  approximate: boolean;
}

/** MongoDB-style metadata filter over dotted paths; its operators are listed by FILTER_OPERATORS. */
export type Filter = JsonObject;

export interface SearchOptions {
  topK?: number;
  nProbes?: number;
  filter?: Filter | null;
  include?: ItemField[];
  /**
   * Keyword queries, one per query (beside `vectors`, index by index; a null entry is a
   * vector-only query). Needs an index created with textSearch.
   */
  texts?: (string | null)[] | null;
  /**
   * Trained IVF_SQ8 and IVF_PQ indexes: the best rerankMult x topK candidates of the code scan
   * are re-ranked on their exact vectors; 0 returns code distances (marked approximate). Ignored
   * by IVF_FLAT, which re-ranks on its own rows. Default by type: DEFAULT_RERANK_MULT.
   */
  rerankMult?: number;
  /** Weight of the vector ranking in a hybrid query, 0..1 (1 pure vector, 0 pure keyword); default 0.5. */
  alpha?: number;
  /** Default rrf. */
  fusion?: Fusion;
  /** No hit farther than this. */
  maxDistance?: number | null;
  /** Scan every list, whatever the training state (no nProbes with it). */
  exact?: boolean | null;
  /** Search near this item's vector instead of given vectors; the item is left out of its hits. */
  nearItem?: string | null;
}

export interface PageOptions {
  /** 1 to 1000; 100 when absent. */
  first?: number | null;
  /** The endCursor (or an edge's cursor) of an earlier page of this index. */
  after?: string | null;
}

export interface BrowseOptions extends PageOptions {
  filter?: Filter | null;
  include?: ItemField[] | null;
}

/** A page of items in a stable order (by keyed token), each with the cursor that continues after it. */
export interface ItemPage {
  items: { cursor: string; item: Item }[];
  endCursor: string | null;
  hasNextPage: boolean;
}

/** RFC 7396 merge patch of metadata (null removes a field; null as a whole clears it); contents replaced when given. */
export interface ItemPatch {
  metadata?: JsonObject | null;
  contents?: string | null;
}

export interface TrainOptions {
  nLists?: number;
  batchSize?: number;
  maxIters?: number;
  tolerance?: number;
  /** With wait, a run that stops at maxIters above tolerance rejects with ConvergenceError. */
  requireConvergence?: boolean;
  /** Resolve with the run's final state instead of at once (train then waitForRun in one call). */
  wait?: boolean;
}

/** One snapshot of an index's training state; every event on a training topic is one of these. */
export interface TrainingStatus {
  /** Null only for IDLE on an index that never trained. */
  runId: string | null;
  index: string;
  trigger: TrainingTrigger | null;
  phase: TrainingPhase;
  iteration: number;
  maxIters: number;
  nLists: number;
  batchSize: number;
  tolerance: number;
  shift: number | null;
  inertia: number | null;
  converged: boolean;
  /** 0..1 */
  progress: number;
  elapsedMs: number;
  etaMs: number | null;
  vectorCount: number;
  startedAt: Date | null;
  finishedAt: Date | null;
  message: string | null;
  /** The replica that runs (or ran) it (Config.replicaName); absent when not known. */
  replica?: string | null;
}

export interface TrainingRun extends TrainingStatus {
  runId: string;
  trigger: TrainingTrigger;
}

export interface TrainingQueueInfo {
  retrainThreshold: number;
  autoTrainEnabled: boolean;
  /** A trained index is queued again once vectorCount > retrainGrowthFactor x the count it trained on. */
  retrainGrowthFactor: number;
  maxConcurrentTrainings: number;
  running: TrainingRun[];
  queued: TrainingRun[];
}

/** A page of an index's training run history, newest first. */
export interface TrainingRunPage {
  runs: TrainingRun[];
  /** Pass as `after` for the next page; null on an empty page. */
  endCursor: string | null;
  hasNextPage: boolean;
}

/** An index's activity over the last complete second (indexStats). Holds counts and timings only. */
export interface IndexStats {
  index: string;
  vectorCount: number;
  upsertsPerSecond: number;
  /** Query vectors searched per second (a searchBatch of n counts n). */
  searchesPerSecond: number;
  /** Search call latency percentiles over the interval, null when nothing was searched. */
  searchP50Ms: number | null;
  searchP99Ms: number | null;
  /** Bytes the index's engine holds in memory (0 while it is not loaded). */
  residentBytes: number;
  intervalMs: number;
  at: Date;
}

/** The domain API. Every method that takes a key verifies it first and throws InvalidIndexKeyError. */
/** Options of the writes that can be retried safely. */
export interface WriteOptions {
  /**
   * With a key, a retry of the same request answers the first attempt's result instead of writing
   * again (records/idempotency-record.ts); the key with another request is a ValidationError.
   */
  idempotencyKey?: string | null;
}

export interface IndexService {
  createIndex(name: string, key: IndexKeyInput, options: CreateIndexOptions): Promise<IndexInfo>;
  listIndexes(): Promise<string[]>;
  describeIndex(name: string, key: IndexKeyInput): Promise<IndexInfo>;
  deleteIndex(name: string, key: IndexKeyInput): Promise<void>;
  /**
   * Re-wraps the index's data key under `newKey` in one transaction (fast at any size); from then
   * on `key` gets InvalidIndexKeyError on every replica. Returns the index, opened with `newKey`.
   */
  rotateIndexKey(name: string, key: IndexKeyInput, newKey: IndexKeyInput): Promise<IndexInfo>;

  /** All-or-nothing, durable before it resolves. Re-upserting an id replaces it. */
  upsert(name: string, key: IndexKeyInput, items: ItemInput[], options?: WriteOptions): Promise<{ upsertedCount: number; index: IndexInfo }>;
  /** Items in the order of `ids`; unknown ids are left out. */
  get(name: string, key: IndexKeyInput, ids: string[], include?: ItemField[]): Promise<Item[]>;
  delete(name: string, key: IndexKeyInput, ids: string[], options?: WriteOptions): Promise<{ deletedCount: number }>;
  listIds(name: string, key: IndexKeyInput): Promise<string[]>;
  /** Pages through the items `filter` accepts; items that exist throughout a walk come exactly once. */
  browse(name: string, key: IndexKeyInput, options?: BrowseOptions): Promise<ItemPage>;
  count(name: string, key: IndexKeyInput, filter?: Filter | null): Promise<number>;
  /** Deletes by exactly one of `ids` (delete) or `filter` (deleteWhere). */
  deleteItems(
    name: string,
    key: IndexKeyInput,
    target: { ids?: string[] | null; filter?: Filter | null },
    options?: WriteOptions,
  ): Promise<{ deletedCount: number }>;
  /** Deletes every item `filter` accepts (a non-empty filter), all or nothing. */
  deleteWhere(name: string, key: IndexKeyInput, filter: Filter, options?: WriteOptions): Promise<{ deletedCount: number }>;
  /** Patches items in place (vectors untouched), all or nothing; unknown ids are an ItemsNotFoundError. */
  update(name: string, key: IndexKeyInput, ids: string[], patch: ItemPatch, options?: WriteOptions): Promise<{ updatedCount: number }>;

  /**
   * One result per query, in order: a query is a vector, a text (options.texts), or both (fused).
   * `vectors` may be null or empty when every query is a text, or with nearItem (one result).
   */
  search(name: string, key: IndexKeyInput, vectors: VectorInput[] | null, options?: SearchOptions): Promise<SearchResults[]>;

  /** Queues a run and returns it at once (phase QUEUED or later). */
  train(name: string, key: IndexKeyInput, options?: TrainOptions): Promise<TrainingRun>;
  /** Resolves with the final state of a run (COMPLETED, FAILED or CANCELLED). */
  waitForRun(runId: string): Promise<TrainingRun>;
  cancelTraining(name: string, key: IndexKeyInput): Promise<TrainingRun>;
  /** Verifies the key, then yields the current state and every later event, across runs, until returned. */
  trainingStatus(name: string, key: IndexKeyInput): Promise<AsyncIterableIterator<TrainingStatus>>;
  trainingQueue(): TrainingQueueInfo;
  /** The runs of the index that ended, newest first, recorded (sealed) in the store: they survive restarts. */
  trainingRuns(name: string, key: IndexKeyInput, options?: { first?: number | null; after?: string | null }): Promise<TrainingRunPage>;
  /** One recorded run by id; TrainingRunNotFoundError when it is not (or not yet) in the history. */
  trainingRun(name: string, key: IndexKeyInput, runId: string): Promise<TrainingRun>;
  /** The queue now, then again after every change (a run queued, started or ended); a slow consumer gets the latest only. */
  trainingQueueUpdates(): AsyncIterableIterator<TrainingQueueInfo>;
  /** Verifies the key, then yields the index's stats now and once per second; a slow consumer gets the latest only. */
  indexStats(name: string, key: IndexKeyInput): Promise<AsyncIterableIterator<IndexStats>>;
  /** A grant of `permissions` on the index; its token is returned here once and never stored. */
  createIndexGrant(name: string, key: IndexKeyInput, options: CreateGrantOptions): Promise<CreatedIndexGrant>;
  /** Throws GrantNotFoundError when the index has no such grant. */
  revokeIndexGrant(name: string, key: IndexKeyInput, grantId: string): Promise<IndexGrantInfo>;
  indexGrants(name: string, key: IndexKeyInput): Promise<IndexGrantInfo[]>;
  /** Indexes decrypted in memory now and the bytes their engines hold (names are public; for metrics). */
  residentMemory(): { indexes: number; bytes: number };
  /** True when the store answers (the health field and /ready); never throws, needs no key. */
  ping(): Promise<boolean>;

  close(): Promise<void>;
}
