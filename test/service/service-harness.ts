// Runs service suites against both stores (SQLite always, PostgreSQL when reachable; under CI=true
// an unreachable PostgreSQL fails) and gives tests raw access to what the store holds, to look for
// plaintext and to tamper with records the way someone with database access could.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { createIndexService } from '../../src/service/create-index-service.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import { SQLITE_FILE_NAME, openStore, type Store } from '../../src/storage/index.js';
import { createPostgresTestSchema, probePostgres } from '../support/services.js';

export type IndexColumn = 'wrapped_data_key' | 'sealed_config' | 'sealed_model' | 'sealed_commitment';

export interface ServiceStoreHarness {
  kind: Store['kind'];
  /** Service settings pointing at this store; auto-training is off unless a test turns it on. */
  config: Config;
  /** Environment for a child process that opens the same store. */
  env: Record<string, string>;
  service(overrides?: Partial<Config>, deps?: { store?: Store; sealWorkers?: number }): Promise<CipherdexIndexService>;
  openStore(): Promise<Store>;
  /** Everything the store holds at rest: the SQLite files (database, WAL, shared memory), or every PostgreSQL row. */
  rawBytes(): Promise<Buffer[]>;
  rawItems(index: string): Promise<{ token: Buffer; sealed: Buffer }[]>;
  setSealed(index: string, token: Buffer, sealed: Buffer): Promise<void>;
  /** Removes an item row, or puts one (back) in, as someone with database access could. */
  deleteRawItem(index: string, token: Buffer): Promise<void>;
  insertRawItem(index: string, token: Buffer, sealed: Buffer): Promise<void>;
  /** Sets the stored commitment and its counter column (null: none), as someone with database access could. */
  setCommitment(index: string, sealed: Buffer | null, seq: number): Promise<void>;
  rawCommitment(index: string): Promise<{ sealed: Buffer | null; seq: number }>;
  rawIndexColumn(index: string, column: IndexColumn): Promise<Buffer | null>;
  setIndexColumn(index: string, column: IndexColumn, value: Buffer): Promise<void>;
  /** The rows of the index's sealed segment sets, by number, and the set its row names. */
  rawSegments(index: string): Promise<{ segmentSet: Buffer | null; rows: Array<{ setId: Buffer; seq: number; sealed: Buffer }> }>;
  /** Replaces the segment rows and the set the index row names, as someone with database access could. */
  setRawSegments(index: string, segmentSet: Buffer | null, rows: Array<{ setId: Buffer; seq: number; sealed: Buffer }>): Promise<void>;
  /** Overwrites a text column of a stored grant, as someone with database access could. */
  setGrantColumn(grantId: string, column: 'permissions', value: string): Promise<void>;
  dispose(): Promise<void>;
}

export function serviceConfig(env: Record<string, string>, overrides: Partial<Config> = {}): Config {
  return { ...loadConfig({ AUTO_TRAIN_DISABLED: 'true', ...env }), ...overrides };
}

function harness(kind: Store['kind'], env: Record<string, string>, raw: Omit<ServiceStoreHarness, 'kind' | 'config' | 'env' | 'service' | 'openStore'>): ServiceStoreHarness {
  const config = serviceConfig(env);
  const services: CipherdexIndexService[] = [];
  return {
    kind,
    config,
    env,
    service: async (overrides = {}, deps = {}) => {
      // No sealing workers unless a test asks for them: starting one from TypeScript source costs
      // about half a second per service, and the tests of src/service/sealing cover them.
      const service = await createIndexService({ ...config, ...overrides }, { sealWorkers: 0, ...deps });
      services.push(service);
      return service;
    },
    openStore: () => openStore(config),
    ...raw,
    dispose: async () => {
      // close() is idempotent: tests may have closed some already.
      await Promise.all(services.map((service) => service.close()));
      await raw.dispose();
    },
  };
}

