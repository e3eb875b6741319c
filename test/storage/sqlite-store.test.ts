import { spawn } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { describe, expect, it, afterEach } from 'vitest';
import { openStore, SQLITE_FILE_NAME } from '../../src/storage/open-store.js';
import { SQLITE_MIGRATIONS } from '../../src/storage/sqlite-migrations.js';
import { ITEM_TAGS_SQL } from '../../src/storage/sqlite-item-tags.js';
import { SqliteStore } from '../../src/storage/sqlite-store.js';
import { StoreIndexNotFoundError } from '../../src/storage/store.js';
import { crashBatch } from './fixtures/crash-batch.js';
import { expectTagsOfRecords, storeContract, type StoreLocation } from './store-contract.js';

const directories: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-sqlite-'));
  directories.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of directories.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A database file as an earlier version left it: migrations up to `version`, an index 'docs' and `records` in it. */
function databaseFromBefore(version: number, records: readonly { token: Buffer; sealed: Buffer }[]): string {
  const file = join(tempDir(), SQLITE_FILE_NAME);
  const db = new Database(file);
  db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  for (const migration of SQLITE_MIGRATIONS.filter((m) => m.version <= version)) {
    db.exec(migration.sql);
    db.prepare('INSERT INTO schema_migrations (version, description, applied_at) VALUES (?, ?, 0)').run(migration.version, migration.description);
  }
  const indexId = db.prepare<[], { id: number }>("INSERT INTO indexes (name, wrapped_data_key, sealed_config, created_at) VALUES ('docs', x'00', x'00', 0) RETURNING id").get()!.id;
  const insert = db.prepare('INSERT INTO items (index_id, token, sealed) VALUES (?, ?, ?)');
  for (const record of records) insert.run(indexId, record.token, record.sealed);
  db.close();
  return file;
}

