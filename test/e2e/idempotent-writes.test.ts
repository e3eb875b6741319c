// Lost replies are not lost writes: upsert, deleteItems and updateItems take an idempotencyKey, and
// a retry of a write that landed answers the original result without writing again.
// - PostgreSQL: a proxy on loopback lets a write's COMMIT through and swallows its reply, so the
//   client gets STORE_UNAVAILABLE for a write that committed; the retry answers the first result
//   and the index's change counter (one per write) shows one write. Concurrent retries on two
//   replicas of one database write once. The same key with another request is a ValidationError.
//   A write without a key whose reply is lost is read back into the replica's memory by itself.
// - SQLite: the same answers from the record, without the network fault.

import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CountDocument, CreateIndexDocument, DeleteItemsDocument, ItemsDocument, UpdateItemsDocument, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { BlackHoleProxy } from '../support/black-hole-proxy.js';
import { createPostgresTestSchema, probePostgres } from '../support/services.js';
import { clusteredVectors, toBase64 } from './vectors.js';

const DIMENSION = 8;
const TIMEOUTS = { PG_CONNECT_TIMEOUT_MS: '2000', PG_STATEMENT_TIMEOUT_MS: '1000', PG_QUERY_TIMEOUT_MS: '2000' };
const REUSED = 'idempotency key reused with a different request';

function batch(prefix: string, count: number, seed: number, metadata?: Record<string, unknown>) {
  return clusteredVectors(count, DIMENSION, 2, seed).map((vector, i) => ({ id: `${prefix}-${i}`, vector: toBase64(vector), metadata }));
}

async function count(server: TestServer, index: string, key: string, filter?: Record<string, unknown>): Promise<number> {
  const answer = await server.request(CountDocument, { index, key, filter });
  if (answer.body.data?.count.__typename !== 'ItemCount') throw new Error(JSON.stringify(answer.body));
  return answer.body.data.count.count;
}

async function present(server: TestServer, index: string, key: string, ids: string[]): Promise<number> {
  const answer = await server.request(ItemsDocument, { index, key, ids });
  if (answer.body.data?.items.__typename !== 'ItemList') throw new Error(JSON.stringify(answer.body));
  return answer.body.data.items.items.length;
}

