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
  createdAt: Date;
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
  putItems(index: string, items: StoredItem[]): Promise<void>;
  /** One transaction, durable before it resolves; returns how many of the tokens existed. */
  deleteItems(index: string, tokens: Buffer[]): Promise<number>;
  /**
   * putItems under an idempotency key (idempotency-store.ts): in one transaction, the write and
   * its record (count: the number of items given), unless a record of the key within its retention
   * already exists; then nothing is written and the record answers. Throws StoreIndexNotFoundError.
   */
  putItemsOnce(index: string, items: StoredItem[], claim: IdempotencyClaim): Promise<IdempotentOutcome>;
  /** deleteItems under an idempotency key, as putItemsOnce (count: the items that existed and were deleted). */
  deleteItemsOnce(index: string, tokens: Buffer[], claim: IdempotencyClaim): Promise<IdempotentOutcome>;
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