// openStore runs the store in its writer thread (SqliteWorkerStore); tests and tools may also
// open SqliteStore on their own thread. Both keep the whole contract.
storeContract('sqlite', async (): Promise<StoreLocation> => {
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-sqlite-'));
  return {
    open: () => openStore({ dbType: 'sqlite', dataDir: dir, connectionString: null }),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}, 'writer thread');

storeContract('sqlite', async (): Promise<StoreLocation> => {
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-sqlite-'));
  return {
    open: () => SqliteStore.open(join(dir, SQLITE_FILE_NAME)),
    dispose: async () => rmSync(dir, { recursive: true, force: true }),
  };
}, 'same thread');

describe('SqliteStore specifics', () => {
  it('keeps its data in <dataDir>/cipherdex.db, in WAL mode, creating the directory', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const store = await openStore({ dbType: 'sqlite', dataDir, connectionString: null });
    await store.close();
    const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      const versions = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
      expect(versions).toEqual(SQLITE_MIGRATIONS.map(({ version }) => ({ version })));
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

  it('commits writes called together as one group: all in call order, a failing one alone rolled back', async () => {
    const file = join(tempDir(), SQLITE_FILE_NAME);
    const store = await SqliteStore.open(file);
    try {
      await store.createIndex({ name: 'a', wrappedDataKey: Buffer.from('k'), sealedConfig: Buffer.from('c') });
      const token = Buffer.alloc(32, 7);
      // In one turn of the event loop: create b, write both, fail on a missing index, then rewrite
      // and delete items written earlier in the same group.
      const calls = [
        store.createIndex({ name: 'b', wrappedDataKey: Buffer.from('k'), sealedConfig: Buffer.from('c') }),
        store.putItems('a', [{ token, sealed: Buffer.from('first') }]),
        store.putItems('b', [{ token, sealed: Buffer.from('in b') }]),
        store.putItems('missing', [{ token, sealed: Buffer.from('never') }]),
        store.putItems('a', [{ token, sealed: Buffer.from('second') }, { token: Buffer.alloc(32, 8), sealed: Buffer.from('gone') }]),
        store.deleteItems('a', [Buffer.alloc(32, 8)]),
      ];
      const outcomes = await Promise.allSettled(calls);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((outcomes[3] as PromiseRejectedResult).reason).toBeInstanceOf(StoreIndexNotFoundError);
      expect((outcomes[5] as PromiseFulfilledResult<number>).value).toBe(1);
      expect((await store.getItems('a', [token]))[0].sealed.toString()).toBe('second');
      expect((await store.getItems('b', [token]))[0].sealed.toString()).toBe('in b');
      expect(await store.countItems('a')).toBe(1);
      expect(await store.listIndexNames()).toEqual(['a', 'b']);
    } finally {
      await store.close();
    }
  });

  it('reads the item tags from the items_tags index alone, never the records', async () => {
    const file = join(tempDir(), SQLITE_FILE_NAME);
    await (await SqliteStore.open(file)).close();
    const db = new Database(file, { readonly: true });
    try {
      const plan = db.prepare<[number], { detail: string }>(`EXPLAIN QUERY PLAN ${ITEM_TAGS_SQL}`).all(1).map((row) => row.detail);
      expect(plan).toEqual(['SEARCH items USING COVERING INDEX items_tags (index_id=?)']);
    } finally {
      db.close();
    }
  });

  it('fills the tag index for the records of a database from before it (migration 8)', async () => {
    const records = Array.from({ length: 300 }, (_, i) => ({ token: randomBytes(32), sealed: randomBytes(i % 2 === 0 ? 3200 : 600) }));
    const file = databaseFromBefore(7, records);

    const store = await SqliteStore.open(file);
    try {
      await expectTagsOfRecords(store, 'docs', records);
    } finally {
      await store.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      expect(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name = 'items_tags'").get()).toEqual({ n: 1 });
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      check.close();
    }
  });

  it('finds a record by token through items_tags, with no second index on the token (migration 9)', async () => {
    const file = join(tempDir(), SQLITE_FILE_NAME);
    await (await SqliteStore.open(file)).close();
    const db = new Database(file, { readonly: true });
    try {
      const indexes = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'items' ORDER BY name").all();
      expect(indexes.map((row) => row.name)).toEqual(['items_by_index', 'items_tags']);
      for (const sql of [
        'SELECT sealed FROM items WHERE index_id = ? AND token = ?',
        'UPDATE items SET sealed = ? WHERE index_id = ? AND token = ?',
        'DELETE FROM items WHERE index_id = ? AND token = ?',
      ]) {
        const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(sql.startsWith('UPDATE') ? [Buffer.alloc(1), 1, Buffer.alloc(32)] : [1, Buffer.alloc(32)])) as { detail: string }[];
        expect(plan.map((row) => row.detail), sql).toEqual(['SEARCH items USING INDEX items_tags (index_id=? AND token=?)']);
      }
    } finally {
      db.close();
    }
  });

  it('keeps one record per token: rewritten within a batch, across batches, and from a second connection', async () => {
    const file = join(tempDir(), SQLITE_FILE_NAME);
    const a = await SqliteStore.open(file);
    const b = await SqliteStore.open(file);
    try {
      await a.createIndex({ name: 'docs', wrappedDataKey: Buffer.from('k'), sealedConfig: Buffer.from('c') });
      await a.createIndex({ name: 'other', wrappedDataKey: Buffer.from('k'), sealedConfig: Buffer.from('c') });
      const tokens = Array.from({ length: 50 }, () => randomBytes(32));
      const version = (round: number, i: number) => Buffer.from(`round ${round} item ${i}`);
      // Every token twice in one batch: the later one is what stays.
      await a.putItems('docs', [...tokens.map((token, i) => ({ token, sealed: version(0, i) })), ...tokens.map((token, i) => ({ token, sealed: version(1, i) }))]);
      // The same tokens again from each connection, concurrently, and under another index.
      await Promise.all([
        a.putItems('docs', tokens.slice(0, 25).map((token, i) => ({ token, sealed: version(2, i) }))),
        b.putItems('docs', tokens.slice(25).map((token, i) => ({ token, sealed: version(2, i + 25) }))),
        b.putItems('other', tokens.map((token, i) => ({ token, sealed: version(9, i) }))),
      ]);
      await b.putItems('docs', tokens.slice(0, 10).map((token, i) => ({ token, sealed: version(3, i) })));
      expect(await a.countItems('docs')).toBe(50);
      expect(await a.countItems('other')).toBe(50);
      const found = await a.getItems('docs', tokens);
      expect(found.map((item) => item.sealed.toString())).toEqual(tokens.map((_, i) => version(i < 10 ? 3 : 2, i).toString()));
      const db = new Database(file, { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) AS n FROM (SELECT index_id, token FROM items GROUP BY index_id, token HAVING count(*) > 1)').get()).toEqual({ n: 0 });
      } finally {
        db.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('drops the token index of a database from before (migration 9), every record still found and rewritten in place', async () => {
    const records = Array.from({ length: 200 }, () => ({ token: randomBytes(32), sealed: randomBytes(600) }));
    const file = databaseFromBefore(8, records);

    const store = await SqliteStore.open(file);
    try {
      const found = await store.getItems('docs', records.map((record) => record.token));
      expect(found.every((item, i) => item.sealed.equals(records[i].sealed))).toBe(true);
      const rewritten = records.map((record, i) => (i < 20 ? { token: record.token, sealed: randomBytes(600) } : record));
      await store.putItems('docs', rewritten.slice(0, 20));
      expect(await store.countItems('docs')).toBe(200);
      await expectTagsOfRecords(store, 'docs', rewritten);
    } finally {
      await store.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      expect(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'index' AND name = 'items_by_token'").get()).toEqual({ n: 0 });
      expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      check.close();
    }
  });

  it('needs a connection string to open PostgreSQL', async () => {
    await expect(openStore({ dbType: 'postgres', dataDir: tempDir(), connectionString: null })).rejects.toThrow(/CONNECTION_STRING/);
  });
});

describe('SqliteStore durability', () => {
  it.each([
    ['on its own thread', 'same-thread'],
    ['through the writer thread', 'writer-thread'],
  ])('keeps every acknowledged batch when the writer is killed with SIGKILL mid-stream, %s', async (_, mode) => {
    const file = join(tempDir(), SQLITE_FILE_NAME);
    const batchSize = 500;
    const setup = await SqliteStore.open(file);
    await setup.createIndex({ name: 'docs', wrappedDataKey: Buffer.from('k'), sealedConfig: Buffer.from('c') });
    await setup.close();

    const writer = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', writer, file, String(batchSize), mode], {
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
      // Batches in flight when the kill came (up to two past the last acknowledged one, with the
      // writer thread's two writers) are each all there or not there at all.
      let unacknowledged = 0;
      for (let batch = 0; batch <= Math.max(...acknowledged) + 2; batch++) {
        if (acknowledged.includes(batch)) continue;
        const expected = crashBatch(batch, batchSize);
        const found = (await store.getItems('docs', expected.map((i) => i.token))).length;
        expect([0, batchSize], `batch ${batch}`).toContain(found);
        unacknowledged += found;
      }
      expect(await store.countItems('docs')).toBe(acknowledged.length * batchSize + unacknowledged);
    } finally {
      await store.close();
    }
  });
});
