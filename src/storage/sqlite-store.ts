// The embedded store: one SQLite file through better-sqlite3, WAL with synchronous=FULL so a
// resolved write has been fsynced to the write-ahead log. Writes called in the same turn of the
// event loop share one transaction (group commit): one fsync for all of them, each in a savepoint
// of its own so that one failing leaves the others to commit.

import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { ensurePrivateDir, ensurePrivateFile } from '../runtime/private-files.js';
import { pendingMigrations } from './migration.js';
import { SQLITE_MIGRATIONS } from './sqlite-migrations.js';
import { itemTagsReader } from './sqlite-item-tags.js';
import type { IdempotencyClaim, IdempotentOutcome } from './idempotency-store.js';
import {
  DEFAULT_SCAN_PAGE_SIZE,
  StoreCommitmentConflictError,
  StoreConflictError,
  StoreIndexNotFoundError,
  type CommitmentBase,
  type CommitmentRule,
  type CommitmentUpdate,
  type Store,
  type StoredGrant,
  type StoredIndex,
  type StoredItem,
  type StoredItemTags,
  type StoredTrainingRun,
} from './store.js';

interface IndexRow {
  id: number;
  name: string;
  wrapped_data_key: Buffer;
  sealed_config: Buffer;
  sealed_model: Buffer | null;
  model_version: number;
  key_version: number;
  sealed_commitment: Buffer | null;
  commitment_seq: number;
  segment_set: Buffer | null;
  created_at: number;
}

interface GrantRow {
  id: string;
  permissions: string;
  expires_at: number | null;
  created_at: number;
  last_used_at: number | null;
  verifier: Buffer;
  wrapped_data_key: Buffer;
  sealed_label: Buffer | null;
}

interface ItemRow {
  id: number;
  token: Buffer;
  sealed: Buffer;
}

export interface SqliteStoreOptions {
  /** How long a writer waits for another process's lock before failing, in ms. */
  busyTimeoutMs?: number;
}

