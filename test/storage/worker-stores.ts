// The server's SQLite store (SqliteWorkerStore) for the tests of the reads beside its writer
// thread: each opened in a fresh directory with one index, "docs"; the directories go after each test.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { SqliteWorkerStore } from '../../src/storage/sqlite-worker-store.js';
import type { StoredItem } from '../../src/storage/store.js';

/** `n` items of random tokens and sealed records of `bytes` bytes. */
export const storedItems = (n: number, bytes = 300): StoredItem[] => Array.from({ length: n }, () => ({ token: randomBytes(32), sealed: randomBytes(bytes) }));

/** Call inside a describe: `open` gives a store and its directory, `store` the store alone. */
export function workerStores(): { open(): Promise<{ store: SqliteWorkerStore; dir: string }>; store(): Promise<SqliteWorkerStore> } {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  const open = async (): Promise<{ store: SqliteWorkerStore; dir: string }> => {
    const dir = mkdtempSync(join(tmpdir(), 'cipherdex-worker-store-'));
    dirs.push(dir);
    const store = await SqliteWorkerStore.open(join(dir, 'cipherdex.db'));
    await store.createIndex({ name: 'docs', wrappedDataKey: randomBytes(60), sealedConfig: randomBytes(80) });
    return { store, dir };
  };
  return { open, store: async () => (await open()).store };
}
