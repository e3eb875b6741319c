import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, afterEach } from 'vitest';
import { openStore, SQLITE_FILE_NAME } from '../../src/storage/open-store.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { storeContract, type StoreLocation } from './store-contract.js';

const directories: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-sqlite-'));
  directories.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

storeContract('sqlite', async (): Promise<StoreLocation> => {
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-sqlite-'));
  return {
    open: () => openStore({ dbType: 'sqlite', dataDir: dir, connectionString: null }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

describe('SqliteStore specifics', () => {
  it('keeps its data in <dataDir>/cipherdex.db, in WAL mode, creating the directory', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const store = await openStore({ dbType: 'sqlite', dataDir, connectionString: null });
    await store.close();
    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
      expect(versions).toEqual([{ version: 1 }]);
    } finally {
      db.close();
    }
  });

  it('refuses a database migrated by a newer Cipherdex', async () => {
    const file = join(tempDir(), SQLITE_FILE_NAME);
    await (await SqliteStore.open(file)).close();
    const db = new Database(file);
    db.prepare("INSERT INTO schema_migrations (version, description, applied_at) VALUES (999, 'from the future', 0)").run();
    db.close();
    await expect(SqliteStore.open(file)).rejects.toThrow(/999.*upgrade Cipherdex/);
  });

  it('lets two connections share one file (a second process, a CLI)', async () => {
    const file = join(tempDir(), SQLITE_FILE_NAME);
    const a = await SqliteStore.open(file);
    const b = await SqliteStore.open(file);
    try {
      await a.createIndex({ name: 'docs', wrappedDataKey: Buffer.from('k'), sealedConfig: Buffer.from('c') });
      await b.putItems('docs', [{ token: Buffer.alloc(32, 1), sealed: Buffer.from('s') }]);
      expect(await a.countItems('docs')).toBe(1);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('needs a connection string to open PostgreSQL', async () => {
    await expect(openStore({ dbType: 'postgres', dataDir: tempDir(), connectionString: null })).rejects.toThrow(/CONNECTION_STRING/);
  });
});