/** A fresh SQLite store in a temporary directory (for tests that run on SQLite only). */
export function freshSqlite(): ServiceStoreHarness {
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-service-'));
  const file = join(dir, SQLITE_FILE_NAME);
  const withDb = <T>(work: (db: Database.Database) => T): T => {
    const db = new Database(file);
    try {
      return work(db);
    } finally {
      db.close();
    }
  };
  const indexId = (db: Database.Database, index: string): number =>
    (db.prepare('SELECT id FROM indexes WHERE name = ?').get(index) as { id: number }).id;
  return harness('sqlite', { CIPHERDEX_DATA_DIR: dir }, {
    rawBytes: async () => readdirSync(dir).map((name) => readFileSync(join(dir, name))),
    rawItems: async (index) =>
      withDb((db) => db.prepare('SELECT token, sealed FROM items WHERE index_id = ? ORDER BY id').all(indexId(db, index)) as { token: Buffer; sealed: Buffer }[]),
    setSealed: async (index, token, sealed) => {
      withDb((db) => db.prepare('UPDATE items SET sealed = ? WHERE index_id = ? AND token = ?').run(sealed, indexId(db, index), token));
    },
    deleteRawItem: async (index, token) => {
      withDb((db) => db.prepare('DELETE FROM items WHERE index_id = ? AND token = ?').run(indexId(db, index), token));
    },
    insertRawItem: async (index, token, sealed) => {
      withDb((db) => db.prepare('INSERT INTO items (index_id, token, sealed) VALUES (?, ?, ?)').run(indexId(db, index), token, sealed));
    },
    setCommitment: async (index, sealed, seq) => {
      withDb((db) => db.prepare('UPDATE indexes SET sealed_commitment = ?, commitment_seq = ? WHERE name = ?').run(sealed, seq, index));
    },
    rawCommitment: async (index) =>
      withDb((db) => {
        const row = db.prepare('SELECT sealed_commitment AS sealed, commitment_seq AS seq FROM indexes WHERE name = ?').get(index) as { sealed: Buffer | null; seq: number };
        return { sealed: row.sealed, seq: row.seq };
      }),
    rawIndexColumn: async (index, column) =>
      withDb((db) => (db.prepare(`SELECT ${column} AS value FROM indexes WHERE name = ?`).get(index) as { value: Buffer | null }).value),
    setIndexColumn: async (index, column, value) => {
      withDb((db) => db.prepare(`UPDATE indexes SET ${column} = ? WHERE name = ?`).run(value, index));
    },
    setGrantColumn: async (grantId, column, value) => {
      withDb((db) => db.prepare(`UPDATE index_grants SET ${column} = ? WHERE id = ?`).run(value, grantId));
    },
    rawSegments: async (index) =>
      withDb((db) => {
        const id = indexId(db, index);
        const rows = db.prepare('SELECT set_id AS setId, seq, sealed FROM index_segments WHERE index_id = ? ORDER BY seq').all(id) as Array<{ setId: Buffer; seq: number; sealed: Buffer }>;
        const { segment_set: segmentSet } = db.prepare('SELECT segment_set FROM indexes WHERE id = ?').get(id) as { segment_set: Buffer | null };
        return { segmentSet, rows };
      }),
    setRawSegments: async (index, segmentSet, rows) => {
      withDb((db) =>
        db.transaction(() => {
          const id = indexId(db, index);
          db.prepare('DELETE FROM index_segments WHERE index_id = ?').run(id);
          for (const row of rows) db.prepare('INSERT INTO index_segments (index_id, set_id, seq, sealed) VALUES (?, ?, ?, ?)').run(id, row.setId, row.seq, row.sealed);
          db.prepare('UPDATE indexes SET segment_set = ? WHERE id = ?').run(segmentSet, id);
        })(),
      );
    },
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  });
}

