// Item reads of the server's SQLite store go to a read-only connection beside the writer thread
// (what that saves searches under a write stream is a benchmark's to show, not a test's): they see
// every acknowledged write, and fail once the store is closed.
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { storedItems as items, workerStores } from './worker-stores.js';

describe('SqliteWorkerStore item reads', () => {
  const stores = workerStores();
  const open = stores.store;

  it('reads every acknowledged write, and nothing of an unknown index or token', async () => {
    const store = await open();
    try {
      const written = items(50, 700);
      await store.putItems('docs', written);
      const read = await store.getItems('docs', [...written.map((item) => item.token), randomBytes(32)]);
      expect(read).toEqual(written);
      await store.deleteItems('docs', [written[0].token]);
      expect(await store.getItems('docs', [written[0].token])).toEqual([]);
      expect(await store.getItems('nowhere', [written[1].token])).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('reads a large request in slices, in the order asked, leaving out absent tokens', async () => {
    const store = await open();
    try {
      const written = items(1300, 200);
      await store.putItems('docs', written);
      const asked = [...written].reverse().map((item) => item.token);
      asked.splice(600, 0, randomBytes(32));
      expect(await store.getItems('docs', asked)).toEqual([...written].reverse());
    } finally {
      await store.close();
    }
  });

  it('fails every read once the store is closed, also while it closes', async () => {
    const store = await open();
    const closing = store.close();
    await expect(store.getItems('docs', [randomBytes(32)])).rejects.toThrow(/closed/);
    await closing;
    await expect(store.getItems('docs', [randomBytes(32)])).rejects.toThrow(/closed/);
  });

  it('leaves no write-ahead log behind once closed: the writer, closing last, checkpoints it', async () => {
    const { store, dir } = await stores.open();
    await store.putItems('docs', items(200, 700));
    expect(await store.getItems('docs', [randomBytes(32)])).toEqual([]);
    await store.close();
    expect(readdirSync(dir).filter((name) => name.endsWith('-wal'))).toEqual([]);
  });
});
