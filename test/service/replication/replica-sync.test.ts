// Catching up with other replicas' writes, on real PostgreSQL. Replica A is a full index service;
// replica B is what the service builds around its index cache (a ReplicaSync fed by the cache's
// onOpen), checked by hand (poll, notify) so each step is deterministic. B's memory must end up
// equal to the store: upserts, replacements, deletes and trained models arrive; B's own writes are
// not fetched again; an index deleted or recreated elsewhere is closed at once; one whose change
// log was pruned past what B applied is closed once idle and reloads on the next request.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { parseIndexKey } from '../../../src/crypto/index.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import { IndexCache } from '../../../src/service/open/index-cache.js';
import { IndexKeyCredential } from '../../../src/service/access/credentials.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import type { OpenIndex } from '../../../src/service/open/open-index.js';
import { ReplicaSync } from '../../../src/service/replication/replica-sync.js';
import type { ItemInput } from '../../../src/service/types.js';
import { PostgresStore } from '../../../src/storage/postgres-store.js';
import { createPostgresTestSchema, probePostgres, type PostgresTestSchema } from '../../support/services.js';
import { seededVectors } from '../reference-search.js';
import { newKey } from '../service-harness.js';

const postgres = await probePostgres();
const DIM = 8;

function itemsOf(vectors: number[][], prefix: string): ItemInput[] {
  return vectors.map((vector, i) => ({ id: `${prefix}-${i}`, vector, contents: `${prefix} ${i}`, metadata: { i } }));
}

