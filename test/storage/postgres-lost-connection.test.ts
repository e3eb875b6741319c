// A PostgreSQL connection lost while the store has a client lent out (here between a scan's pages,
// as an open does) must reach the caller as a failed read, never as an unheard 'error' event on
// the client, which Node raises as an uncaught exception that ends the server.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PostgresStore } from '../../src/storage/postgres-store.js';
import { CuttableProxy } from '../e2e/cuttable-proxy.js';
import { createPostgresTestSchema, probePostgres } from '../support/services.js';

const postgres = await probePostgres();

describe.skipIf(!postgres.available)(`a lost PostgreSQL connection${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  it('fails the scan in progress, not the process, when the connection drops between its pages', async () => {
    const schema = await createPostgresTestSchema('lost_connection');
    const proxy = await CuttableProxy.start({ host: '127.0.0.1', port: Number(new URL(postgres.url).port || 5432) });
    const proxied = new URL(schema.connectionString);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    const store = await PostgresStore.open(proxied.toString());
    try {
      await store.createIndex({ name: 'docs', wrappedDataKey: randomBytes(60), sealedConfig: randomBytes(80) });
      await store.putItems('docs', [1, 2, 3].map(() => ({ token: randomBytes(32), sealed: randomBytes(40) })));
      const pages = store.scanItems('docs', 1)[Symbol.asyncIterator]();
      expect((await pages.next()).done).toBe(false);
      // The scan's client is lent out and idle between pages when its connection goes.
      await proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 200));
      await expect(pages.next()).rejects.toThrow();
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', record);
      await store.close();
      await proxy.close();
      await schema.drop();
    }
  });
});
