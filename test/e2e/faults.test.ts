// Faults under a real server, each ending the same way: acknowledged data survives, the fault is
// reported clearly (never a crash nor an unexplained error), and the server recovers.
// - SIGKILL while a training run is PERSISTING, with upserts in flight (server in a child process).
//   SIGKILL during an upsert is covered for both stores by test/service/crash-durability.test.ts.
// - A full disk: a small tmpfs filled to the last byte, then freed (mount(8); CI runs as root).
// - A read-only data directory: a read-only bind mount of a populated data directory.
// - PostgreSQL going away and coming back: a TCP proxy between the server and the database is cut
//   (connections dropped, new ones refused), then restored on the same port.

import { mkdtemp, open, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { createClient } from 'graphql-ws';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  CreateIndexDocument,
  HealthDocument,
  IndexDocument,
  ItemIdsDocument,
  ItemsDocument,
  SearchDocument,
  TrainIndexDocument,
  TrainingStatusDocument,
  type TrainingStatusSubscription,
  UpsertDocument,
} from '../generated/graphql.js';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server/start-server.js';
import { collect, newIndexKey, startTestServer, type TestServer } from '../server/harness.js';
import { mountReadOnly, mountTmpfs, mountUnavailableReason } from '../support/mounts.js';
import { createPostgresTestSchema, probePostgres } from '../support/services.js';
import { CuttableProxy } from './cuttable-proxy.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { clusteredVectors, toBase64 } from './vectors.js';

const DIMENSION = 16;

interface Item {
  id: string;
  vector: Float32Array;
}

/** Anything that sends a GraphQL document: the in-process test server or a server process. */
type Api = Pick<TestServer, 'request'>;

function items(prefix: string, count: number, seed: number): Item[] {
  return clusteredVectors(count, DIMENSION, 8, seed).map((vector, i) => ({ id: `${prefix}-${i}`, vector }));
}

async function upsert(api: Api, index: string, key: string, batch: Item[], contents?: string) {
  return api.request(UpsertDocument, { index, key, items: batch.map((item) => ({ id: item.id, vector: toBase64(item.vector), contents })) });
}

async function expectUpserted(api: Api, index: string, key: string, batch: Item[], contents?: string): Promise<void> {
  const answer = await upsert(api, index, key, batch, contents);
  expect(answer.body.data?.upsert, JSON.stringify(answer.body)).toMatchObject({ __typename: 'UpsertSuccess', upsertedCount: batch.length });
}

/** Every item is stored with exactly its vector. */
async function expectStored(api: Api, index: string, key: string, expected: Item[]): Promise<void> {
  for (let start = 0; start < expected.length; start += 1000) {
    const chunk = expected.slice(start, start + 1000);
    const answer = await api.request(ItemsDocument, { index, key, ids: chunk.map((item) => item.id) });
    const result = answer.body.data?.items;
    if (result?.__typename !== 'ItemList') throw new Error(`items failed: ${JSON.stringify(answer.body)}`);
    expect(result.items.map((item) => item.id)).toEqual(chunk.map((item) => item.id));
    result.items.forEach((item, i) => expect(item.vector, item.id).toEqual(Array.from(chunk[i].vector)));
  }
}

/** Each sampled item's own vector, probing every list, finds the item itself first. */
async function expectSelfSearch(api: Api, index: string, key: string, sample: Item[]): Promise<void> {
  const info = await api.request(IndexDocument, { name: index, key });
  const described = info.body.data?.index;
  if (described?.__typename !== 'Index') throw new Error(`index failed: ${JSON.stringify(info.body)}`);
  for (const item of sample) {
    const answer = await api.request(SearchDocument, {
      index,
      key,
      vector: toBase64(item.vector),
      topK: 1,
      nProbes: described.isTrained ? described.nLists : undefined,
    });
    const result = answer.body.data?.search;
    if (result?.__typename !== 'SearchResults') throw new Error(`search failed: ${JSON.stringify(answer.body)}`);
    expect(result.exact).toBe(true);
    expect(result.hits[0]).toMatchObject({ id: item.id, distance: 0 });
  }
}