describe.skipIf(!postgres.available)(`ReplicaSync${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  let schema: PostgresTestSchema;
  let a: CipherdexIndexService;
  let storeB: PostgresStore;
  let cacheB: IndexCache;
  let syncB: ReplicaSync;
  const key = newKey();
  const keyBytes = parseIndexKey(key);

  beforeEach(async () => {
    schema = await createPostgresTestSchema('replica_sync');
    const config = loadConfig({
      CIPHERDEX_DB_TYPE: 'postgres',
      CIPHERDEX_CONNECTION_STRING: schema.connectionString,
      AUTO_TRAIN_DISABLED: 'true',
      REPLICA_POLL_MS: '3600000',
    });
    a = await createIndexService(config, { sealWorkers: 0 });
    storeB = await PostgresStore.open(schema.connectionString);
    syncB = new ReplicaSync({ store: storeB, replication: storeB.replication, pollMs: 3_600_000 });
    cacheB = new IndexCache({ store: storeB, idleEvictMs: 3_600_000, onOpen: (open, at) => syncB.track(open, at) });
    syncB.start(cacheB);
    await a.createIndex('docs', key, { dimension: DIM });
    await a.upsert('docs', key, itemsOf(seededVectors(40, DIM, 1), 'first'));
  });

  afterEach(async () => {
    await syncB.close();
    cacheB.close();
    await a.close();
    await storeB.close();
    await schema.drop();
  });

  /** B opens the index (as a request would), and has looked for changes made while it loaded. */
  async function openOnB(name = 'docs', bytes = keyBytes): Promise<OpenIndex> {
    const open = await cacheB.acquire(name, new IndexKeyCredential(Buffer.from(bytes)));
    await syncB.settled();
    return open;
  }

  async function checkNow(): Promise<void> {
    await syncB.poll();
    await syncB.settled();
  }

  /** What B gives back (vectors from its engine rows, contents read from the store), in the form the service returns. */
  async function memoryOf(open: OpenIndex): Promise<Record<string, { vector: number[]; contents: string | null }>> {
    const records = open.ids().sort().map((id) => open.record(id)!);
    const vectors = await open.payloads(records, { vector: true, contents: false });
    const contents = await open.payloads(records, { vector: false, contents: true });
    return Object.fromEntries(records.map((record) => [record.id, { vector: Array.from(vectors.get(record)!.vector!), contents: contents.get(record)!.contents ?? null }]));
  }

  async function storeOf(): Promise<Record<string, { vector: number[]; contents: string | null }>> {
    const ids = await a.listIds('docs', key);
    const items = await a.get('docs', key, ids);
    return Object.fromEntries(items.map((item) => [item.id, { vector: item.vector!, contents: item.contents ?? null }]));
  }

  it('applies upserts, replacements and deletes made elsewhere, so its memory equals the store', async () => {
    const open = await openOnB();
    expect(open.size).toBe(40);
    await a.upsert('docs', key, itemsOf(seededVectors(10, DIM, 2), 'second'));
    await a.upsert('docs', key, [{ id: 'first-3', vector: Array(DIM).fill(0.5), contents: 'replaced' }]);
    expect((await a.delete('docs', key, ['first-0', 'second-9', 'never-there'])).deletedCount).toBe(2);
    expect(open.size).toBe(40);

    await checkNow();
    expect(open.closed).toBe(false);
    expect(open.size).toBe(48);
    expect(await memoryOf(open)).toEqual(await storeOf());
    // The replaced item is found by its new vector, through the engine.
    const [found] = await open.search(Float32Array.from(Array(DIM).fill(0.5)), { topK: 1, filter: null }, (record) => record.id);
    expect(found.hits).toEqual(['first-3']);
  });

  it('keeps the keyword index of a text-search index in step with writes made elsewhere', async () => {
    await a.createIndex('notes', key, { dimension: DIM, textSearch: true });
    await a.upsert('notes', key, [{ id: 'n1', vector: Array(DIM).fill(0.1), contents: 'quarterly revenue report' }]);
    const open = await openOnB('notes');
    const keys = (text: string) => open.text!.search(text, 10).map((hit) => open.recordAtSlot(hit.key)!.id);
    expect(keys('revenue')).toEqual(['n1']);
    await a.upsert('notes', key, [
      { id: 'n1', vector: Array(DIM).fill(0.1), contents: 'annual budget' },
      { id: 'n2', vector: Array(DIM).fill(0.2), contents: 'revenue forecast' },
    ]);
    await a.delete('notes', key, ['n2']);
    await a.upsert('notes', key, [{ id: 'n3', vector: Array(DIM).fill(0.3), contents: 'budget revenue' }]);
    await checkNow();
    expect(keys('revenue')).toEqual(['n3']);
    expect(keys('budget').sort()).toEqual(['n1', 'n3']);
    expect(keys('quarterly')).toEqual([]);
    expect(open.text!.terms.documentCount).toBe(2);
  });

  it('catches up on a notice alone, without waiting for the periodic check', async () => {
    const open = await openOnB();
    await a.upsert('docs', key, itemsOf(seededVectors(5, DIM, 3), 'noticed'));
    syncB.notify('docs');
    await syncB.settled();
    expect(open.size).toBe(45);
    expect(await memoryOf(open)).toEqual(await storeOf());
  });

  it('does not fetch again what it wrote itself: changes logged by its own store are in memory already', async () => {
    const open = await openOnB();
    // B writes through its own store without applying to memory, which the service never does:
    // the sync must leave the change alone (its origin is B), proving it skips its own writes.
    const [prepared] = await open.prepare([{ id: 'own', vector: Float32Array.from(Array(DIM).fill(0.1)), contents: null, metadata: null, metadataJson: null }]);
    await storeB.putItems('docs', [prepared.stored]);
    await a.upsert('docs', key, itemsOf(seededVectors(1, DIM, 4), 'theirs'));
    await checkNow();
    expect(open.record('theirs-0')).toBeDefined();
    expect(open.record('own')).toBeUndefined();
  });

  it('swaps in a model trained elsewhere, keeping the open index', async () => {
    const open = await openOnB();
    expect(open.isTrained).toBe(false);
    const run = await a.train('docs', key, { nLists: 4, wait: true });
    expect(run.phase).toBe('COMPLETED');
    await checkNow();
    expect(open.closed).toBe(false);
    expect(open.isTrained).toBe(true);
    expect(open.model).toMatchObject({ nLists: 4, run: { runId: run.runId } });
    // Every list probed, B answers exactly what A answers.
    const query = Float32Array.from(seededVectors(1, DIM, 9)[0]);
    const onB = (await open.search(query, { topK: 5, nProbes: 4, filter: null }, (record) => record.id))[0].hits;
    const [onA] = await a.search('docs', key, [Array.from(query)], { topK: 5, nProbes: 4 });
    expect(onB).toEqual(onA.hits.map((hit) => hit.id));
  });

  it('closes an index deleted elsewhere, and one recreated under the same name', async () => {
    const open = await openOnB();
    await a.deleteIndex('docs', key);
    await checkNow();
    expect(open.closed).toBe(true);
    expect(cacheB.resident()).toEqual([]);

    const otherKey = newKey();
    await a.createIndex('docs', otherKey, { dimension: DIM });
    const reopened = await openOnB('docs', parseIndexKey(otherKey));
    await a.deleteIndex('docs', otherKey);
    await a.createIndex('docs', key, { dimension: DIM });
    await checkNow();
    expect(reopened.closed).toBe(true);
    // The name now opens with the new index's key, empty.
    expect((await openOnB()).size).toBe(0);
  });

  it('reloads an index whose change log was pruned past what it applied, once no request uses it', async () => {
    const open = await openOnB();
    await a.upsert('docs', key, itemsOf(seededVectors(3, DIM, 5), 'pruned'));
    await a.upsert('docs', key, itemsOf(seededVectors(3, DIM, 6), 'kept'));
    // What pruning does to a replica that was away longer than the retention.
    await schema.query('DELETE FROM index_changes WHERE seq = (SELECT min(seq) FROM index_changes WHERE seq > 1)');
    open.enter();
    await checkNow();
    // A request is in flight: left open (and unchanged) until it is done.
    expect(open.closed).toBe(false);
    expect(open.size).toBe(40);
    open.leave();
    await checkNow();
    expect(open.closed).toBe(true);
    const reloaded = await openOnB();
    expect(reloaded.size).toBe(46);
    expect(await memoryOf(reloaded)).toEqual(await storeOf());
  });
});
