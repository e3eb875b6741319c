// PostgreSQL schema, as versioned migrations applied in order on open (inside the migration lock).

import type { Migration } from './migration.js';

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'indexes and items',
    // Items are keyed by (index_id, token); an index recreated under the same name gets a new
    // identity value, so it never inherits rows from its predecessor.
    sql: `
      CREATE TABLE indexes (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        wrapped_data_key BYTEA NOT NULL,
        sealed_config BYTEA NOT NULL,
        sealed_model BYTEA,
        model_version INTEGER NOT NULL DEFAULT 0,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE items (
        index_id BIGINT NOT NULL,
        token BYTEA NOT NULL,
        sealed BYTEA NOT NULL,
        PRIMARY KEY (index_id, token)
      );
    `,
  },
  {
    version: 2,
    description: 'change log and training leases for several replicas',
    // change_seq counts an index's writes; each write logs the tokens it touched under that number,
    // so replicas catch up in commit order (writers of one index serialize on its row). Leases are
    // keyed by index name: at most one run per name at a time, across replicas.
    sql: `
      ALTER TABLE indexes ADD COLUMN change_seq BIGINT NOT NULL DEFAULT 0;
      CREATE TABLE index_changes (
        index_id BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        origin TEXT NOT NULL,
        tokens BYTEA NOT NULL,
        token_lengths INTEGER[] NOT NULL,
        changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (index_id, seq)
      );
      CREATE INDEX index_changes_by_time ON index_changes (changed_at);
      CREATE TABLE training_leases (
        index_name TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        owner TEXT NOT NULL,
        run_trigger TEXT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
  {
    version: 3,
    description: 'key version: counts re-wraps of the data key (key rotation)',
    sql: 'ALTER TABLE indexes ADD COLUMN key_version INTEGER NOT NULL DEFAULT 0;',
  },
  {
    version: 4,
    description: 'training run history',
    // One sealed record per ended run, found by its token (an HMAC of the run id); seq orders the
    // history and pages it.
    sql: `
      CREATE TABLE training_runs (
        seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        index_id BIGINT NOT NULL,
        token BYTEA NOT NULL,
        sealed BYTEA NOT NULL,
        UNIQUE (index_id, token)
      );
    `,
  },
  {
    version: 5,
    description: 'index grants',
    // One row per grant: its token's verifier and the data key wrapped under the token's key (the
    // token itself is never stored); removed with its index.
    sql: `
      CREATE TABLE index_grants (
        index_id BIGINT NOT NULL REFERENCES indexes (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        permissions TEXT NOT NULL,
        expires_at TIMESTAMPTZ,
        created_at TIMESTAMPTZ NOT NULL,
        last_used_at TIMESTAMPTZ,
        verifier BYTEA NOT NULL,
        wrapped_data_key BYTEA NOT NULL,
        sealed_label BYTEA,
        PRIMARY KEY (index_id, id)
      );
    `,
  },
  {
    version: 6,
    description: 'idempotency records',
    // One row per idempotency key used on an index: keyed hashes of the key and of the request
    // (never either), and the count the write answered; written in the write's transaction and
    // swept after the retention window. Removed with the index.
    sql: `
      CREATE TABLE idempotency_records (
        index_id BIGINT NOT NULL REFERENCES indexes (id) ON DELETE CASCADE,
        key_hash BYTEA NOT NULL,
        request_hash BYTEA NOT NULL,
        result_count INTEGER,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (index_id, key_hash)
      );
      CREATE INDEX idempotency_records_by_time ON idempotency_records (created_at);
    `,
  },
  {
    version: 7,
    description: 'index commitment (rollback protection)',
    // The sealed commitment over the live item set and a plaintext copy of its counter, which each
    // write compares and sets under the index row's lock (replicas serialize on it). Existing
    // indexes start with none: their first open establishes it (docs/security.md, "Upgrading").
    sql: `
      ALTER TABLE indexes ADD COLUMN sealed_commitment BYTEA;
      ALTER TABLE indexes ADD COLUMN commitment_seq BIGINT NOT NULL DEFAULT 0;
    `,
  },
  {
    version: 8,
    description: 'sealed segment sets (fast open)',
    // The sealed snapshot of an open index's state in chunks of a few MiB (service/segments), under
    // a random set id that the index row names: a new set replaces the old one in one transaction.
    sql: `
      ALTER TABLE indexes ADD COLUMN segment_set BYTEA;
      CREATE TABLE index_segments (
        index_id BIGINT NOT NULL REFERENCES indexes (id) ON DELETE CASCADE,
        set_id BYTEA NOT NULL,
        seq INTEGER NOT NULL,
        sealed BYTEA NOT NULL,
        PRIMARY KEY (index_id, seq)
      );
    `,
  },
  {
    version: 9,
    description: 'seal tags readable without the records (fast open)',
    // Each record's GCM tag (its last 16 bytes) as a stored generated column: the open from a
    // segment set reads every item's (token, tag) from the narrow heap rows (a record of a few KiB
    // lives out of line in TOAST) instead of fetching a slice of every record, and commitment reads
    // take it from there too. PostgreSQL computes it on every insert and update, so it cannot drift
    // from the record and cannot be written directly; adding it rewrites the table once, filling it
    // for the rows already there (the table is locked meanwhile).
    sql: 'ALTER TABLE items ADD COLUMN tag BYTEA GENERATED ALWAYS AS (substring(sealed FROM octet_length(sealed) - 15)) STORED;',
  },
];
