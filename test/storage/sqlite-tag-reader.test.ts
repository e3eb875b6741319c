// The server's SQLite store lists item tags on a thread and read-only connection of their own
// (sqlite-tag-reader.ts): a listing sees every acknowledged write, describes one committed state
// (the count and the counter agree with the tags) even while the writer thread commits, and fails
// once the store is closed; a store closed without ever listing closes at once.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { storedItems as items, workerStores } from './worker-stores.js';

describe('SqliteWorkerStore tag listing', () => {
  const stores = workerStores();
  const open = stores.store;

  it('lists every acknowledged write, one committed state at a time while the writer commits', async () => {
    const store = await open();
    try {
      const batches = Array.from({ length: 8 }, () => items(500));
      let seq = 0;
      for (const batch of batches.slice(0, 2)) await store.putItems('docs', batch, { expectedSeq: seq++, sealed: randomBytes(60) });
      const listed = await store.readItemTags('docs');
      expect(listed!.count).toBe(1000);
      expect(listed!.commitmentSeq).toBe(2);
      // Listings asked for while further batches commit: each sees whole batches, as its counter says.
      const writes = (async () => {
        for (const batch of batches.slice(2)) await store.putItems('docs', batch, { expectedSeq: seq++, sealed: randomBytes(60) });
      })();
      const during = await Promise.all(Array.from({ length: 6 }, () => store.readItemTags('docs')));
      await writes;
      for (const tags of during) expect(tags!.count).toBe(tags!.commitmentSeq * 500);
      const after = (await store.readItemTags('docs'))!;
      expect(after.count).toBe(4000);
      const tokens = new Set<string>();
      for (let i = 0; i < after.count; i++) tokens.add(after.tokens.toString('hex', i * 32, (i + 1) * 32));
      expect(tokens).toEqual(new Set(batches.flat().map((item) => item.token.toString('hex'))));
      expect(await store.readItemTags('nowhere')).toBeNull();
    } finally {
      await store.close();
    }
    await expect(store.readItemTags('docs')).rejects.toThrow(/closed/);
  });

  it('closes at once when nothing was ever listed', async () => {
    const store = await open();
    await store.close();
    await expect(store.readItemTags('docs')).rejects.toThrow(/closed/);
  });
});
