// The storage contract: a durable home for sealed bytes. Index names are the only plaintext the
// store holds (they are listed without a key); everything else arrives already sealed.

import type { ModelFence } from './model-fence.js';
import type { IdempotencyClaim, IdempotentOutcome } from './idempotency-store.js';
import type { ReplicationStore } from './replication-store.js';
import type { StoreKind } from './store-kinds.js';

export interface StoredIndex {
  name: string;
  wrappedDataKey: Buffer;
  sealedConfig: Buffer;
  sealedModel: Buffer | null;
  /** 0 until the first saveModel, then incremented by each. */
  modelVersion: number;
  /** Writes to the index so far (see ReplicationStore); always 0 on a store without replication. */
  changeSeq: number;
  /** 0 at creation, then incremented by each replaceWrappedDataKey (key rotation). */
  keyVersion: number;
  /** The index commitment (service/records/index-commitment.ts), null until its first write. */
  sealedCommitment: Buffer | null;
  /** Plaintext copy of the commitment's counter: what a write's compare-and-set is checked against. */
  commitmentSeq: number;
  /** The id of the index's current sealed segment set (service/segments), null when it has none. */
  segmentSet: Buffer | null;
  createdAt: Date;
}

/** The (token, seal tag) of every item record of an index, read in one snapshot with the commitment counter. */
export interface StoredItemTags {
  /** The commitment counter in the same snapshot. */
  commitmentSeq: number;
  count: number;
  /** count x 32 bytes. */
  tokens: Buffer;
  /** count x 16 bytes: the last 16 bytes (GCM tag) of each sealed record, in the order of `tokens`. */
  tags: Buffer;
}

/**
 * The new index commitment a write of items carries, written in the same transaction. The write
 * is refused as a whole (StoreCommitmentConflictError) unless the stored counter still is
 * `expectedSeq`: writers (also on other replicas) serialize on the index row, each computing
 * from the commitment the previous one left.
 */
export interface CommitmentUpdate {
  expectedSeq: number;
  /** Its counter is expectedSeq + 1. */
  sealed: Buffer;
}

/**
 * Computes the new commitment from the current one, inside the write's transaction with the
 * index row locked (PostgreSQL: SELECT ... FOR NO KEY UPDATE), so writers on several replicas take
 * turns instead of retrying. Synchronous; throwing aborts the write. Not for the SQLite writer
 * thread (a function does not cross threads): there the caller passes a CommitmentUpdate.
 */
export type CommitmentRule = (base: CommitmentBase) => CommitmentUpdate;

/** What a writer computes the next commitment from: the current one and the seal tags of the tokens it touches. */
export interface CommitmentBase {
  seq: number;
  sealed: Buffer | null;
  /** Per requested token, the last 16 bytes of its sealed record, or null when absent. */
  tags: Array<Buffer | null>;
}

/** A record as the store sees it: a keyed token to find it by and the sealed bytes. */
export interface StoredItem {
  token: Buffer;
  sealed: Buffer;
}

/** An index with that name already exists. */
export class StoreConflictError extends Error {
  constructor(readonly index: string) {
    super(`Index "${index}" already exists in the store.`);
    this.name = 'StoreConflictError';
  }
}

/** Another write changed the index commitment first (compare-and-set failed). Nothing was written. */
export class StoreCommitmentConflictError extends Error {
  constructor(readonly index: string) {
    super(`The commitment of index "${index}" changed meanwhile; nothing was written.`);
    this.name = 'StoreCommitmentConflictError';
  }
}

/** A write addressed an index that does not exist (or was deleted meanwhile). Nothing was written. */
export class StoreIndexNotFoundError extends Error {
  constructor(readonly index: string) {
    super(`Index "${index}" does not exist in the store.`);
    this.name = 'StoreIndexNotFoundError';
  }
}

/**
 * An index grant as stored: the verifier of its token and the data key wrapped under the token's
 * key (never the token), its permissions and expiry (bound into the wrap), and its label sealed
 * under the index's data key.
 */
export interface StoredGrant {
  id: string;
  index: string;
  /** Comma-separated permission names, as bound into the wrap. */
  permissions: string;
  expiresAt: Date | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  verifier: Buffer;
  wrappedDataKey: Buffer;
  sealedLabel: Buffer | null;
}

export const DEFAULT_SCAN_PAGE_SIZE = 1000;

/** A training run's sealed record; `seq` orders records (larger is newer) and pages the history. */
export interface StoredTrainingRun {
  seq: number;
  token: Buffer;
  sealed: Buffer;
}

