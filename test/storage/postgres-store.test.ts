import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { openStore } from '../../src/storage/open-store.js';
import { POSTGRES_MIGRATIONS } from '../../src/storage/postgres-migrations.js';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import { StoreIndexNotFoundError, type StoredItem } from '../../src/storage/store.js';
import { createPostgresTestSchema, probePostgres } from '../support/services.js';
import { expectTagsOfRecords, storeContract, type StoreLocation } from './store-contract.js';

// Each test gets a schema of its own (search_path in the connection string), so test files and
// tests running in parallel never share tables.
const postgres = await probePostgres();

async function freshSchema(): Promise<StoreLocation & { connectionString: string; schema: string }> {
  const schema = await createPostgresTestSchema('store');
  return {
    schema: schema.schema,
    connectionString: schema.connectionString,
    open: () => openStore({ dbType: 'postgres', dataDir: './unused', connectionString: schema.connectionString }),
    dispose: schema.drop,
  };
}

describe.skipIf(!postgres.available)(`PostgresStore${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  storeContract('postgres', freshSchema);

  describe('PostgresStore specifics', () => {
    it('lets replicas that start at once migrate safely under the advisory lock', async () => {
      const location = await freshSchema();
      try {
        const stores = await Promise.all(Array.from({ length: 5 }, () => location.open()));
        await stores[0].createIndex({ name: 'docs', wrappedDataKey: randomBytes(8), sealedConfig: randomBytes(8) });
        for (const store of stores) expect(await store.listIndexNames()).toEqual(['docs']);
        await Promise.all(stores.map((s) => s.close()));
        const client = new pg.Client({ connectionString: location.connectionString });
        await client.connect();
        try {
          const { rows } = await client.query('SELECT version FROM schema_migrations ORDER BY version');
          expect(rows).toEqual(POSTGRES_MIGRATIONS.map((migration) => ({ version: migration.version })));
        } finally {
          await client.end();
        }
      } finally {
        await location.dispose();
      }
    });

    it('creates and uses the schema given as an option, leaving others alone', async () => {
      const schema = `test_opt_${randomBytes(5).toString('hex')}`;
      const store = await PostgresStore.open(postgres.url, { schema });
      const client = new pg.Client({ connectionString: postgres.url });
      await client.connect();
      try {
        await store.createIndex({ name: 'docs', wrappedDataKey: randomBytes(8), sealedConfig: randomBytes(8) });
        const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${schema}.indexes`);
        expect(rows).toEqual([{ n: 1 }]);
      } finally {
        await store.close();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      }
    });

    it('fills the tag column for the records of a database from before it (migration 9), and keeps it the record\'s', async () => {
      const location = await freshSchema();
      const client = new pg.Client({ connectionString: location.connectionString });
      await client.connect();
      try {
        // A schema as the previous version left it: migrations 1-8, an index and its records.
        await client.query('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
        for (const migration of POSTGRES_MIGRATIONS.filter((m) => m.version <= 8)) {
          await client.query(migration.sql);
          await client.query('INSERT INTO schema_migrations (version, description) VALUES ($1, $2)', [migration.version, migration.description]);
        }
        const { rows } = await client.query<{ id: string }>("INSERT INTO indexes (name, wrapped_data_key, sealed_config) VALUES ('docs', '\\x00', '\\x00') RETURNING id");
        const records = Array.from({ length: 200 }, (_, i) => ({ token: randomBytes(32), sealed: randomBytes(i % 2 === 0 ? 3200 : 600) }));
        for (const record of records) await client.query('INSERT INTO items (index_id, token, sealed) VALUES ($1, $2, $3)', [rows[0].id, record.token, record.sealed]);

        const store = await location.open();
        try {
          await expectTagsOfRecords(store, 'docs', records);
        } finally {
          await store.close();
        }
        // The column is the server's to compute: it cannot be set apart from the record.
        await expect(client.query("UPDATE items SET tag = '\\x00'")).rejects.toThrow(/can only be updated to DEFAULT/);
      } finally {
        await client.end();
        await location.dispose();
      }
    });

    it('refuses a schema name that is not a plain identifier', async () => {
      await expect(PostgresStore.open(postgres.url, { schema: 'x; DROP TABLE y' })).rejects.toThrow(RangeError);
    });

    it('refuses a database migrated by a newer Cipherdex', async () => {
      const location = await freshSchema();
      try {
        await (await location.open()).close();
        const client = new pg.Client({ connectionString: location.connectionString });
        await client.connect();
        await client.query("INSERT INTO schema_migrations (version, description) VALUES (999, 'from the future')");
        await client.end();
        await expect(location.open()).rejects.toThrow(/999.*upgrade Cipherdex/);
      } finally {
        await location.dispose();
      }
    });

    it('splits a batch over its byte budget into statements of one transaction, still all-or-nothing', async () => {
      const location = await freshSchema();
      const store = await PostgresStore.open(location.connectionString, { maxStatementBytes: 5000 });
      try {
        await store.createIndex({ name: 'docs', wrappedDataKey: randomBytes(8), sealedConfig: randomBytes(8) });
        const batch = Array.from({ length: 60 }, () => ({ token: randomBytes(32), sealed: randomBytes(600) }));
        await store.putItems('docs', batch);
        expect(await store.countItems('docs')).toBe(60);
        const found = await store.getItems('docs', batch.map((i) => i.token));
        expect(found.map((i) => i.sealed.toString('hex'))).toEqual(batch.map((i) => i.sealed.toString('hex')));

        // The broken item sits in a late chunk: the earlier chunks' statements must roll back.
        const more: StoredItem[] = Array.from({ length: 60 }, () => ({ token: randomBytes(32), sealed: randomBytes(600) }));
        more[55] = { token: randomBytes(32), sealed: null as unknown as Buffer };
        await expect(store.putItems('docs', more)).rejects.toThrow();
        expect(await store.countItems('docs')).toBe(60);
        expect(await store.getItems('docs', more.slice(0, 5).map((i) => i.token))).toEqual([]);
      } finally {
        await store.close();
        await location.dispose();
      }
    });

    it('leaves no orphaned items when a write races the deletion of its index', async () => {
      const location = await freshSchema();
      const store = await location.open();
      const client = new pg.Client({ connectionString: location.connectionString });
      await client.connect();
      try {
        for (let round = 0; round < 15; round++) {
          await store.createIndex({ name: 'docs', wrappedDataKey: randomBytes(8), sealedConfig: randomBytes(8) });
          const batch = Array.from({ length: 500 }, () => ({ token: randomBytes(32), sealed: randomBytes(100) }));
          const [write] = await Promise.allSettled([store.putItems('docs', batch), store.deleteIndex('docs')]);
          if (write.status === 'rejected') expect(write.reason).toBeInstanceOf(StoreIndexNotFoundError);
        }
        const { rows } = await client.query('SELECT count(*)::int AS n FROM items WHERE index_id NOT IN (SELECT id FROM indexes)');
        expect(rows).toEqual([{ n: 0 }]);
      } finally {
        await client.end();
        await store.close();
        await location.dispose();
      }
    });

    it('serves other queries while scans are abandoned on a small pool', async () => {
      const location = await freshSchema();
      const store = await PostgresStore.open(location.connectionString, { maxConnections: 2 });
      try {
        await store.createIndex({ name: 'docs', wrappedDataKey: randomBytes(8), sealedConfig: randomBytes(8) });
        await store.putItems('docs', Array.from({ length: 10 }, () => ({ token: randomBytes(32), sealed: randomBytes(8) })));
        for (let i = 0; i < 6; i++) {
          for await (const page of store.scanItems('docs', 3)) {
            expect(page).toHaveLength(3);
            break;
          }
        }
        expect(await store.countItems('docs')).toBe(10);
      } finally {
        await store.close();
        await location.dispose();
      }
    });
  });
});
