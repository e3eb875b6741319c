import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it, afterEach } from 'vitest';
import { openStore, SQLITE_FILE_NAME } from '../../src/storage/open-store.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { crashBatch } from './fixtures/crash-batch.js';
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

describe('SqliteStore durability', () => {
  it('keeps every acknowledged batch when the writer is killed with SIGKILL mid-stream', async () => {
    const file = join(tempDir(), SQLITE_FILE_NAME);
    const batchSize = 500;
    const setup = await SqliteStore.open(file);
    await setup.createIndex({ name: 'docs', wrappedDataKey: Buffer.from('k'), sealedConfig: Buffer.from('c') });
    await setup.close();

    const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, file, String(batchSize)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    // A random moment: after some acknowledged batches, plus a random delay into the next ones.
    const killAfter = randomInt(3, 15);
    const acknowledged: number[] = [];
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      for await (const line of createInterface({ input: child.stdout })) {
        acknowledged.push(Number(line));
        if (acknowledged.length === killAfter) setTimeout(() => child.kill('SIGKILL'), randomInt(0, 20));
      }
    } finally {
      // Never leave a writer running if the loop above failed.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');
    expect(acknowledged.length).toBeGreaterThanOrEqual(killAfter);

    const store = await SqliteStore.open(file);
    try {
      for (const batch of acknowledged) {
        const expected = crashBatch(batch, batchSize);
        const found = await store.getItems('docs', expected.map((i) => i.token));
        expect(found.length, `batch ${batch}`).toBe(batchSize);
        found.forEach((item, i) => expect(item.sealed.equals(expected[i].sealed)).toBe(true));
      }
      // The batch in flight when the kill came is all there or not there at all.
      const inFlight = crashBatch(acknowledged.length, batchSize);
      const partial = (await store.getItems('docs', inFlight.map((i) => i.token))).length;
      expect([0, batchSize]).toContain(partial);
      expect(await store.countItems('docs')).toBe(acknowledged.length * batchSize + partial);
    } finally {
      await store.close();
    }
  });
});
