// The shared store for several replicas: PostgreSQL through a pg Pool. A 10,000-item write is
// one statement (binary parameters cut apart on the server), not 10,000 round trips. Every write
// also logs the tokens it touched under the index's next change number, in the same statement,
// so other replicas can catch up on it (postgres-replication.ts).

import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pendingMigrations } from './migration.js';
import { POSTGRES_MIGRATIONS } from './postgres-migrations.js';
import { PostgresReplication } from './postgres-replication.js';
import { ModelFencedError, type ModelFence } from './model-fence.js';
import { DEFAULT_POSTGRES_TIMEOUTS, isLostConnection, poolTimeoutOptions, type PostgresTimeouts } from './postgres-timeouts.js';
import { inTransaction } from './postgres-transaction.js';
import type { IdempotencyClaim, IdempotentOutcome } from './idempotency-store.js';
import { claimIdempotencyKey, completeIdempotencyKey, pruneIdempotencyRecords } from './postgres-idempotency.js';
import { discardIdleConnectionsOnLoss } from './postgres-dead-connections.js';
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

export interface PostgresStoreOptions {
  /**
   * Schema that holds Cipherdex's tables, created if missing. It is set as the connections'
   * search_path, so tests (and tenants sharing one database) can each use their own. Without it,
   * the connection's own search_path applies (normally `public`).
   */
  schema?: string;
  /** Pool size; default 10. */
  maxConnections?: number;
  /**
   * A putItems batch larger than this many bytes is split into several statements inside one
   * transaction; default 64 MiB, far below PostgreSQL's 1 GB limit on one parameter.
   */
  maxStatementBytes?: number;
  /** Network and server timeouts (postgres-timeouts.ts); each missing one takes its default. */
  timeouts?: Partial<PostgresTimeouts>;
}

interface IndexRow {
  name: string;
  wrapped_data_key: Buffer;
  sealed_config: Buffer;
  sealed_model: Buffer | null;
  model_version: number;
  key_version: number;
  change_seq: string;
  sealed_commitment: Buffer | null;
  commitment_seq: string;
  segment_set: Buffer | null;
  created_at: Date;
}

interface GrantRow {
  id: string;
  permissions: string;
  expires_at: Date | null;
  created_at: Date;
  last_used_at: Date | null;
  verifier: Buffer;
  wrapped_data_key: Buffer;
  sealed_label: Buffer | null;
}

const GRANT_COLUMNS = 'g.id, g.permissions, g.expires_at, g.created_at, g.last_used_at, g.verifier, g.wrapped_data_key, g.sealed_label';