export interface Store {
  readonly kind: StoreKind;
  /** Present when several processes can share this store (PostgreSQL). */
  readonly replication?: ReplicationStore;
  /** Throws StoreConflictError when the name is taken. */
  createIndex(index: { name: string; wrappedDataKey: Buffer; sealedConfig: Buffer }): Promise<StoredIndex>;
  getIndex(name: string): Promise<StoredIndex | null>;
  /** Sorted by code point (binary collation), the same on both stores. */
  listIndexNames(): Promise<string[]>;
  /** Removes the index with its items and model; false when there was no such index. */
  deleteIndex(name: string): Promise<boolean>;
  /**
   * One transaction, all-or-nothing, durable (fsynced / committed) before it resolves. Replaces
   * by token; when a batch repeats a token, the last item wins. Throws StoreIndexNotFoundError.
   */
  putItems(index: string, items: StoredItem[], commitment?: CommitmentUpdate | CommitmentRule): Promise<void>;
  /** One transaction, durable before it resolves; returns how many of the tokens existed. */
  deleteItems(index: string, tokens: Buffer[], commitment?: CommitmentUpdate | CommitmentRule): Promise<number>;
  /** The commitment and the seal tags of `tokens`, read together; null when the index is gone. */
  readCommitment(index: string, tokens: Buffer[]): Promise<CommitmentBase | null>;
  /**
   * Upgrade of an index that has no commitment yet: stores its first one and the re-sealed
   * configuration that says it has one, in one statement, only if the counter still is
   * `expectedSeq` and no commitment is stored; false otherwise.
   */
  establishCommitment(index: string, commitment: CommitmentUpdate, sealedConfig: Buffer): Promise<boolean>;
  /**
   * putItems under an idempotency key (idempotency-store.ts): in one transaction, the write and
   * its record (count: the number of items given), unless a record of the key within its retention
   * already exists; then nothing is written and the record answers. Throws StoreIndexNotFoundError.
   */
  putItemsOnce(index: string, items: StoredItem[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome>;
  /** deleteItems under an idempotency key, as putItemsOnce (count: the items that existed and were deleted). */
  deleteItemsOnce(index: string, tokens: Buffer[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome>;
  /** Drops idempotency records older than `olderThanMs`; returns how many. */
  pruneIdempotencyRecords(olderThanMs: number): Promise<number>;
  /** The items found, in the order of `tokens`; unknown tokens are left out. */
  getItems(index: string, tokens: Buffer[]): Promise<StoredItem[]>;
  /**
   * Every item of an index, in pages of at most pageSize (default 1000) in no promised order, for
   * loading an index into memory. PostgreSQL reads one snapshot; SQLite reads page by page, so a
   * write made during a scan may or may not be seen there. Callers that need a consistent view
   * hold off writes to the index meanwhile. Abandoning the loop early releases everything.
   */
  scanItems(index: string, pageSize?: number): AsyncIterable<StoredItem[]>;
  countItems(index: string): Promise<number>;
  /** Every item's token and seal tag with the commitment counter, one consistent read; null when the index is gone. */
  readItemTags(index: string): Promise<StoredItemTags | null>;
  /**
   * Replaces the index's sealed segment set by `segments` (numbered from 0) under the new id
   * `setId`, in one transaction: the old set's segments are removed. Throws StoreIndexNotFoundError.
   * The segments may be moved to another thread (their buffers detached): do not use them afterwards.
   */
  replaceSegments(index: string, setId: Buffer, segments: Buffer[]): Promise<void>;
  /** Segments `from` .. `from + count - 1` of set `setId`, in order; fewer (or none) when the set was replaced meanwhile. */
  readSegments(index: string, setId: Buffer, from: number, count: number): Promise<Buffer[]>;
  /**
   * Key rotation: replaces the wrapped data key in one statement, only if it still is `expected`
   * (compare-and-set, so two rotations cannot both win and each commit leaves exactly one key
   * valid); returns the new keyVersion, or null when the index is gone or holds another wrapping.
   */
  replaceWrappedDataKey(index: string, expected: Buffer, replacement: Buffer): Promise<number | null>;
  /**
   * Stores the sealed record of a training run that ended, under `token` (replaces an earlier
   * record with that token). Throws StoreIndexNotFoundError.
   */
  putTrainingRun(index: string, token: Buffer, sealed: Buffer): Promise<void>;
  /** Sealed run records, newest first: at most `limit`, older than record number `before` when given. */
  listTrainingRuns(index: string, limit: number, before?: number): Promise<StoredTrainingRun[]>;
  getTrainingRun(index: string, token: Buffer): Promise<StoredTrainingRun | null>;
  /**
   * Writes a new sealed model (centroids + assignments) in one transaction; returns the new
   * modelVersion. With `fence` (stores with replication): only while the index's training lease is
   * still the fence's run and unexpired, checked in the same statement, else ModelFencedError and
   * nothing written. A store without replication is one process whose scheduler runs one run per
   * index, so it has no lease to check and ignores the fence.
   */
  saveModel(index: string, sealedModel: Buffer, fence?: ModelFence): Promise<number>;
  /** Throws StoreIndexNotFoundError when the index is gone. */
  createGrant(grant: Omit<StoredGrant, 'lastUsedAt'>): Promise<void>;
  getGrant(index: string, id: string): Promise<StoredGrant | null>;
  /** Oldest first. */
  listGrants(index: string): Promise<StoredGrant[]>;
  /** False when the index has no such grant. */
  deleteGrant(index: string, id: string): Promise<boolean>;
  /** Records a use (best effort: the caller throttles it). */
  touchGrant(index: string, id: string, at: Date): Promise<void>;
  close(): Promise<void>;
}
