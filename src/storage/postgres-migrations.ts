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
];