// Prepared once per connection: better-sqlite3 statements are reusable and preparing is the slow part.
function prepareStatements(db: Database.Database) {
  return {
    indexByName: db.prepare<[string], IndexRow>('SELECT * FROM indexes WHERE name = ?'),
    indexIdByName: db.prepare<[string], { id: number }>('SELECT id FROM indexes WHERE name = ?'),
    insertIndex: db.prepare<[string, Buffer, Buffer, number], IndexRow>(
      'INSERT INTO indexes (name, wrapped_data_key, sealed_config, created_at) VALUES (?, ?, ?, ?) RETURNING *',
    ),
    listNames: db.prepare<[], { name: string }>('SELECT name FROM indexes ORDER BY name COLLATE BINARY'),
    deleteIndexRow: db.prepare<[string], { id: number }>('DELETE FROM indexes WHERE name = ? RETURNING id'),
    deleteIndexItems: db.prepare<[number]>('DELETE FROM items WHERE index_id = ?'),
    deleteIndexRuns: db.prepare<[number]>('DELETE FROM training_runs WHERE index_id = ?'),
    putRun: db.prepare<[Buffer, Buffer, string], { id: number }>(
      'INSERT INTO training_runs (index_id, token, sealed) SELECT id, ?, ? FROM indexes WHERE name = ? ' +
        'ON CONFLICT (index_id, token) DO UPDATE SET sealed = excluded.sealed RETURNING id',
    ),
    listRuns: db.prepare<[number, number, number], { id: number; token: Buffer; sealed: Buffer }>(
      'SELECT id, token, sealed FROM training_runs WHERE index_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
    ),
    getRun: db.prepare<[number, Buffer], { id: number; token: Buffer; sealed: Buffer }>(
      'SELECT id, token, sealed FROM training_runs WHERE index_id = ? AND token = ?',
    ),
    // No unique index on (index_id, token) (migration 9): putItems updates, and inserts what it did not update.
    updateItem: db.prepare<[Buffer, number, Buffer]>('UPDATE items SET sealed = ? WHERE index_id = ? AND token = ?'),
    insertItem: db.prepare<[number, Buffer, Buffer]>('INSERT INTO items (index_id, token, sealed) VALUES (?, ?, ?)'),
    deleteItem: db.prepare<[number, Buffer]>('DELETE FROM items WHERE index_id = ? AND token = ?'),
    getItem: db.prepare<[number, Buffer], { sealed: Buffer }>('SELECT sealed FROM items WHERE index_id = ? AND token = ?'),
    scanPage: db.prepare<[number, number, number], ItemRow>(
      'SELECT id, token, sealed FROM items WHERE index_id = ? AND id > ? ORDER BY id LIMIT ?',
    ),
    setCommitment: db.prepare<[Buffer, number, number]>(
      'UPDATE indexes SET sealed_commitment = ?, commitment_seq = commitment_seq + 1 WHERE id = ? AND commitment_seq = ?',
    ),
    establishCommitment: db.prepare<[Buffer, Buffer, string, number]>(
      'UPDATE indexes SET sealed_commitment = ?, sealed_config = ?, commitment_seq = commitment_seq + 1 WHERE name = ? AND commitment_seq = ? AND sealed_commitment IS NULL',
    ),
    commitment: db.prepare<[string], { id: number; sealed_commitment: Buffer | null; commitment_seq: number }>(
      'SELECT id, sealed_commitment, commitment_seq FROM indexes WHERE name = ?',
    ),
    sealTag: db.prepare<[number, Buffer], { tag: Buffer }>('SELECT substr(sealed, -16) AS tag FROM items WHERE index_id = ? AND token = ?'),
    count: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM items WHERE index_id = ?'),
    replaceWrappedDataKey: db.prepare<[Buffer, string, Buffer], { key_version: number }>(
      'UPDATE indexes SET wrapped_data_key = ?, key_version = key_version + 1 WHERE name = ? AND wrapped_data_key = ? RETURNING key_version',
    ),
    deleteIndexGrants: db.prepare<[number]>('DELETE FROM index_grants WHERE index_id = ?'),
    deleteIndexIdempotency: db.prepare<[number]>('DELETE FROM idempotency_records WHERE index_id = ?'),
    idempotencyRecord: db.prepare<[number, Buffer], { request_hash: Buffer; result_count: number; created_at: number }>(
      'SELECT request_hash, result_count, created_at FROM idempotency_records WHERE index_id = ? AND key_hash = ?',
    ),
    putIdempotencyRecord: db.prepare<[number, Buffer, Buffer, number, number]>(
      'INSERT OR REPLACE INTO idempotency_records (index_id, key_hash, request_hash, result_count, created_at) VALUES (?, ?, ?, ?, ?)',
    ),
    pruneIdempotency: db.prepare<[number]>('DELETE FROM idempotency_records WHERE created_at < ?'),
    insertGrant: db.prepare<[number, string, string, number | null, number, Buffer, Buffer, Buffer | null]>(
      'INSERT INTO index_grants (index_id, id, permissions, expires_at, created_at, verifier, wrapped_data_key, sealed_label) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    grant: db.prepare<[string, string], GrantRow>(
      'SELECT g.* FROM index_grants g JOIN indexes i ON g.index_id = i.id WHERE i.name = ? AND g.id = ?',
    ),
    grants: db.prepare<[string], GrantRow>(
      'SELECT g.* FROM index_grants g JOIN indexes i ON g.index_id = i.id WHERE i.name = ? ORDER BY g.created_at, g.id',
    ),
    deleteGrant: db.prepare<[string, string]>('DELETE FROM index_grants WHERE index_id = (SELECT id FROM indexes WHERE name = ?) AND id = ?'),
    touchGrant: db.prepare<[number, string, string]>(
      'UPDATE index_grants SET last_used_at = ? WHERE index_id = (SELECT id FROM indexes WHERE name = ?) AND id = ?',
    ),
    deleteIndexSegments: db.prepare<[number]>('DELETE FROM index_segments WHERE index_id = ?'),
    insertSegment: db.prepare<[number, Buffer, number, Buffer]>('INSERT INTO index_segments (index_id, set_id, seq, sealed) VALUES (?, ?, ?, ?)'),
    setSegmentSet: db.prepare<[Buffer, number]>('UPDATE indexes SET segment_set = ? WHERE id = ?'),
    readSegments: db.prepare<[number, Buffer, number, number], { sealed: Buffer }>(
      'SELECT sealed FROM index_segments WHERE index_id = ? AND set_id = ? AND seq >= ? ORDER BY seq LIMIT ?',
    ),
    saveModel: db.prepare<[Buffer, string], { model_version: number }>(
      'UPDATE indexes SET sealed_model = ?, model_version = model_version + 1 WHERE name = ? RETURNING model_version',
    ),
  };
}