async function freshPostgres(): Promise<ServiceStoreHarness> {
  const schema = await createPostgresTestSchema('service');
  const { query } = schema;
  const byName = 'SELECT id FROM indexes WHERE name = $1';
  return harness(
    'postgres',
    { CIPHERDEX_DB_TYPE: 'postgres', CIPHERDEX_CONNECTION_STRING: schema.connectionString, CIPHERDEX_DATA_DIR: join(tmpdir(), 'unused') },
    {
      rawBytes: async () => {
        // Every column of every row, as the database returns it (bytea as bytes, text as text).
        const indexes = await query<Record<string, unknown>>('SELECT * FROM indexes');
        const items = await query<Record<string, unknown>>('SELECT * FROM items');
        const grants = await query<Record<string, unknown>>('SELECT * FROM index_grants');
        const segments = await query<Record<string, unknown>>('SELECT * FROM index_segments');
        return [...indexes, ...items, ...grants, ...segments].flatMap((row) =>
          Object.values(row).map((value) => (Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8'))),
        );
      },
      rawItems: (index) => query<{ token: Buffer; sealed: Buffer }>(`SELECT token, sealed FROM items WHERE index_id = (${byName}) ORDER BY token`, [index]),
      setSealed: async (index, token, sealed) => {
        await query(`UPDATE items SET sealed = $1 WHERE index_id = (${byName.replace('$1', '$3')}) AND token = $2`, [sealed, token, index]);
      },
      deleteRawItem: async (index, token) => {
        await query(`DELETE FROM items WHERE index_id = (${byName}) AND token = $2`, [index, token]);
      },
      insertRawItem: async (index, token, sealed) => {
        await query(`INSERT INTO items (index_id, token, sealed) VALUES ((${byName}), $2, $3)`, [index, token, sealed]);
      },
      setCommitment: async (index, sealed, seq) => {
        await query('UPDATE indexes SET sealed_commitment = $1, commitment_seq = $2 WHERE name = $3', [sealed, seq, index]);
      },
      rawCommitment: async (index) => {
        const [row] = await query<{ sealed: Buffer | null; seq: string }>('SELECT sealed_commitment AS sealed, commitment_seq AS seq FROM indexes WHERE name = $1', [index]);
        return { sealed: row.sealed, seq: Number(row.seq) };
      },
      rawIndexColumn: async (index, column) => (await query<{ value: Buffer | null }>(`SELECT ${column} AS value FROM indexes WHERE name = $1`, [index]))[0].value,
      setIndexColumn: async (index, column, value) => {
        await query(`UPDATE indexes SET ${column} = $1 WHERE name = $2`, [value, index]);
      },
      setGrantColumn: async (grantId, column, value) => {
        await query(`UPDATE index_grants SET ${column} = $1 WHERE id = $2`, [value, grantId]);
      },
      rawSegments: async (index) => {
        const rows = await query<{ setId: Buffer; seq: number; sealed: Buffer }>(
          `SELECT set_id AS "setId", seq, sealed FROM index_segments WHERE index_id = (${byName}) ORDER BY seq`,
          [index],
        );
        const [row] = await query<{ segment_set: Buffer | null }>('SELECT segment_set FROM indexes WHERE name = $1', [index]);
        return { segmentSet: row.segment_set, rows };
      },
      setRawSegments: async (index, segmentSet, rows) => {
        await query(`DELETE FROM index_segments WHERE index_id = (${byName})`, [index]);
        for (const row of rows) {
          await query(`INSERT INTO index_segments (index_id, set_id, seq, sealed) VALUES ((${byName}), $2, $3, $4)`, [index, row.setId, row.seq, row.sealed]);
        }
        await query('UPDATE indexes SET segment_set = $1 WHERE name = $2', [segmentSet, index]);
      },
      dispose: schema.drop,
    },
  );
}

const postgres = await probePostgres();

/** Defines `suite` once per store; each test gets a fresh, empty store from `fresh()`. */
export function forEachStore(suite: (fresh: () => Promise<ServiceStoreHarness>) => void): void {
  describe('on SQLite', () => suite(async () => freshSqlite()));
  describe.skipIf(!postgres.available)(`on PostgreSQL${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`, () => suite(freshPostgres));
}

export function newKey(): string {
  return randomBytes(32).toString('base64');
}