/** A search that asks only for what an open index holds in memory. */
const SearchIdsDocument = parse(`query SearchIds($index: String!, $key: IndexKey!, $vector: Vector!) {
  search(index: $index, key: $key, vector: $vector, topK: 1, exact: true) { __typename ... on SearchResults { hits { id distance } } }
}`) as TypedDocumentNode<{ search: { __typename: string; hits?: Array<{ id: string; distance: number }> } }, { index: string; key: string; vector: string }>;

function sampleOf(all: Item[], count: number): Item[] {
  return Array.from({ length: Math.min(count, all.length) }, (_, i) => all[Math.floor((i * all.length) / count)]);
}

interface StoreFaultAnswer {
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string; fault?: string } }> };
}

/** A request refused because of the store: HTTP 503, code STORE_UNAVAILABLE, the fault named. */
function expectStoreFault(answer: StoreFaultAnswer, fault: string, message: RegExp): void {
  expect(answer.status, JSON.stringify(answer.body)).toBe(503);
  expect(answer.body.errors).toHaveLength(1);
  expect(answer.body.errors![0]).toMatchObject({ extensions: { code: 'STORE_UNAVAILABLE', fault } });
  expect(answer.body.errors![0].message).toMatch(message);
}

/**
 * Trains a populated index a second time with upserts in flight, kills the server at PERSISTING
 * (`subscriber`: when a subscription reports it, so the kill may land before or after the commit;
 * `self`: the process kills itself as the phase is reported, before the model is saved), restarts
 * it on the same data and checks what survived. Returns what the restarted server reports.
 */
