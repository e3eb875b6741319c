// A network that fails silently between the server and PostgreSQL: a proxy on loopback black-holes
// every connection (accepted, bytes swallowed, no RST, no reply). Requests that need the database
// must answer STORE_UNAVAILABLE within the configured timeouts (never hang), what open indexes
// hold in memory is still answered, and once the proxy forwards again the server recovers without a restart.

import { describe, expect, it } from 'vitest';
import { CountDocument, CreateIndexDocument, ItemsDocument, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey, startTestServer, type HttpAnswer } from '../server/harness.js';
import { BlackHoleProxy } from '../support/black-hole-proxy.js';
import { createPostgresTestSchema, probePostgres } from '../support/services.js';
import { clusteredVectors, toBase64 } from './vectors.js';

const DIMENSION = 8;
/** Short on purpose, so the test is quick; the defaults are in docs/operations.md. */
const TIMEOUTS = { PG_CONNECT_TIMEOUT_MS: '1000', PG_STATEMENT_TIMEOUT_MS: '1000', PG_QUERY_TIMEOUT_MS: '2000' };
/**
 * A request may wait out a connect and a query timeout or two (the key check and the write); the
 * bound is several times that, for a loaded machine. What it rules out is a request that hangs:
 * without the timeouts, these requests never answer.
 */
const ANSWER_BOUND_MS = 5 * (1000 + 2 * 2000);

const postgres = await probePostgres();

function batch(prefix: string, count: number, seed: number) {
  return clusteredVectors(count, DIMENSION, 2, seed).map((vector, i) => ({ id: `${prefix}-${i}`, vector: toBase64(vector) }));
}

/** The answer and how long it took. */
async function timed<T>(request: () => Promise<T>): Promise<{ answer: T; ms: number }> {
  const started = performance.now();
  const answer = await request();
  return { answer, ms: performance.now() - started };
}

function expectUnavailable(answer: HttpAnswer<unknown>): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(503);
  expect(answer.body.errors?.[0]).toMatchObject({ extensions: { code: 'STORE_UNAVAILABLE', fault: 'unreachable' } });
}

describe.skipIf(!postgres.available)('PostgreSQL behind a black-holed network', () => {
  it('answers STORE_UNAVAILABLE within the configured timeouts, serves open indexes from memory, and recovers when the network returns', async () => {
    const schema = await createPostgresTestSchema('black_hole');
    const proxy = await BlackHoleProxy.start({ host: '127.0.0.1', port: Number(new URL(postgres.url).port || 5432) });
    const proxied = new URL(schema.connectionString);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const server = await startTestServer({
      env: { AUTO_TRAIN_DISABLED: 'true', CIPHERDEX_DB_TYPE: 'postgres', CIPHERDEX_CONNECTION_STRING: proxied.toString(), ...TIMEOUTS },
    });
    const key = newIndexKey();
    const index = 'silent';
    try {
      await server.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
      const before = batch('before', 50, 1);
      const first = await server.request(UpsertDocument, { index, key, items: before });
      expect(first.body.data?.upsert).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: 50 });
      expect(proxy.connections).toBeGreaterThan(0);

      proxy.setMode('black-hole');
      // A write on a pooled connection (its reply never comes: the query timeout) ...
      const write = await timed(() => server.request(UpsertDocument, { index, key, items: batch('lost', 10, 2) }));
      expectUnavailable(write.answer);
      expect(write.ms).toBeLessThan(ANSWER_BOUND_MS);
      // ... and one that needs a new connection (the handshake never completes: the connect timeout).
      const create = await timed(() => server.request(CreateIndexDocument, { name: 'other', key, dimension: DIMENSION }));
      expectUnavailable(create.answer);
      expect(create.ms).toBeLessThan(ANSWER_BOUND_MS);
      // A burst: every request answers. Writes to one index take turns under its write lock, so
      // the k-th waits out about k timeouts; the last one's time is logged, not asserted.
      const many = await Promise.all(
        Array.from({ length: 12 }, (_, i) => timed(() => server.request(UpsertDocument, { index, key, items: batch(`many${i}`, 5, 10 + i) }))),
      );
      for (const { answer } of many) expectUnavailable(answer);
      expect(proxy.swallowed.up).toBeGreaterThan(0);
      // The open index still answers what it holds in memory (payloads are read from the store).
      const counted = await server.request(CountDocument, { index, key });
      expect(counted.body.data?.count).toEqual({ __typename: 'ItemCount', count: 50 });

      proxy.setMode('forward');
      // The first request after the network returns succeeds: dead pooled connections were discarded.
      const after = batch('after', 20, 3);
      const recovered = await server.request(UpsertDocument, { index, key, items: after });
      expect(recovered.body.data?.upsert, JSON.stringify(recovered.body)).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: 20 });
      const created = await server.request(CreateIndexDocument, { name: 'other', key, dimension: DIMENSION });
      expect(created.body.data?.createIndex).toMatchObject({ __typename: 'Index', name: 'other' });
      const stored = await server.request(ItemsDocument, { index, key, ids: [...before, ...after].map((item) => item.id) });
      expect(stored.body.data?.items.__typename === 'ItemList' && stored.body.data.items.items.length).toBe(70);
      console.log(`black hole: write answered in ${write.ms.toFixed(0)} ms, create in ${create.ms.toFixed(0)} ms, 12 at once in at most ${Math.max(...many.map((m) => m.ms)).toFixed(0)} ms (bound ${ANSWER_BOUND_MS} ms)`);
    } finally {
      await server.close();
      await proxy.close();
      await schema.drop();
    }
  }, 180_000);
});
