// ReplicaSync's scheduling without a database: a catch-up with nothing to do (here, for an index
// found too far behind while a request still uses it) must leave no settled promise behind, or
// settled() and close() spin on it for ever with the event loop starved (seen once in CI, in the
// network-faults test).
import { expect, it } from 'vitest';
import type { OpenIndex } from '../../../src/service/open/open-index.js';
import { ReplicaSync } from '../../../src/service/replication/replica-sync.js';
import type { ReplicationStore, Store } from '../../../src/storage/index.js';

/** Whether `promise` settles within `turns` turns of the microtask queue (a spinning one never does). */
async function settlesWithin(promise: Promise<unknown>, turns: number): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  for (let i = 0; i < turns && !done; i++) await Promise.resolve();
  return done;
}

it('settles after a notice for an index it stopped catching up (stale, still in use), and closes', async () => {
  const createdAt = new Date(0);
  const open = { name: 'docs', closed: false, inUse: true, createdAt } as unknown as OpenIndex;
  const store = { readCommitment: async () => null } as unknown as Store;
  let logReads = 0;
  // A log with a gap (head at 5, no changes): the index is too far behind and is marked stale.
  const replication = {
    changesSince: async () => {
      logReads++;
      return { head: { name: 'docs', createdAt, changeSeq: 5, modelVersion: 0, keyVersion: 0 }, changes: [] };
    },
  } as unknown as ReplicationStore;
  const sync = new ReplicaSync({ store, replication, pollMs: 3_600_000 });
  const dropped: string[] = [];
  sync.start({ drop: (name) => dropped.push(name) });

  sync.track(open, { changeSeq: 0, modelVersion: 0, keyVersion: 0 });
  expect(await settlesWithin(sync.settled(), 50)).toBe(true);
  expect(logReads).toBe(1);
  // In use: left open until idle.
  expect(dropped).toEqual([]);

  sync.notify('docs');
  expect(await settlesWithin(sync.settled(), 50)).toBe(true);
  // Stale: the notice fetched nothing more.
  expect(logReads).toBe(1);
  expect(await settlesWithin(sync.close(), 50)).toBe(true);
});
