// SQLite schema, as versioned migrations applied in order on open.

import type { Migration } from './migration.js';

export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'indexes and items',
    // items is a rowid table: appends are cheap and a scan in rowid order reads pages
    // sequentially. The unique (index_id, token) index finds a record by token; the index on
    // index_id (which carries the rowid) drives the keyset scan. AUTOINCREMENT so an index
    // recreated under the same name never inherits a stale id.
    sql: `
      CREATE TABLE indexes (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL UNIQUE,
        wrapped_data_key BLOB NOT NULL,
        sealed_config BLOB NOT NULL,
        sealed_model BLOB,
        model_version INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        index_id INTEGER NOT NULL,
        token BLOB NOT NULL,
        sealed BLOB NOT NULL
      );
      CREATE UNIQUE INDEX items_by_token ON items (index_id, token);
      CREATE INDEX items_by_index ON items (index_id);
    `,
  },
  {
    version: 2,
    description: 'key version: counts re-wraps of the data key (key rotation)',
    sql: 'ALTER TABLE indexes ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0;',
  },
  {
    version: 3,
    description: 'training run history',
    // One sealed record per ended run, found by its token (an HMAC of the run id); the rowid
    // orders the history and pages it.
    sql: `
      CREATE TABLE training_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        index_id INTEGER NOT NULL,
        token BLOB NOT NULL,
        sealed BLOB NOT NULL
      );
      CREATE UNIQUE INDEX training_runs_by_token ON training_runs (index_id, token);
    `,
  },
  {
    version: 4,
    description: 'index grants',
    // One row per grant: its token's verifier and the data key wrapped under the token's key (the
    // token itself is never stored). Removed with the index (sqlite-store's deleteIndex).
    sql: `
      CREATE TABLE index_grants (
        index_id INTEGER NOT NULL,
        id TEXT NOT NULL,
        permissions TEXT NOT NULL,
        expires_at INTEGER,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        verifier BLOB NOT NULL,
        wrapped_data_key BLOB NOT NULL,
        sealed_label BLOB,
        PRIMARY KEY (index_id, id)
      );
    `,
  },
  {
    version: 5,
    description: 'idempotency records',
    // One row per idempotency key used on an index: keyed hashes of the key and of the request
    // (never either), and the count the write answered; written in the write's transaction and
    // swept after the retention window. Removed with the index (sqlite-store's deleteIndex).
    sql: `
      CREATE TABLE idempotency_records (
        index_id INTEGER NOT NULL,
        key_hash BLOB NOT NULL,
        request_hash BLOB NOT NULL,
        result_count INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (index_id, key_hash)
      ) WITHOUT ROWID;
      CREATE INDEX idempotency_records_by_time ON idempotency_records (created_at);
    `,
  },
  {
    version: 6,
    description: 'index commitment (rollback protection)',
    // The sealed commitment over the live item set and a plaintext copy of its counter, which a
    // write compares and sets. Existing indexes start with none: their first open establishes it
    // (docs/security.md, "Upgrading").
    sql: `
      ALTER TABLE indexes ADD COLUMN sealed_commitment BLOB;
      ALTER TABLE indexes ADD COLUMN commitment_seq INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 7,
    description: 'sealed segment sets (fast open)',
    // The sealed snapshot of an open index's state in chunks of a few MiB (service/segments), under
    // a random set id that the index row names: a new set replaces the old one in one transaction.
    // Removed with the index (sqlite-store's deleteIndex). A rowid table: its rows are megabytes,
    // which WITHOUT ROWID tables handle badly.
    sql: `
      ALTER TABLE indexes ADD COLUMN segment_set BLOB;
      CREATE TABLE index_segments (
        id INTEGER PRIMARY KEY,
        index_id INTEGER NOT NULL,
        set_id BLOB NOT NULL,
        seq INTEGER NOT NULL,
        sealed BLOB NOT NULL
      );
      CREATE UNIQUE INDEX index_segments_by_seq ON index_segments (index_id, seq);
    `,
  },
  {
    version: 8,
    description: 'seal tags readable without the records (fast open)',
    // Each record's GCM tag (its last 16 bytes) kept in an index on the expression: the open from a
    // segment set reads every item's (token, tag) from this index alone (a covering index scan of
    // about 60 bytes an item) instead of every multi-KiB record, and a commitment read finds a
    // token's tag there too. SQLite maintains it with every write, so it cannot drift from the
    // records; creating it fills it for the rows already there. Queries must spell the expression
    // exactly `substr(sealed, -16)` for the planner to use it.
    sql: 'CREATE INDEX items_tags ON items (index_id, token, substr(sealed, -16));',
  },
  {
    version: 9,
    description: 'items found by token through items_tags alone',
    // items_tags begins with (index_id, token), so it finds a record by token as the unique index
    // did. Keeping both put every write into two B-trees at random places: from 150,000 to 200,000
    // items, 37 us of the writer's CPU and 23 KiB written per item, against 22-31 us and 12 KiB
    // with one (`npm run bench -- writes`). A token stays unique because the store writes it by
    // UPDATE and then INSERT only when nothing was updated, inside the write transaction
    // (sqlite-store's putItems).
    sql: 'DROP INDEX items_by_token;',
  },
];
