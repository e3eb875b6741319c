// The store a replica writes through: every write is announced only after the real store has
// made it durable, a refused write is not announced, and a saved model is reported with the
// version the store gave it. On a real SQLite store, instrumented to log when its writes resolve.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AnnouncingStore } from '../../../src/service/replication/announcing-store.js';
import { SqliteStore, type Store } from '../../../src/storage/index.js';

let dir: string;
let real: Store;
let store: AnnouncingStore;
/** Writes resolved by the real store and announcements, in the order they happened. */
let log: string[];

/** The real store, logging each write when it resolves (a proxy: the store keeps private fields). */
function logged(target: Store): Store {
  return new Proxy(target, {
    get(object, property) {
      const value: unknown = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      if (!['putItems', 'deleteItems', 'saveModel', 'deleteIndex', 'deleteGrant'].includes(String(property))) return value.bind(object);
      return async (...args: unknown[]) => {
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(object, args);
        log.push(`${String(property)} resolved`);
        return result;
      };
    },
  });
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cipherdex-announcing-'));
  real = await SqliteStore.open(join(dir, 'store.db'));
  log = [];
  store = new AnnouncingStore(logged(real), {
    changed: (index) => void log.push(`changed ${index}`),
    savedModel: (index, version) => void log.push(`saved ${index} v${version}`),
    revokedGrant: (index, grantId) => void log.push(`revoked ${index} ${grantId}`),
  });
  await store.createIndex({ name: 'docs', wrappedDataKey: randomBytes(60), sealedConfig: randomBytes(80) });
});

afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

it('announces each write after the store made it durable, and the deletion of the index', async () => {
  const items = Array.from({ length: 3 }, () => ({ token: randomBytes(32), sealed: randomBytes(40) }));
  await store.putItems('docs', items);
  expect(await store.deleteItems('docs', [items[0].token])).toBe(1);
  expect(await store.countItems('docs')).toBe(2);
  expect(await store.deleteIndex('docs')).toBe(true);
  expect(await store.deleteIndex('docs')).toBe(false);
  expect(log).toEqual([
    'putItems resolved',
    'changed docs',
    'deleteItems resolved',
    'changed docs',
    'deleteIndex resolved',
    'changed docs',
    // Nothing was deleted the second time: nothing to announce.
    'deleteIndex resolved',
  ]);
});

it('announces a revoked grant once it is gone from the store, and nothing for an unknown one', async () => {
  const grant = { index: 'docs', id: 'a'.repeat(32), permissions: 'READ', expiresAt: null, createdAt: new Date(), verifier: randomBytes(32), wrappedDataKey: randomBytes(60), sealedLabel: null };
  await store.createGrant(grant);
  expect(await store.deleteGrant('docs', grant.id)).toBe(true);
  expect(await store.getGrant('docs', grant.id)).toBeNull();
  expect(await store.deleteGrant('docs', grant.id)).toBe(false);
  expect(log).toEqual(['deleteGrant resolved', `revoked docs ${grant.id}`, 'deleteGrant resolved']);
});

it('announces nothing for a refused write', async () => {
  await expect(store.putItems('missing', [{ token: randomBytes(32), sealed: randomBytes(4) }])).rejects.toThrow();
  expect(log).toEqual([]);
});

it('reports each saved model with the version the store gave it, then announces it', async () => {
  expect(await store.saveModel('docs', randomBytes(30))).toBe(1);
  expect(await store.saveModel('docs', randomBytes(30))).toBe(2);
  expect(log).toEqual(['saveModel resolved', 'saved docs v1', 'changed docs', 'saveModel resolved', 'saved docs v2', 'changed docs']);
  expect(store.kind).toBe('sqlite');
  expect(store.replication).toBeUndefined();
});