/** Polls until `check` holds (a replica catching up); fails after a bound far above the expected time. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('the condition did not hold within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const postgres = await probePostgres();

describe.skipIf(!postgres.available)('idempotent writes on PostgreSQL', () => {
  it('a write whose COMMIT reply is lost answers STORE_UNAVAILABLE; its retry answers the original result and writes nothing; the same on a second replica, concurrently', async () => {
    const schema = await createPostgresTestSchema('idempotent');
    const proxy = await BlackHoleProxy.start({ host: '127.0.0.1', port: Number(new URL(postgres.url).port || 5432) });
    const proxied = new URL(schema.connectionString);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const env = { AUTO_TRAIN_DISABLED: 'true', CIPHERDEX_DB_TYPE: 'postgres', ...TIMEOUTS };
    const a = await startTestServer({ env: { ...env, CIPHERDEX_CONNECTION_STRING: proxied.toString() } });
    const b = await startTestServer({ env: { ...env, CIPHERDEX_CONNECTION_STRING: schema.connectionString } });
    const db = new pg.Client({ connectionString: schema.connectionString });
    await db.connect();
    /** Counts the index's writes: each committed upsert or delete adds one. */
    const writes = async (index: string): Promise<number> =>
      Number((await db.query<{ change_seq: string }>('SELECT change_seq FROM indexes WHERE name = $1', [index])).rows[0].change_seq);
    const key = newIndexKey();
    const index = 'retried';
    try {
      await a.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
      await a.request(UpsertDocument, { index, key, items: batch('base', 20, 1, { group: 'keep' }) });

      // An upsert commits, its reply is lost on the way back.
      const items = batch('lost', 10, 2, { group: 'doomed' });
      const before = await writes(index);
      const fired = proxy.loseRepliesAfter('idempotency_records', 'COMMIT');
      const lost = await a.request(UpsertDocument, { index, key, items, idempotencyKey: 'upsert-1' });
      await fired;
      expect(lost.status, JSON.stringify(lost.body)).toBe(503);
      expect(lost.body.errors?.[0]).toMatchObject({ extensions: { code: 'STORE_UNAVAILABLE', fault: 'unreachable' } });
      // It landed (the other replica sees it), though replica A never heard so.
      expect(await writes(index)).toBe(before + 1);
      expect(await present(b, index, key, items.map((item) => item.id))).toBe(10);

      const retry = await a.request(UpsertDocument, { index, key, items, idempotencyKey: 'upsert-1' });
      expect(retry.body.data?.upsert).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: 10, index: { vectorCount: 30 } });
      expect(await writes(index)).toBe(before + 1);
      // A's memory caught up from the store: the retried items are served there too.
      expect(await present(a, index, key, items.map((item) => item.id))).toBe(10);

      // The same key with another request changes nothing and says why.
      const reused = await a.request(UpsertDocument, { index, key, items: batch('other', 3, 3), idempotencyKey: 'upsert-1' });
      expect(reused.body.data?.upsert).toMatchObject({ __typename: 'ValidationError', code: 'VALIDATION_ERROR', argument: 'idempotencyKey', message: REUSED });
      expect(await writes(index)).toBe(before + 1);

      // Without a key the write cannot be retried safely, but it landed all the same: replica A,
      // which answered STORE_UNAVAILABLE, reads the items it touched back from the store by itself.
      const unkeyed = batch('unkeyed', 4, 6);
      // (A write of items is one transaction with its index commitment: the reply lost is COMMIT's.)
      const unkeyedFired = proxy.loseRepliesAfter('INSERT INTO items', 'COMMIT');
      const unkeyedLost = await a.request(UpsertDocument, { index, key, items: unkeyed });
      await unkeyedFired;
      expect(unkeyedLost.status).toBe(503);
      expect(await present(b, index, key, unkeyed.map((item) => item.id))).toBe(4);
      await eventually(async () => (await present(a, index, key, unkeyed.map((item) => item.id))) === 4);
      await a.request(DeleteItemsDocument, { index, key, ids: unkeyed.map((item) => item.id) });

      // A delete by filter whose reply is lost; meanwhile another writer adds an item the filter matches.
      const deleteFired = proxy.loseRepliesAfter('idempotency_records', 'COMMIT');
      const lostDelete = await a.request(DeleteItemsDocument, { index, key, filter: { group: 'doomed' }, idempotencyKey: 'delete-1' });
      await deleteFired;
      expect(lostDelete.status).toBe(503);
      const late = batch('late', 1, 4, { group: 'doomed' });
      await b.request(UpsertDocument, { index, key, items: late });
      // Once A has caught up on it, the filter matches it there too: the retry must still spare it.
      await eventually(async () => (await present(a, index, key, [late[0].id])) === 1);
      const afterDelete = await writes(index);
      const deleteRetry = await a.request(DeleteItemsDocument, { index, key, filter: { group: 'doomed' }, idempotencyKey: 'delete-1' });
      expect(deleteRetry.body.data?.deleteItems).toEqual({ __typename: 'DeleteItemsSuccess', deletedCount: 10 });
      expect(await writes(index)).toBe(afterDelete);
      // Not a second delete: the late item survives, on both replicas.
      expect(await present(b, index, key, [late[0].id])).toBe(1);
      expect(await count(a, index, key)).toBe(21);
      expect(await count(a, index, key, { group: 'doomed' })).toBe(1);

      // Concurrent retries of one write, on two replicas at once: one write, one answer.
      const concurrent = batch('both', 6, 5);
      const start = await writes(index);
      const answers = await Promise.all(
        [a, b, a, b, a, b].map((server) => server.request(UpsertDocument, { index, key, items: concurrent, idempotencyKey: 'upsert-2' })),
      );
      for (const answer of answers) expect(answer.body.data?.upsert, JSON.stringify(answer.body)).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: 6 });
      expect(await writes(index)).toBe(start + 1);
      // Keys are hashed under the index's key: the database holds neither the key nor the request.
      const stored = await db.query<{ key_hash: Buffer; request_hash: Buffer }>('SELECT key_hash, request_hash FROM idempotency_records');
      expect(stored.rows).toHaveLength(3);
      for (const row of stored.rows) {
        expect(row.key_hash).toHaveLength(32);
        expect(row.key_hash.includes(Buffer.from('upsert'))).toBe(false);
      }
    } finally {
      await db.end();
      await a.close();
      await b.close();
      await proxy.close();
      await schema.drop();
    }
  }, 120_000);
});