async function killWhilePersisting(mode: 'subscriber' | 'self'): Promise<string> {
  const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-kill-persist-'));
  const key = newIndexKey();
  const index = 'persist';
  const base = items('base', 2000, 3);
  const env: Record<string, string> = { AUTO_TRAIN_DISABLED: 'true' };
  // `self`: the second run's PERSISTING report (the first is the previous model's) kills the process.
  let server: ServerProcess = await startServerProcess({ dataDir, env: mode === 'self' ? { ...env, CIPHERDEX_TEST_KILL_AT_PHASE: 'PERSISTING#2' } : env });
  try {
    await server.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
    await expectUpserted(server, index, key, base);
    // A first model, so that "the previous model" is one of the two acceptable outcomes.
    const first = await server.request(TrainIndexDocument, { index, key, maxIters: 3, wait: true });
    expect(first.body.data?.trainIndex).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED' });
    const firstLists = first.body.data?.trainIndex.__typename === 'TrainingRun' ? first.body.data.trainIndex.nLists : 0;

    // Writes keep coming while the second run trains; only acknowledged ones count.
    const acknowledged: Item[] = [];
    let gone = false;
    const writing = (async () => {
      for (let batch = 0; !gone; batch++) {
        const live = items(`live${batch}`, 50, 100 + batch);
        try {
          const answer = await upsert(server, index, key, live);
          if (answer.body.data?.upsert.__typename === 'UpsertSuccess') acknowledged.push(...live);
        } catch {
          return; // the server is gone
        }
      }
    })();
    const exited = new Promise<void>((resolve) => server.child.once('exit', () => resolve()));
    void exited.then(() => (gone = true));
    const client = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { apiKey: server.apiKey }, retryAttempts: 0, lazy: true });
    const phases: string[] = [];
    client.subscribe<TrainingStatusSubscription>(
      { query: print(TrainingStatusDocument), variables: { index, key } },
      {
        next: (result) => {
          const status = result.data?.trainingStatus;
          if (status?.__typename !== 'TrainingStatus') return;
          phases.push(status.phase);
          // Subscribed (told the current state): start the run that will be killed.
          if (phases.length === 1) void server.request(TrainIndexDocument, { index, key, maxIters: 15, tolerance: 0 }).catch(() => {});
          if (status.phase === 'PERSISTING' && mode === 'subscriber') void server.kill();
        },
        error: () => {},
        complete: () => {},
      },
    );
    await exited;
    await writing;
    await client.dispose();
    expect(server.child.signalCode).toBe('SIGKILL');
    expect(phases).toContain('ASSIGNING');
    if (mode === 'self') expect(phases).not.toContain('PERSISTING');

    server = await startServerProcess({ dataDir, apiKey: server.apiKey, env });
    const info = await server.request(IndexDocument, { name: index, key });
    const described = info.body.data?.index;
    if (described?.__typename !== 'Index') throw new Error(JSON.stringify(info.body));
    expect(described).toMatchObject({ isTraining: false, isTrained: true });
    // Killed before its model was saved, the second run left the first model in place.
    if (mode === 'self') expect(described.nLists).toBe(firstLists);
    // Everything acknowledged, plus at most the one batch that was in flight at the kill.
    const stored = base.length + acknowledged.length;
    expect(described.vectorCount).toBeGreaterThanOrEqual(stored);
    expect(described.vectorCount).toBeLessThanOrEqual(stored + 50);
    await expectStored(server, index, key, [...base, ...acknowledged]);
    await expectSelfSearch(server, index, key, [...sampleOf(base, 20), ...sampleOf(acknowledged, 20)]);

    // Not stuck: the state is IDLE, and a new run trains to the end.
    const watcher = createClient({ url: server.wsUrl, webSocketImpl: WebSocket, connectionParams: { apiKey: server.apiKey }, retryAttempts: 0, lazy: true });
    const current = await collect(watcher, TrainingStatusDocument, { index, key }, () => true);
    await watcher.dispose();
    expect(current[0].data?.trainingStatus).toMatchObject({ __typename: 'TrainingStatus', phase: 'IDLE' });
    const again = await server.request(TrainIndexDocument, { index, key, maxIters: 3, wait: true });
    expect(again.body.data?.trainIndex).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED' });
    await expectSelfSearch(server, index, key, sampleOf(acknowledged, 10));
    return (
      `${acknowledged.length} items acknowledged during the run (${described.vectorCount - stored} in flight kept); ` +
      `phases seen: ${[...new Set(phases)].join(' ')}; after restart ${described.nLists} lists (first model ${firstLists})`
    );
  } finally {
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

describe('SIGKILL while a training run is PERSISTING', () => {
  it('when a subscriber sees PERSISTING: every acknowledged write survives, the model is the new or the previous one, no run is stuck', async () => {
    console.log(`kill when a subscriber sees PERSISTING: ${await killWhilePersisting('subscriber')}`);
  });

  it('at the instant PERSISTING is reported (before the model is saved): the same, with the previous model', async () => {
    console.log(`kill as PERSISTING is reported: ${await killWhilePersisting('self')}`);
  });
});

const mountProblem = await mountUnavailableReason();
if (mountProblem !== null) console.warn(`[skip] disk-fault tests need mount(8) (root with CAP_SYS_ADMIN): ${mountProblem}`);

describe.skipIf(mountProblem !== null)('a full disk', () => {
  it('refuses writes with STORE_UNAVAILABLE (disk-full), keeps serving reads, fails a run cleanly, and recovers when space returns', async () => {
    const disk = await mountTmpfs(24 << 20);
    const dataDir = join(disk.path, 'data');
    const key = newIndexKey();
    const index = 'disk';
    const before = items('before', 600, 5);
    const during = items('during', 600, 6);
    const contents = 'x'.repeat(2000);
    let server = await startTestServer({ dataDir, env: { AUTO_TRAIN_DISABLED: 'true' } });
    const filler = join(disk.path, 'filler');
    try {
      await server.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
      await expectUpserted(server, index, key, before, contents);

      // Fill the disk to the last byte: big writes, then small ones, until ENOSPC.
      const file = await open(filler, 'w');
      for (const size of [1 << 20, 4096, 512]) {
        const chunk = Buffer.alloc(size, 1);
        for (;;) {
          try {
            const { bytesWritten } = await file.write(chunk);
            if (bytesWritten < size) break;
          } catch (error) {
            if ((error as { code?: string }).code !== 'ENOSPC') throw error;
            break;
          }
        }
      }
      await file.close();

      // A run that cannot save its model fails with the reason, and the index stays as it was.
      const run = await server.request(TrainIndexDocument, { index, key, maxIters: 3, wait: true });
      expect(run.body.data?.trainIndex).toMatchObject({ __typename: 'TrainingRun', phase: 'FAILED', message: expect.stringMatching(/disk space/) });
      expectStoreFault(await upsert(server, index, key, during, contents), 'disk-full', /disk space/);
      const info = await server.request(IndexDocument, { name: index, key });
      expect(info.body.data?.index).toMatchObject({ isTrained: false, isTraining: false, vectorCount: before.length });
      // Reads go on, and the refused batch left nothing behind.
      await expectStored(server, index, key, before);
      await expectSelfSearch(server, index, key, sampleOf(before, 10));
      const ids = await server.request(ItemIdsDocument, { index, key });
      expect(ids.body.data?.itemIds.__typename === 'ItemIdList' && [...ids.body.data.itemIds.ids].sort()).toEqual(before.map((item) => item.id).sort());
      expect((await fetch(new URL('/ready', server.url))).status).toBe(200);
      expect(server.logs.some((line) => line.includes('Store unavailable (disk-full)'))).toBe(true);

      await unlink(filler);
      await expectUpserted(server, index, key, during, contents);
      const retrained = await server.request(TrainIndexDocument, { index, key, maxIters: 3, wait: true });
      expect(retrained.body.data?.trainIndex).toMatchObject({ phase: 'COMPLETED' });

      await server.close({ keepData: true });
      server = await startTestServer({ dataDir, env: { AUTO_TRAIN_DISABLED: 'true' } });
      await expectStored(server, index, key, [...before, ...during]);
      await expectSelfSearch(server, index, key, sampleOf([...before, ...during], 10));
    } finally {
      await server.close();
      await rm(filler, { force: true });
      await disk.release();
    }
  });
});

describe.skipIf(mountProblem !== null)('a read-only data directory', () => {
  it('stops the start with a message naming the directory and the cause (store, generated API key), then starts with all data once writable', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-readonly-'));
    const key = newIndexKey();
    const index = 'ro';
    const stored = items('kept', 300, 9);
    let server = await startTestServer({ dataDir, env: { AUTO_TRAIN_DISABLED: 'true' } });
    await server.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
    await expectUpserted(server, index, key, stored);
    await server.close({ keepData: true });

    const readOnly = await mountReadOnly(dataDir);
    try {
      const refused = startTestServer({ dataDir: readOnly.path, env: { AUTO_TRAIN_DISABLED: 'true' } });
      await expect(refused).rejects.toThrow(`Cannot open the SQLite store in CIPHERDEX_DATA_DIR "${readOnly.path}": the directory is read-only`);
      await expect(refused).rejects.toMatchObject({ name: 'StoreOpenError', fault: 'read-only' });
      // Without CIPHERDEX_API_KEY the first start must keep a generated key there, and says it cannot.
      await expect(startServer(loadConfig({ CIPHERDEX_DATA_DIR: readOnly.path, PORT: '0' }), { log: () => {} })).rejects.toThrow(
        /Cannot keep a generated API key in .*api-key\.sha256 \(EROFS.*make CIPHERDEX_DATA_DIR writable, or set CIPHERDEX_API_KEY/,
      );
    } finally {
      await readOnly.release();
    }

    server = await startTestServer({ dataDir, env: { AUTO_TRAIN_DISABLED: 'true' } });
    try {
      await expectStored(server, index, key, stored);
      await expectUpserted(server, index, key, items('after', 10, 10));
    } finally {
      await server.close();
    }
  });
});

const postgres = await probePostgres();

describe.skipIf(!postgres.available)('PostgreSQL going away and coming back', () => {
  it('fails writes with STORE_UNAVAILABLE (unreachable) and /ready 503 while it is gone, serves open indexes from memory, and recovers without a restart', async () => {
    const schema = await createPostgresTestSchema('faults');
    const proxy = await CuttableProxy.start({ host: '127.0.0.1', port: Number(new URL(postgres.url).port || 5432) });
    const proxied = new URL(schema.connectionString);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    const env = { AUTO_TRAIN_DISABLED: 'true', CIPHERDEX_DB_TYPE: 'postgres', CIPHERDEX_CONNECTION_STRING: proxied.toString() };
    const key = newIndexKey();
    const index = 'pg';
    const before = items('before', 400, 12);
    const after = items('after', 400, 13);
    let server = await startTestServer({ env });
    try {
      await server.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
      await expectUpserted(server, index, key, before);
      expect(proxy.connections).toBeGreaterThan(0);

      // Writes in flight when the database goes: each batch is all or nothing, acknowledged ones stay.
      const inFlight: Array<{ batch: Item[]; acknowledged: boolean; answer: StoreFaultAnswer }> = [];
      let writing = true;
      const writer = (async () => {
        for (let n = 0; writing; n++) {
          const batch = items(`flight${n}`, 100, 200 + n);
          const answer = await upsert(server, index, key, batch);
          inFlight.push({ batch, acknowledged: answer.body.data?.upsert.__typename === 'UpsertSuccess', answer });
        }
      })();
      while (inFlight.filter((w) => w.acknowledged).length < 3) await new Promise((resolve) => setTimeout(resolve, 5));
      await proxy.cut();
      while (inFlight.filter((w) => !w.acknowledged).length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
      writing = false;
      await writer;
      // A write cut short mid-statement is as clear as one refused outright.
      for (const { answer } of inFlight.filter((w) => !w.acknowledged)) expectStoreFault(answer, 'unreachable', /database cannot be reached/);

      expectStoreFault(await upsert(server, index, key, after), 'unreachable', /database cannot be reached/);
      expectStoreFault(
        await server.request(CreateIndexDocument, { name: 'other', key, dimension: DIMENSION }),
        'unreachable',
        /database cannot be reached/,
      );
      const ready = await fetch(new URL('/ready', server.url));
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ status: 'unavailable', store: 'postgres' });
      const health = await server.request(HealthDocument, {});
      expect(health.body.data?.health).toMatchObject({ status: 'degraded', storeReachable: false });
      // The open index answers what memory holds while the database is away: ids and distances.
      // Contents live only in the store, so asking for them is the same clear fault.
      for (const item of sampleOf(before, 5)) {
        const answer = await server.request(SearchIdsDocument, { index, key, vector: toBase64(item.vector) });
        expect(answer.body.data?.search, JSON.stringify(answer.body)).toMatchObject({ __typename: 'SearchResults', hits: [{ id: item.id, distance: 0 }] });
      }
      expectStoreFault(await server.request(ItemsDocument, { index, key, ids: [before[0].id] }), 'unreachable', /database cannot be reached/);
      expect(server.logs.some((line) => line.includes('Store unavailable (unreachable)'))).toBe(true);

      await proxy.restore();
      await expectUpserted(server, index, key, after);
      expect((await fetch(new URL('/ready', server.url))).status).toBe(200);
      expect(proxy.connections).toBeGreaterThan(0);

      // Durable in the database itself: a fresh server, straight to PostgreSQL, reads it all.
      await server.close();
      server = await startTestServer({ env: { ...env, CIPHERDEX_CONNECTION_STRING: schema.connectionString } });
      await expectStored(server, index, key, [...before, ...after, ...inFlight.filter((w) => w.acknowledged).flatMap((w) => w.batch)]);
      for (const { batch, acknowledged } of inFlight.filter((w) => !w.acknowledged)) {
        const found = await server.request(ItemsDocument, { index, key, ids: batch.map((item) => item.id) });
        const count = found.body.data?.items.__typename === 'ItemList' ? found.body.data.items.items.length : -1;
        expect([0, batch.length], `batch acknowledged: ${acknowledged}`).toContain(count);
      }
    } finally {
      await server.close();
      await proxy.close();
      await schema.drop();
    }
  });
});