function toStoredIndex(row: IndexRow): StoredIndex {
  return {
    name: row.name,
    wrappedDataKey: row.wrapped_data_key,
    sealedConfig: row.sealed_config,
    sealedModel: row.sealed_model,
    modelVersion: row.model_version,
    changeSeq: 0,
    keyVersion: row.key_version,
    sealedCommitment: row.sealed_commitment,
    commitmentSeq: row.commitment_seq,
    segmentSet: row.segment_set,
    createdAt: new Date(row.created_at),
  };
}

function toStoredGrant(index: string, row: GrantRow): StoredGrant {
  return {
    id: row.id,
    index,
    permissions: row.permissions,
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    createdAt: new Date(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : new Date(row.last_used_at),
    verifier: row.verifier,
    wrappedDataKey: row.wrapped_data_key,
    sealedLabel: row.sealed_label,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/** A write waiting for the next group commit; `nested` runs it inside the group's transaction. */
interface PendingWrite {
  run(nested: boolean): unknown;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #db: Database.Database;
  readonly #pending: PendingWrite[] = [];
  readonly #group: Database.Transaction<(writes: PendingWrite[], outcomes: Array<{ value: unknown } | { error: unknown }>) => void>;
  readonly #createIndex: Database.Transaction<(name: string, wrappedDataKey: Buffer, sealedConfig: Buffer) => IndexRow | undefined>;
  readonly #saveModel: Database.Transaction<(index: string, sealedModel: Buffer) => number | undefined>;
  readonly #statements: ReturnType<typeof prepareStatements>;
  readonly #putItems: Database.Transaction<(index: string, items: StoredItem[], commitment?: CommitmentUpdate | CommitmentRule) => void>;
  readonly #deleteItems: Database.Transaction<(index: string, tokens: Buffer[], commitment?: CommitmentUpdate | CommitmentRule) => number>;
  readonly #readCommitment: Database.Transaction<(index: string, tokens: Buffer[]) => CommitmentBase | null>;
  readonly #getItems: Database.Transaction<(index: string, tokens: Buffer[]) => StoredItem[]>;
  readonly #deleteIndex: Database.Transaction<(name: string) => boolean>;
  readonly #putRun: Database.Transaction<(index: string, token: Buffer, sealed: Buffer) => boolean>;
  readonly #itemTags: (index: string) => StoredItemTags | null;
  readonly #replaceSegments: Database.Transaction<(index: string, setId: Buffer, segments: Buffer[]) => void>;
  readonly #once: Database.Transaction<(index: string, claim: IdempotencyClaim, write: () => number) => IdempotentOutcome>;

  private constructor(db: Database.Database) {
    this.#db = db;
    const s = prepareStatements(db);
    this.#statements = s;
    const indexId = (name: string): number | undefined => s.indexIdByName.get(name)?.id;
    // Compare-and-set first: a refused commitment throws, and the transaction writes nothing.
    // A rule is computed here, inside the transaction that holds the write lock.
    const setCommitment = (index: string, id: number, commitment: CommitmentUpdate | CommitmentRule | undefined, tokens: Buffer[]): void => {
      const update = typeof commitment === 'function' ? commitment(this.#readCommitment(index, tokens)!) : commitment;
      if (update !== undefined && s.setCommitment.run(update.sealed, id, update.expectedSeq).changes === 0) {
        throw new StoreCommitmentConflictError(index);
      }
    };
    // Prepared statements run per item inside one transaction: a single fsync per batch.
    this.#putItems = db.transaction((index: string, items: StoredItem[], commitment?: CommitmentUpdate | CommitmentRule) => {
      const id = indexId(index);
      if (id === undefined) throw new StoreIndexNotFoundError(index);
      setCommitment(index, id, commitment, items.map((item) => item.token));
      for (const item of items) {
        if (s.updateItem.run(item.sealed, id, item.token).changes === 0) s.insertItem.run(id, item.token, item.sealed);
      }
    });
    this.#readCommitment = db.transaction((index: string, tokens: Buffer[]) => {
      const row = s.commitment.get(index);
      if (row === undefined) return null;
      return { seq: row.commitment_seq, sealed: row.sealed_commitment, tags: tokens.map((token) => s.sealTag.get(row.id, token)?.tag ?? null) };
    });
    this.#deleteItems = db.transaction((index: string, tokens: Buffer[], commitment?: CommitmentUpdate | CommitmentRule) => {
      const id = indexId(index);
      if (id === undefined) return 0;
      setCommitment(index, id, commitment, tokens);
      let deleted = 0;
      for (const token of tokens) deleted += s.deleteItem.run(id, token).changes;
      return deleted;
    });
    this.#getItems = db.transaction((index: string, tokens: Buffer[]) => {
      const id = indexId(index);
      if (id === undefined) return [];
      const found: StoredItem[] = [];
      for (const token of tokens) {
        const row = s.getItem.get(id, token);
        if (row !== undefined) found.push({ token, sealed: row.sealed });
      }
      return found;
    });
    this.#itemTags = itemTagsReader(db);
    this.#replaceSegments = db.transaction((index: string, setId: Buffer, segments: Buffer[]) => {
      const id = indexId(index);
      if (id === undefined) throw new StoreIndexNotFoundError(index);
      s.deleteIndexSegments.run(id);
      segments.forEach((sealed, seq) => s.insertSegment.run(id, setId, seq, sealed));
      s.setSegmentSet.run(setId, id);
    });
    // An idempotent write: the record is read, and the write and its record made, in one
    // transaction (the writes of this file run one at a time, so no other claim can interleave).
    this.#once = db.transaction((index: string, claim: IdempotencyClaim, write: () => number): IdempotentOutcome => {
      const id = indexId(index);
      if (id === undefined) throw new StoreIndexNotFoundError(index);
      const now = Date.now();
      const record = s.idempotencyRecord.get(id, claim.keyHash);
      if (record !== undefined && record.created_at >= now - claim.retentionMs) {
        return record.request_hash.equals(claim.requestHash) ? { kind: 'replayed', count: record.result_count } : { kind: 'mismatch' };
      }
      const count = write();
      s.putIdempotencyRecord.run(id, claim.keyHash, claim.requestHash, count, now);
      return { kind: 'done', count };
    });
    this.#deleteIndex = db.transaction((name: string) => {
      const row = s.deleteIndexRow.get(name);
      if (row === undefined) return false;
      s.deleteIndexItems.run(row.id);
      s.deleteIndexRuns.run(row.id);
      s.deleteIndexGrants.run(row.id);
      s.deleteIndexIdempotency.run(row.id);
      s.deleteIndexSegments.run(row.id);
      return true;
    });
    // all(), never get(), for a write ... RETURNING: get() stops at the first row and finishes the
    // statement by a reset whose error better-sqlite3 drops, so a failed write could look done.
    this.#createIndex = db.transaction((name: string, wrappedDataKey: Buffer, sealedConfig: Buffer) =>
      s.insertIndex.all(name, wrappedDataKey, sealedConfig, Date.now())[0]);
    this.#saveModel = db.transaction((index: string, sealedModel: Buffer) => s.saveModel.all(sealedModel, index)[0]?.model_version);
    this.#putRun = db.transaction((index: string, token: Buffer, sealed: Buffer) => s.putRun.all(token, sealed, index).length > 0);
    // Each write of a group runs as a nested transaction (a savepoint): its failure rolls back only
    // its own changes, and the group commits the rest with one fsync.
    this.#group = db.transaction((writes: PendingWrite[], outcomes: Array<{ value: unknown } | { error: unknown }>) => {
      for (const write of writes) {
        try {
          outcomes.push({ value: write.run(true) });
        } catch (error) {
          outcomes.push({ error });
        }
      }
    });
  }

  /**
   * Queues a write for the group commit at the end of this turn of the event loop; it resolves
   * once its transaction has committed (fsynced). Writes run in call order.
   */
  #write<T>(run: (nested: boolean) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#pending.length === 0) setImmediate(() => this.#commit());
      this.#pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  #commit(): void {
    const writes = this.#pending.splice(0);
    if (writes.length === 0) return;
    if (writes.length === 1) {
      const [write] = writes;
      try {
        write.resolve(write.run(false));
      } catch (error) {
        write.reject(error);
      }
      return;
    }
    const outcomes: Array<{ value: unknown } | { error: unknown }> = [];
    try {
      this.#group.immediate(writes, outcomes);
    } catch (error) {
      // The commit itself failed (disk full, I/O error): none of the group was written.
      for (const write of writes) write.reject(error);
      return;
    }
    writes.forEach((write, i) => {
      const outcome = outcomes[i];
      if ('error' in outcome) write.reject(outcome.error);
      else write.resolve(outcome.value);
    });
  }

  /** Opens (creating if needed) the database file and applies pending migrations. */
  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteStore> {
    // Private whatever the umask: the directory 0700, the database 0600 (its WAL and shared-memory
    // files take the database's mode).
    ensurePrivateDir(dirname(file));
    ensurePrivateFile(file);
    const db = new Database(file, { timeout: options.busyTimeoutMs ?? 10_000 });
    try {
      // 8 KiB pages hold a dozen ~600-byte sealed records each; only takes effect on a new file.
      db.pragma('page_size = 8192');
      db.pragma('journal_mode = WAL');
      // FULL: with WAL, every commit fsyncs the log, so "resolved" means "survives power loss",
      // not just a process crash (NORMAL would only promise the latter).
      db.pragma('synchronous = FULL');
      // A larger page cache keeps the token index's hot pages in memory during big batches.
      db.pragma('cache_size = -65536');
      // A 10,000-item batch fills ~800 pages of log: checkpoint every few batches rather than
      // after each one, and cut the log file back afterwards so it does not stay large.
      db.pragma('wal_autocheckpoint = 4096');
      db.pragma('journal_size_limit = 67108864');
      migrate(db);
      return new SqliteStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async createIndex(index: { name: string; wrappedDataKey: Buffer; sealedConfig: Buffer }): Promise<StoredIndex> {
    try {
      const row = await this.#write((nested) => (nested ? this.#createIndex : this.#createIndex.immediate)(index.name, index.wrappedDataKey, index.sealedConfig));
      if (row === undefined) throw new Error('INSERT ... RETURNING returned no row');
      return toStoredIndex(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError(index.name);
      throw error;
    }
  }

  async getIndex(name: string): Promise<StoredIndex | null> {
    const row = this.#statements.indexByName.get(name);
    return row === undefined ? null : toStoredIndex(row);
  }

  async listIndexNames(): Promise<string[]> {
    return this.#statements.listNames.all().map((row) => row.name);
  }

  async deleteIndex(name: string): Promise<boolean> {
    return this.#write((nested) => (nested ? this.#deleteIndex : this.#deleteIndex.immediate)(name));
  }

  // IMMEDIATE takes the write lock up front, so the id lookup and the writes see one state and
  // another process cannot slip in between (a deferred transaction could fail to upgrade).
  async putItems(index: string, items: StoredItem[], commitment?: CommitmentUpdate | CommitmentRule): Promise<void> {
    await this.#write((nested) => (nested ? this.#putItems : this.#putItems.immediate)(index, items, commitment));
  }

  async deleteItems(index: string, tokens: Buffer[], commitment?: CommitmentUpdate | CommitmentRule): Promise<number> {
    return this.#write((nested) => (nested ? this.#deleteItems : this.#deleteItems.immediate)(index, tokens, commitment));
  }

  async readCommitment(index: string, tokens: Buffer[]): Promise<CommitmentBase | null> {
    return this.#readCommitment.deferred(index, tokens);
  }

  async establishCommitment(index: string, commitment: CommitmentUpdate, sealedConfig: Buffer): Promise<boolean> {
    // One statement: its own transaction alone, or a savepoint in a group commit.
    return this.#write(() => this.#statements.establishCommitment.run(commitment.sealed, sealedConfig, index, commitment.expectedSeq).changes > 0);
  }

  async putItemsOnce(index: string, items: StoredItem[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome> {
    return this.#write((nested) =>
      (nested ? this.#once : this.#once.immediate)(index, claim, () => {
        this.#putItems(index, items, commitment);
        return items.length;
      }),
    );
  }

  async deleteItemsOnce(index: string, tokens: Buffer[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome> {
    return this.#write((nested) => (nested ? this.#once : this.#once.immediate)(index, claim, () => this.#deleteItems(index, tokens, commitment)));
  }

  async pruneIdempotencyRecords(olderThanMs: number): Promise<number> {
    return this.#write(() => this.#statements.pruneIdempotency.run(Date.now() - olderThanMs).changes);
  }

  async getItems(index: string, tokens: Buffer[]): Promise<StoredItem[]> {
    return this.#getItems.deferred(index, tokens);
  }

  async *scanItems(index: string, pageSize = DEFAULT_SCAN_PAGE_SIZE): AsyncIterable<StoredItem[]> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
    const id = this.#statements.indexIdByName.get(index)?.id;
    if (id === undefined) return;
    let after = 0;
    for (;;) {
      const rows = this.#statements.scanPage.all(id, after, pageSize);
      if (rows.length === 0) return;
      after = rows[rows.length - 1].id;
      yield rows.map((row) => ({ token: row.token, sealed: row.sealed }));
      if (rows.length < pageSize) return;
    }
  }

  async countItems(index: string): Promise<number> {
    const id = this.#statements.indexIdByName.get(index)?.id;
    return id === undefined ? 0 : (this.#statements.count.get(id)?.n ?? 0);
  }

  async readItemTags(index: string): Promise<StoredItemTags | null> {
    return this.#itemTags(index);
  }

  async replaceSegments(index: string, setId: Buffer, segments: Buffer[]): Promise<void> {
    await this.#write((nested) => (nested ? this.#replaceSegments : this.#replaceSegments.immediate)(index, setId, segments));
  }

  async readSegments(index: string, setId: Buffer, from: number, count: number): Promise<Buffer[]> {
    const id = this.#statements.indexIdByName.get(index)?.id;
    if (id === undefined) return [];
    return this.#statements.readSegments.all(id, setId, from, count).map((row) => row.sealed);
  }

  async replaceWrappedDataKey(index: string, expected: Buffer, replacement: Buffer): Promise<number | null> {
    // all(), never get(), for a write outside a transaction: see saveModel.
    const [row] = this.#statements.replaceWrappedDataKey.all(replacement, index, expected);
    return row?.key_version ?? null;
  }

  async putTrainingRun(index: string, token: Buffer, sealed: Buffer): Promise<void> {
    const stored = await this.#write((nested) => (nested ? this.#putRun : this.#putRun.immediate)(index, token, sealed));
    if (!stored) throw new StoreIndexNotFoundError(index);
  }

  async listTrainingRuns(index: string, limit: number, before?: number): Promise<StoredTrainingRun[]> {
    const id = this.#statements.indexIdByName.get(index)?.id;
    if (id === undefined) return [];
    return this.#statements.listRuns.all(id, before ?? Number.MAX_SAFE_INTEGER, limit).map((row) => ({ seq: row.id, token: row.token, sealed: row.sealed }));
  }

  async getTrainingRun(index: string, token: Buffer): Promise<StoredTrainingRun | null> {
    const id = this.#statements.indexIdByName.get(index)?.id;
    const row = id === undefined ? undefined : this.#statements.getRun.get(id, token);
    return row === undefined ? null : { seq: row.id, token: row.token, sealed: row.sealed };
  }

  async saveModel(index: string, sealedModel: Buffer): Promise<number> {
    const version = await this.#write((nested) => (nested ? this.#saveModel : this.#saveModel.immediate)(index, sealedModel));
    if (version === undefined) throw new StoreIndexNotFoundError(index);
    return version;
  }

  async createGrant(grant: Omit<StoredGrant, 'lastUsedAt'>): Promise<void> {
    // One statement: it is its own transaction alone, or a savepoint in a group commit.
    await this.#write(() => {
      const id = this.#statements.indexIdByName.get(grant.index)?.id;
      if (id === undefined) throw new StoreIndexNotFoundError(grant.index);
      this.#statements.insertGrant.run(
        id,
        grant.id,
        grant.permissions,
        grant.expiresAt === null ? null : grant.expiresAt.getTime(),
        grant.createdAt.getTime(),
        grant.verifier,
        grant.wrappedDataKey,
        grant.sealedLabel,
      );
    });
  }

  async getGrant(index: string, id: string): Promise<StoredGrant | null> {
    const row = this.#statements.grant.get(index, id);
    return row === undefined ? null : toStoredGrant(index, row);
  }

  async listGrants(index: string): Promise<StoredGrant[]> {
    return this.#statements.grants.all(index).map((row) => toStoredGrant(index, row));
  }

  async deleteGrant(index: string, id: string): Promise<boolean> {
    return this.#write(() => this.#statements.deleteGrant.run(index, id).changes > 0);
  }

  async touchGrant(index: string, id: string, at: Date): Promise<void> {
    await this.#write(() => this.#statements.touchGrant.run(at.getTime(), index, id));
  }

  async close(): Promise<void> {
    if (!this.#db.open) return;
    this.#commit(); // writes already called are committed (or fail) before the file closes
    this.#db.close();
  }
}

function migrate(db: Database.Database): void {
  // IMMEDIATE: two processes opening a fresh file at once serialize here instead of racing.
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const applied = new Set(db.prepare<[], { version: number }>('SELECT version FROM schema_migrations').all().map((r) => r.version));
    const record = db.prepare<[number, string, number]>('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, ?)');
    for (const migration of pendingMigrations(SQLITE_MIGRATIONS, applied)) {
      db.exec(migration.sql);
      record.run(migration.version, migration.description, Date.now());
    }
  }).immediate();
}