describe('idempotent writes on SQLite', () => {
  it('answer retries from the record: upsert, deleteItems by ids and by filter, updateItems; a reused key and a malformed one are ValidationErrors', async () => {
    const server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    const key = newIndexKey();
    const index = 'local';
    try {
      await server.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
      const items = batch('item', 5, 1, { group: 'a' });
      for (let attempt = 0; attempt < 2; attempt++) {
        const answer = await server.request(UpsertDocument, { index, key, items, idempotencyKey: 'u' });
        expect(answer.body.data?.upsert).toMatchObject({ upsertedCount: 5, index: { vectorCount: 5 } });
      }

      // An update retried after a later change does not undo that change.
      const first = await server.request(UpdateItemsDocument, { index, key, ids: ['item-0'], metadata: { group: 'b' }, idempotencyKey: 'p' });
      expect(first.body.data?.updateItems).toEqual({ __typename: 'UpdateItemsSuccess', updatedCount: 1 });
      await server.request(UpdateItemsDocument, { index, key, ids: ['item-0'], metadata: { group: 'c' } });
      const again = await server.request(UpdateItemsDocument, { index, key, ids: ['item-0'], metadata: { group: 'b' }, idempotencyKey: 'p' });
      expect(again.body.data?.updateItems).toEqual({ __typename: 'UpdateItemsSuccess', updatedCount: 1 });
      expect(await count(server, index, key, { group: 'c' })).toBe(1);

      // Deletes by ids and by filter, retried after the items came back: they stay.
      const byIds = { index, key, ids: ['item-1', 'item-2', 'nope'], idempotencyKey: 'd1' };
      expect((await server.request(DeleteItemsDocument, byIds)).body.data?.deleteItems).toMatchObject({ deletedCount: 2 });
      const byFilter = { index, key, filter: { group: 'a' }, idempotencyKey: 'd2' };
      expect((await server.request(DeleteItemsDocument, byFilter)).body.data?.deleteItems).toMatchObject({ deletedCount: 2 });
      await server.request(UpsertDocument, { index, key, items });
      expect((await server.request(DeleteItemsDocument, byIds)).body.data?.deleteItems).toMatchObject({ deletedCount: 2 });
      expect((await server.request(DeleteItemsDocument, byFilter)).body.data?.deleteItems).toMatchObject({ deletedCount: 2 });
      expect(await count(server, index, key)).toBe(5);

      // A key names one request on an index; another operation under it is another request.
      const reused = await server.request(DeleteItemsDocument, { index, key, ids: ['item-1'], idempotencyKey: 'u' });
      expect(reused.body.data?.deleteItems).toMatchObject({ __typename: 'ValidationError', argument: 'idempotencyKey', message: REUSED });
      for (const bad of ['', 'x'.repeat(257)]) {
        const refused = await server.request(UpsertDocument, { index, key, items, idempotencyKey: bad });
        expect(refused.body.data?.upsert).toMatchObject({ __typename: 'ValidationError', argument: 'idempotencyKey', max: 256 });
      }
      expect(await count(server, index, key)).toBe(5);
    } finally {
      await server.close();
    }
  });
});