function toStoredGrant(index: string, row: GrantRow): StoredGrant {
  return {
    id: row.id,
    index,
    permissions: row.permissions,
    expiresAt: row.expires_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    verifier: row.verifier,
    wrappedDataKey: row.wrapped_data_key,
    sealedLabel: row.sealed_label,
  };
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const INDEX_COLUMNS = 'name, wrapped_data_key, sealed_config, sealed_model, model_version, key_version, change_seq, sealed_commitment, commitment_seq, segment_set, created_at';

function toStoredIndex(row: IndexRow): StoredIndex {
  return {
    name: row.name,
    wrappedDataKey: row.wrapped_data_key,
    sealedConfig: row.sealed_config,
    sealedModel: row.sealed_model,
    modelVersion: row.model_version,
    changeSeq: Number(row.change_seq),
    keyVersion: row.key_version,
    sealedCommitment: row.sealed_commitment,
    commitmentSeq: Number(row.commitment_seq),
    segmentSet: row.segment_set,
    createdAt: row.created_at,
  };
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Error && (error as { code?: unknown }).code === '23505';
}

/** Adds `-c search_path=<schema>` to the connection's startup options, keeping any already there. */
function withSearchPath(connectionString: string, schema: string): string {
  const url = new URL(connectionString);
  const existing = url.searchParams.get('options');
  url.searchParams.set('options', `${existing ? `${existing} ` : ''}-c search_path=${schema}`);
  return url.toString();
}

/** ON CONFLICT DO UPDATE refuses to touch one row twice in a statement, so the last item per token wins here. */
function lastPerToken(items: StoredItem[]): StoredItem[] {
  const byToken = new Map<string, StoredItem>();
  for (const item of items) byToken.set(item.token.toString('hex'), item);
  return byToken.size === items.length ? items : [...byToken.values()];
}

const DEFAULT_MAX_STATEMENT_BYTES = 64 << 20;

function byteChunks(items: StoredItem[], maxBytes: number): StoredItem[][] {
  const chunks: StoredItem[][] = [];
  let current: StoredItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = item.token.length + item.sealed.length;
    if (current.length > 0 && bytes + size > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Upserts a batch in one statement and returns the rows written (0 when the index is missing).
 * The batch travels as two concatenated bytea parameters (sent in binary) plus the lengths, and
 * is cut apart on the server: several times faster than a bytea[] parameter, which pg sends as
 * hex text that the server then parses element by element.
 *
 * Counting the write on the index row locks it: a concurrent deleteIndex waits for this write (and
 * then removes its rows), or, if the delete came first, `target` is empty so nothing is written;
 * writers of one index take their change numbers in commit order. The log row reuses the batch's
 * token parameters.
 */
async function upsertChunk(db: pg.Pool | pg.PoolClient, index: string, items: StoredItem[], origin: string, commitment?: CommitmentUpdate): Promise<number> {
  if (items.length === 0) {
    const { rowCount } =
      commitment === undefined
        ? await db.query('SELECT 1 FROM indexes WHERE name = $1', [index])
        : await db.query(`UPDATE indexes SET ${SET_COMMITMENT} WHERE name = $1 AND commitment_seq = $3::bigint`, [index, commitment.sealed, commitment.expectedSeq]);
    return rowCount === 0 ? -1 : 0;
  }
  // With a commitment, the index row is updated only when its counter still is the expected one
  // (compare-and-set under the row lock): otherwise `target` is empty and nothing is written.
  const result = await db.query(
    `WITH target AS (
       UPDATE indexes SET change_seq = change_seq + 1,
         sealed_commitment = coalesce($7::bytea, sealed_commitment),
         commitment_seq = commitment_seq + (CASE WHEN $7::bytea IS NULL THEN 0 ELSE 1 END)
       WHERE name = $1 AND ($8::bigint IS NULL OR commitment_seq = $8::bigint) RETURNING id, change_seq),
     logged AS (
       INSERT INTO index_changes (index_id, seq, origin, tokens, token_lengths)
       SELECT id, change_seq, $6, $2, $4 FROM target
     ),
     batch AS (
       SELECT token_length, sealed_length,
              (sum(token_length) OVER w - token_length)::int AS token_offset,
              (sum(sealed_length) OVER w - sealed_length)::int AS sealed_offset
       FROM unnest($4::int[], $5::int[]) WITH ORDINALITY AS b (token_length, sealed_length, n)
       WINDOW w AS (ORDER BY n)
     )
     INSERT INTO items (index_id, token, sealed)
     SELECT target.id,
            substring($2::bytea FROM token_offset + 1 FOR token_length),
            substring($3::bytea FROM sealed_offset + 1 FOR sealed_length)
     FROM target, batch
     ON CONFLICT (index_id, token) DO UPDATE SET sealed = EXCLUDED.sealed`,
    [
      index,
      Buffer.concat(items.map((item) => item.token)),
      Buffer.concat(items.map((item) => item.sealed)),
      items.map((item) => item.token.length),
      items.map((item) => item.sealed.length),
      origin,
      commitment?.sealed ?? null,
      commitment?.expectedSeq ?? null,
    ],
  );
  return result.rowCount ?? 0;
}

/** Replaces the commitment ($2) and counts it; the caller's WHERE holds the compare. */
const SET_COMMITMENT = 'sealed_commitment = $2, commitment_seq = commitment_seq + 1';

/**
 * The commitment and the seal tags of `tokens`, in one statement (one snapshot); `lock` takes the
 * index row's lock for the rest of the transaction (FOR NO KEY UPDATE: the lock the write that follows takes anyway, which foreign-key checks of other tables do not conflict with).
 */
async function readBase(db: pg.Pool | pg.PoolClient, index: string, tokens: Buffer[], lock: boolean): Promise<CommitmentBase | null> {
  const { rows } = await db.query<{ sealed_commitment: Buffer | null; commitment_seq: string; token: Buffer | null; tag: Buffer | null }>(
    `SELECT i.sealed_commitment, i.commitment_seq, it.token, it.tag
     FROM indexes i LEFT JOIN items it ON it.index_id = i.id AND it.token = ANY($2::bytea[])
     WHERE i.name = $1${lock ? ' FOR NO KEY UPDATE OF i' : ''}`,
    [index, tokens],
  );
  if (rows.length === 0) return null;
  const byToken = new Map<string, Buffer>();
  for (const row of rows) if (row.token !== null && row.tag !== null) byToken.set(row.token.toString('latin1'), row.tag);
  return { seq: Number(rows[0].commitment_seq), sealed: rows[0].sealed_commitment, tags: tokens.map((token) => byToken.get(token.toString('latin1')) ?? null) };
}

/** Locks the index row, reads the commitment and computes the update from it (see CommitmentRule). */
async function lockedUpdate(client: pg.PoolClient, index: string, tokens: Buffer[], rule: CommitmentRule): Promise<CommitmentUpdate> {
  const base = await readBase(client, index, tokens, true);
  if (base === null) throw new StoreIndexNotFoundError(index);
  return rule(base);
}

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly replication: PostgresReplication;
  readonly #pool: pg.Pool;
  readonly #maxStatementBytes: number;

  private constructor(pool: pg.Pool, maxStatementBytes: number) {
    this.#pool = pool;
    this.#maxStatementBytes = maxStatementBytes;
    this.replication = new PostgresReplication(pool, randomUUID());
  }

  /** Connects, creates the schema if asked, and applies pending migrations under an advisory lock. */
  static async open(connectionString: string, options: PostgresStoreOptions = {}): Promise<PostgresStore> {
    const { schema } = options;
    if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
      throw new RangeError(`schema must match ${SCHEMA_NAME} (lower-case identifier), got "${schema}"`);
    }
    const pool = new pg.Pool({
      connectionString: schema === undefined ? connectionString : withSearchPath(connectionString, schema),
      max: options.maxConnections ?? 10,
      ...poolTimeoutOptions({ ...DEFAULT_POSTGRES_TIMEOUTS, ...options.timeouts }),
    });
    // A client losing its connection emits 'error': an idle one on the pool, a checked-out one on
    // itself (the pool removes its own listener while a client is lent out, e.g. between a scan's
    // pages). Unheard, either is an uncaught exception that ends the process; the query in flight,
    // or the next one, rejects with the cause anyway, and that is how callers learn of it.
    pool.on('error', () => {});
    pool.on('connect', (client) => client.on('error', () => {}));
    discardIdleConnectionsOnLoss(pool);
    try {
      await migrate(pool, schema);
      return new PostgresStore(pool, options.maxStatementBytes ?? DEFAULT_MAX_STATEMENT_BYTES);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  async createIndex(index: { name: string; wrappedDataKey: Buffer; sealedConfig: Buffer }): Promise<StoredIndex> {
    try {
      const { rows } = await this.#pool.query<IndexRow>(
        `INSERT INTO indexes (name, wrapped_data_key, sealed_config) VALUES ($1, $2, $3) RETURNING ${INDEX_COLUMNS}`,
        [index.name, index.wrappedDataKey, index.sealedConfig],
      );
      return toStoredIndex(rows[0]);
    } catch (error) {
      if (isUniqueViolation(error)) throw new StoreConflictError(index.name);
      throw error;
    }
  }

  async getIndex(name: string): Promise<StoredIndex | null> {
    const { rows } = await this.#pool.query<IndexRow>(`SELECT ${INDEX_COLUMNS} FROM indexes WHERE name = $1`, [name]);
    return rows.length === 0 ? null : toStoredIndex(rows[0]);
  }

  async listIndexNames(): Promise<string[]> {
    // COLLATE "C": code-point order, the same as SQLite's BINARY, whatever the database locale.
    const { rows } = await this.#pool.query<{ name: string }>('SELECT name FROM indexes ORDER BY name COLLATE "C"');
    return rows.map((row) => row.name);
  }

  async deleteIndex(name: string): Promise<boolean> {
    return this.#transaction(async (client) => {
      const { rows } = await client.query<{ id: string }>('DELETE FROM indexes WHERE name = $1 RETURNING id', [name]);
      if (rows.length === 0) return false;
      await client.query('DELETE FROM items WHERE index_id = $1', [rows[0].id]);
      await client.query('DELETE FROM index_changes WHERE index_id = $1', [rows[0].id]);
      await client.query('DELETE FROM training_runs WHERE index_id = $1', [rows[0].id]);
      // A run of the deleted index elsewhere finds its lease gone and stops.
      await client.query('DELETE FROM training_leases WHERE index_name = $1', [name]);
      return true;
    });
  }

  async putItems(index: string, items: StoredItem[], commitment?: CommitmentUpdate | CommitmentRule): Promise<void> {
    const unique = lastPerToken(items);
    const chunks = byteChunks(unique, this.#maxStatementBytes);
    if (chunks.length <= 1 && typeof commitment !== 'function') {
      // One statement is one transaction: no BEGIN/COMMIT round trips for the common case.
      if ((await upsertChunk(this.#pool, index, unique, this.replication.origin, commitment)) !== unique.length) await this.#refused(this.#pool, index, commitment);
      return;
    }
    await this.#transaction(async (client) => {
      const update = typeof commitment === 'function' ? await lockedUpdate(client, index, unique.map((item) => item.token), commitment) : commitment;
      // The first chunk compares and sets the commitment; the rest follow in the same transaction.
      for (const [i, chunk] of (chunks.length === 0 ? [[]] : chunks).entries()) {
        if ((await upsertChunk(client, index, chunk, this.replication.origin, i === 0 ? update : undefined)) !== chunk.length) {
          await this.#refused(client, index, i === 0 ? update : undefined);
        }
      }
    });
  }

  async putItemsOnce(index: string, items: StoredItem[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome> {
    const unique = lastPerToken(items);
    const chunks = byteChunks(unique, this.#maxStatementBytes);
    return this.#transaction(async (client) => {
      const earlier = await claimIdempotencyKey(client, index, claim);
      if (earlier !== null) return earlier;
      const update = typeof commitment === 'function' ? await lockedUpdate(client, index, unique.map((item) => item.token), commitment) : commitment;
      for (const [i, chunk] of (chunks.length === 0 ? [[]] : chunks).entries()) {
        if ((await upsertChunk(client, index, chunk, this.replication.origin, i === 0 ? update : undefined)) !== chunk.length) {
          await this.#refused(client, index, i === 0 ? update : undefined);
        }
      }
      await completeIdempotencyKey(client, index, claim, items.length);
      return { kind: 'done', count: items.length };
    });
  }

  async deleteItemsOnce(index: string, tokens: Buffer[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome> {
    return this.#transaction(async (client) => {
      const earlier = await claimIdempotencyKey(client, index, claim);
      if (earlier !== null) return earlier;
      const update = typeof commitment === 'function' ? await lockedUpdate(client, index, tokens, commitment) : commitment;
      const deleted = await this.#deleteItems(client, index, tokens, update);
      await completeIdempotencyKey(client, index, claim, deleted);
      return { kind: 'done', count: deleted };
    });
  }

  async pruneIdempotencyRecords(olderThanMs: number): Promise<number> {
    return pruneIdempotencyRecords(this.#pool, olderThanMs);
  }

  /** Why a write found no index row to update: the commitment moved on, or the index is gone. Throws. */
  async #refused(db: pg.Pool | pg.PoolClient, index: string, commitment: CommitmentUpdate | undefined): Promise<never> {
    const { rowCount } = await db.query('SELECT 1 FROM indexes WHERE name = $1', [index]);
    if (rowCount !== 0 && commitment !== undefined) throw new StoreCommitmentConflictError(index);
    throw new StoreIndexNotFoundError(index);
  }

  async deleteItems(index: string, tokens: Buffer[], commitment?: CommitmentUpdate | CommitmentRule): Promise<number> {
    if (typeof commitment === 'function') {
      return this.#transaction(async (client) => this.#deleteItems(client, index, tokens, await lockedUpdate(client, index, tokens, commitment)));
    }
    return this.#deleteItems(this.#pool, index, tokens, commitment);
  }

  async #deleteItems(db: pg.Pool | pg.PoolClient, index: string, tokens: Buffer[], commitment: CommitmentUpdate | undefined): Promise<number> {
    if (tokens.length === 0) {
      if (commitment !== undefined && (await upsertChunk(db, index, [], this.replication.origin, commitment)) < 0) {
        await this.#refused(db, index, commitment).catch((error: unknown) => {
          if (error instanceof StoreCommitmentConflictError) throw error;
        });
      }
      return 0;
    }
    // The index row is locked first, as upserts do, so writers never wait on each other in
    // opposite orders. A delete that finds nothing still takes a change number (with no tokens):
    // change numbers stay gapless, which is how replicas notice a pruned log. With a commitment,
    // the row is updated (and anything deleted) only if its counter still is the expected one.
    const { rows } = await db.query<{ n: number; t: number }>(
      `WITH target AS (
         UPDATE indexes SET change_seq = change_seq + 1,
           sealed_commitment = coalesce($4::bytea, sealed_commitment),
           commitment_seq = commitment_seq + (CASE WHEN $4::bytea IS NULL THEN 0 ELSE 1 END)
         WHERE name = $1 AND ($5::bigint IS NULL OR commitment_seq = $5::bigint) RETURNING id, change_seq),
       gone AS (DELETE FROM items USING target WHERE items.index_id = target.id AND items.token = ANY($2::bytea[]) RETURNING items.token),
       logged AS (
         INSERT INTO index_changes (index_id, seq, origin, tokens, token_lengths)
         SELECT target.id, target.change_seq, $3, touched.tokens, touched.lengths
         FROM target, (
           SELECT coalesce(string_agg(token, ''::bytea ORDER BY token), ''::bytea) AS tokens,
                  coalesce(array_agg(length(token) ORDER BY token), '{}'::int[]) AS lengths
           FROM gone
         ) AS touched
       )
       SELECT count(*)::int AS n, (SELECT count(*) FROM target)::int AS t FROM gone`,
      [index, tokens, this.replication.origin, commitment?.sealed ?? null, commitment?.expectedSeq ?? null],
    );
    if (rows[0].t === 0 && commitment !== undefined) {
      // A missing index deletes nothing (0, as without a commitment); a moved commitment is refused.
      await this.#refused(db, index, commitment).catch((error: unknown) => {
        if (error instanceof StoreCommitmentConflictError) throw error;
      });
    }
    return rows[0].n;
  }

  async readCommitment(index: string, tokens: Buffer[]): Promise<CommitmentBase | null> {
    return readBase(this.#pool, index, tokens, false);
  }

  async establishCommitment(index: string, commitment: CommitmentUpdate, sealedConfig: Buffer): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `UPDATE indexes SET ${SET_COMMITMENT}, sealed_config = $4 WHERE name = $1 AND commitment_seq = $3::bigint AND sealed_commitment IS NULL`,
      [index, commitment.sealed, commitment.expectedSeq, sealedConfig],
    );
    return (rowCount ?? 0) > 0;
  }

  async getItems(index: string, tokens: Buffer[]): Promise<StoredItem[]> {
    if (tokens.length === 0) return [];
    const { rows } = await this.#pool.query<StoredItem>(
      `SELECT items.token, items.sealed FROM items JOIN indexes ON items.index_id = indexes.id
       WHERE indexes.name = $1 AND items.token = ANY($2::bytea[])`,
      [index, tokens],
    );
    const byToken = new Map(rows.map((row) => [row.token.toString('hex'), row.sealed]));
    const found: StoredItem[] = [];
    for (const token of tokens) {
      const sealed = byToken.get(token.toString('hex'));
      if (sealed !== undefined) found.push({ token, sealed });
    }
    return found;
  }

  async *scanItems(index: string, pageSize = DEFAULT_SCAN_PAGE_SIZE): AsyncIterable<StoredItem[]> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
    // A cursor inside one read-only transaction: one consistent snapshot, read in pages, without
    // re-seeking an index for every page. The client is held until the scan ends or is abandoned.
    const client = await this.#pool.connect();
    let failed = false;
    let lost = false;
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await client.query(
        `DECLARE scan NO SCROLL CURSOR FOR
         SELECT items.token, items.sealed FROM items JOIN indexes ON items.index_id = indexes.id
         WHERE indexes.name = $1`,
        [index],
      );
      for (;;) {
        const { rows } = await client.query<StoredItem>(`FETCH ${pageSize} FROM scan`);
        if (rows.length === 0) break;
        yield rows.map((row) => ({ token: row.token, sealed: row.sealed }));
        if (rows.length < pageSize) break;
      }
    } catch (error) {
      failed = true;
      lost = isLostConnection(error);
      throw error;
    } finally {
      try {
        // A connection whose reply never came is dropped, not asked to roll back (another timeout).
        if (lost) throw new Error('connection lost during a scan');
        await client.query('ROLLBACK');
        client.release();
      } catch (error) {
        // A connection in an unknown state must not go back to the pool.
        client.release(error instanceof Error ? error : true);
        if (!failed) throw error;
      }
    }
  }

  async countItems(index: string): Promise<number> {
    const { rows } = await this.#pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM items JOIN indexes ON items.index_id = indexes.id WHERE indexes.name = $1',
      [index],
    );
    return Number(rows[0].n);
  }

  async readItemTags(index: string): Promise<StoredItemTags | null> {
    // One statement, one snapshot; the two aggregates read the same rows in the same order, and
    // two byte strings cross the wire instead of a row per item. The tag column (migration 9) is
    // in the heap row, so the records themselves (in TOAST) are not read.
    const { rows } = await this.#pool.query<{ commitment_seq: string; n: string; tokens: Buffer | null; tags: Buffer | null }>(
      `SELECT i.commitment_seq, count(it.token) AS n, string_agg(it.token, ''::bytea) AS tokens,
              string_agg(it.tag, ''::bytea) AS tags
       FROM indexes i LEFT JOIN items it ON it.index_id = i.id WHERE i.name = $1 GROUP BY i.id`,
      [index],
    );
    if (rows.length === 0) return null;
    const row = rows[0];
    return { commitmentSeq: Number(row.commitment_seq), count: Number(row.n), tokens: row.tokens ?? Buffer.alloc(0), tags: row.tags ?? Buffer.alloc(0) };
  }

  async replaceSegments(index: string, setId: Buffer, segments: Buffer[]): Promise<void> {
    await this.#transaction(async (client) => {
      const { rows } = await client.query<{ id: string }>('SELECT id FROM indexes WHERE name = $1 FOR NO KEY UPDATE', [index]);
      if (rows.length === 0) throw new StoreIndexNotFoundError(index);
      const id = rows[0].id;
      await client.query('DELETE FROM index_segments WHERE index_id = $1', [id]);
      for (let seq = 0; seq < segments.length; seq++) {
        await client.query('INSERT INTO index_segments (index_id, set_id, seq, sealed) VALUES ($1, $2, $3, $4)', [id, setId, seq, segments[seq]]);
      }
      await client.query('UPDATE indexes SET segment_set = $1 WHERE id = $2', [setId, id]);
    });
  }

  async readSegments(index: string, setId: Buffer, from: number, count: number): Promise<Buffer[]> {
    const { rows } = await this.#pool.query<{ sealed: Buffer }>(
      `SELECT s.sealed FROM index_segments s JOIN indexes i ON s.index_id = i.id
       WHERE i.name = $1 AND s.set_id = $2 AND s.seq >= $3 ORDER BY s.seq LIMIT $4`,
      [index, setId, from, count],
    );
    return rows.map((row) => row.sealed);
  }

  async replaceWrappedDataKey(index: string, expected: Buffer, replacement: Buffer): Promise<number | null> {
    const { rows } = await this.#pool.query<{ key_version: number }>(
      'UPDATE indexes SET wrapped_data_key = $1, key_version = key_version + 1 WHERE name = $2 AND wrapped_data_key = $3 RETURNING key_version',
      [replacement, index, expected],
    );
    return rows[0]?.key_version ?? null;
  }

  async putTrainingRun(index: string, token: Buffer, sealed: Buffer): Promise<void> {
    const { rowCount } = await this.#pool.query(
      'INSERT INTO training_runs (index_id, token, sealed) SELECT id, $1, $2 FROM indexes WHERE name = $3 ' +
        'ON CONFLICT (index_id, token) DO UPDATE SET sealed = excluded.sealed',
      [token, sealed, index],
    );
    if (rowCount === 0) throw new StoreIndexNotFoundError(index);
  }

  async listTrainingRuns(index: string, limit: number, before?: number): Promise<StoredTrainingRun[]> {
    const { rows } = await this.#pool.query<{ seq: string; token: Buffer; sealed: Buffer }>(
      'SELECT r.seq, r.token, r.sealed FROM training_runs r JOIN indexes i ON r.index_id = i.id WHERE i.name = $1 AND r.seq < $2 ORDER BY r.seq DESC LIMIT $3',
      [index, before ?? Number.MAX_SAFE_INTEGER, limit],
    );
    return rows.map((row) => ({ seq: Number(row.seq), token: row.token, sealed: row.sealed }));
  }

  async getTrainingRun(index: string, token: Buffer): Promise<StoredTrainingRun | null> {
    const { rows } = await this.#pool.query<{ seq: string; token: Buffer; sealed: Buffer }>(
      'SELECT r.seq, r.token, r.sealed FROM training_runs r JOIN indexes i ON r.index_id = i.id WHERE i.name = $1 AND r.token = $2',
      [index, token],
    );
    return rows.length === 0 ? null : { seq: Number(rows[0].seq), token: rows[0].token, sealed: rows[0].sealed };
  }

  async saveModel(index: string, sealedModel: Buffer, fence?: ModelFence): Promise<number> {
    if (fence === undefined) {
      const { rows } = await this.#pool.query<{ model_version: number }>(
        'UPDATE indexes SET sealed_model = $1, model_version = model_version + 1 WHERE name = $2 RETURNING model_version',
        [sealedModel, index],
      );
      if (rows.length === 0) throw new StoreIndexNotFoundError(index);
      return rows[0].model_version;
    }
    // The fence and the write in one statement. FOR SHARE holds the lease row until the write
    // commits: a sweep reaping it (FOR UPDATE SKIP LOCKED) passes it by, and one that locked it
    // first makes this statement wait and then find it gone. So the model is written only while
    // the lease is this run's, and no other run can claim it before the write is done.
    const { rows } = await this.#pool.query<{ model_version: number }>(
      `WITH lease AS (
         SELECT run_id FROM training_leases WHERE index_name = $2 AND run_id = $3 AND expires_at > now() FOR SHARE
       )
       UPDATE indexes SET sealed_model = $1, model_version = model_version + 1
       WHERE name = $2 AND EXISTS (SELECT 1 FROM lease) RETURNING model_version`,
      [sealedModel, index, fence.runId],
    );
    if (rows.length === 1) return rows[0].model_version;
    const exists = await this.#pool.query('SELECT 1 FROM indexes WHERE name = $1', [index]);
    if (exists.rowCount === 0) throw new StoreIndexNotFoundError(index);
    throw new ModelFencedError(index, fence.runId);
  }

  async createGrant(grant: Omit<StoredGrant, 'lastUsedAt'>): Promise<void> {
    const { rowCount } = await this.#pool.query(
      `INSERT INTO index_grants (index_id, id, permissions, expires_at, created_at, verifier, wrapped_data_key, sealed_label)
       SELECT id, $2, $3, $4, $5, $6, $7, $8 FROM indexes WHERE name = $1`,
      [grant.index, grant.id, grant.permissions, grant.expiresAt, grant.createdAt, grant.verifier, grant.wrappedDataKey, grant.sealedLabel],
    );
    if (rowCount === 0) throw new StoreIndexNotFoundError(grant.index);
  }

  async getGrant(index: string, id: string): Promise<StoredGrant | null> {
    const { rows } = await this.#pool.query<GrantRow>(
      `SELECT ${GRANT_COLUMNS} FROM index_grants g JOIN indexes i ON g.index_id = i.id WHERE i.name = $1 AND g.id = $2`,
      [index, id],
    );
    return rows.length === 0 ? null : toStoredGrant(index, rows[0]);
  }

  async listGrants(index: string): Promise<StoredGrant[]> {
    const { rows } = await this.#pool.query<GrantRow>(
      `SELECT ${GRANT_COLUMNS} FROM index_grants g JOIN indexes i ON g.index_id = i.id WHERE i.name = $1 ORDER BY g.created_at, g.id`,
      [index],
    );
    return rows.map((row) => toStoredGrant(index, row));
  }

  async deleteGrant(index: string, id: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      'DELETE FROM index_grants g USING indexes i WHERE g.index_id = i.id AND i.name = $1 AND g.id = $2',
      [index, id],
    );
    return (rowCount ?? 0) > 0;
  }

  async touchGrant(index: string, id: string, at: Date): Promise<void> {
    await this.#pool.query('UPDATE index_grants g SET last_used_at = $3 FROM indexes i WHERE g.index_id = i.id AND i.name = $1 AND g.id = $2', [
      index,
      id,
      at,
    ]);
  }

  async close(): Promise<void> {
    if (!this.#pool.ended) await this.#pool.end();
  }

  async #transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.#pool, work);
  }
}

async function migrate(pool: pg.Pool, schema: string | undefined): Promise<void> {
  await inTransaction(pool, async (client) => {
    // Replicas starting together queue on this lock; the loser then sees the winner's versions.
    // The lock is per schema, so separate schemas (parallel test files) do not wait on each other.
    await client.query(
      "SELECT pg_advisory_xact_lock(hashtext('cipherdex.migrations.' || coalesce($1, current_schema(), '')))",
      [schema ?? null],
    );
    if (schema !== undefined) await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const current = await client.query<{ schema: string | null }>('SELECT current_schema() AS schema');
    if (current.rows[0].schema === null) {
      throw new Error('The PostgreSQL connection has no usable schema in its search_path; pass a schema or fix search_path.');
    }
    await client.query(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    for (const migration of pendingMigrations(POSTGRES_MIGRATIONS, new Set(rows.map((r) => r.version)))) {
      await client.query(migration.sql);
      await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [
        migration.version,
        migration.description,
      ]);
    }
  });
}
