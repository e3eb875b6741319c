// Sealing in worker threads produces exactly what the main thread would: the same tokens, and
// records that open with the index's cipher under the same associated data. Large upserts use
// them, and a service without workers stores the same items.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IndexCipher, generateDataKey } from '../../../src/crypto/index.js';
import { itemAad } from '../../../src/service/records/associated-data.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import { decodeItem } from '../../../src/service/records/item-codec.js';
import { ITEM_TOKEN_DOMAIN } from '../../../src/service/records/item-token.js';
import { AcceptedKeys } from '../../../src/service/open/accepted-keys.js';
import { OpenIndex, WORKER_SEAL_MIN_ITEMS } from '../../../src/service/open/open-index.js';
import { SealWorkers } from '../../../src/service/sealing/seal-workers.js';
import { seededVectors } from '../reference-search.js';
import { newKey, serviceConfig } from '../service-harness.js';

const pools: SealWorkers[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function items(n: number) {
  return seededVectors(n, 4, 1).map((vector, i) => ({
    id: `item-${i}`,
    vector: Float32Array.from(vector),
    contents: i % 2 ? `contents ${i}` : null,
    metadataJson: i % 3 ? JSON.stringify({ i }) : null,
  }));
}

describe('SealWorkers', () => {
  it('seals records the main thread opens, with the main thread tokens', async () => {
    const pool = new SealWorkers(2);
    pools.push(pool);
    const dataKey = generateDataKey();
    const cipher = new IndexCipher(dataKey);
    const handle = pool.register('docs', dataKey);
    const batch = items(50);
    const revisions = Uint32Array.from(batch, (_, i) => i * 1000);
    // Two calls land on both workers (round robin).
    const [first, second] = await Promise.all([pool.seal(handle, batch.slice(0, 25), revisions.subarray(0, 25)), pool.seal(handle, batch.slice(25), revisions.subarray(25))]);
    const tokens = [...first.tokens, ...second.tokens];
    const sealed = [...first.sealed, ...second.sealed];
    batch.forEach((item, i) => {
      expect(tokens[i].equals(cipher.token(ITEM_TOKEN_DOMAIN, item.id))).toBe(true);
      const decoded = decodeItem(cipher.open(sealed[i], itemAad('docs', tokens[i])));
      expect(decoded).toEqual({ id: item.id, revision: i * 1000, vector: item.vector, contents: item.contents, metadata: item.metadataJson === null ? null : JSON.parse(item.metadataJson) });
    });
  });

  it('refuses indexes it does not know, after unregister, and after close', async () => {
    const pool = new SealWorkers(1);
    pools.push(pool);
    const handle = pool.register('docs', generateDataKey());
    await expect(pool.seal(handle + 1, items(1), new Uint32Array(1))).rejects.toThrow(/not available/);
    await pool.seal(handle, items(1), new Uint32Array(1));
    pool.unregister(handle);
    await expect(pool.seal(handle, items(1), new Uint32Array(1))).rejects.toThrow(/not available/);
    const other = pool.register('other', generateDataKey());
    await pool.close();
    await expect(pool.seal(other, items(1), new Uint32Array(1))).rejects.toThrow(/not available/);
  });

  it('with no workers, seals nothing (callers seal inline)', async () => {
    const pool = new SealWorkers(0);
    const handle = pool.register('docs', randomBytes(32));
    await expect(pool.seal(handle, items(1), new Uint32Array(1))).rejects.toThrow(/not available/);
  });

  it('serves large upserts through the service, readable after a restart, with or without workers', async () => {
    const key = newKey();
    const n = WORKER_SEAL_MIN_ITEMS * 3 + 7;
    const batch = seededVectors(n, 8, 2).map((vector, i) => ({ id: `doc-${i}`, vector, contents: `c${i}`, metadata: { i } }));
    for (const sealWorkers of [2, 0]) {
      const dir = mkdtempSync(join(tmpdir(), 'cipherdex-seal-'));
      dirs.push(dir);
      const config = serviceConfig({ CIPHERDEX_DATA_DIR: dir });
      const service = await createIndexService(config, { sealWorkers });
      await service.createIndex('docs', key, { dimension: 8 });
      await service.upsert('docs', key, batch);
      await service.close();
      const reopened = await createIndexService(config, { sealWorkers: 0 });
      expect(await reopened.get('docs', key, batch.map((item) => item.id))).toEqual(batch);
      expect(await reopened.listIds('docs', key)).toHaveLength(n);
      await reopened.close();
    }
  });
});

describe('OpenIndex.prepare with sealing workers', () => {
  function openIndex(pool: SealWorkers, register = true) {
    const dataKey = generateDataKey();
    const cipher = new IndexCipher(dataKey);
    const handle = register ? pool.register('docs', dataKey) : 999;
    const open = new OpenIndex('docs', { dimension: 4, metric: 'euclidean', type: 'ivf_flat', nLists: null }, new Date(), cipher, new AcceptedKeys('docs', Buffer.alloc(60)), { workers: pool, handle });
    return { open, cipher: new IndexCipher(dataKey) };
  }

  function valid(n: number) {
    return items(n).map((item) => ({ ...item, metadata: item.metadataJson === null ? null : JSON.parse(item.metadataJson) }));
  }

  it('seals a batch wholly in the workers, in order, and every record opens', async () => {
    const pool = new SealWorkers(2);
    pools.push(pool);
    const { open, cipher } = openIndex(pool);
    const batch = valid(WORKER_SEAL_MIN_ITEMS * 2 + 5);
    const prepared = await open.prepare(batch);
    expect(pool.sealedItems).toBe(batch.length);
    expect(prepared.map((p) => p.record.id)).toEqual(batch.map((item) => item.id));
    for (const { stored, record } of prepared) {
      expect(stored.token.equals(cipher.token(ITEM_TOKEN_DOMAIN, record.id))).toBe(true);
      expect(decodeItem(cipher.open(stored.sealed, itemAad('docs', stored.token))).revision).toBe(record.revision);
    }
    // Too small for a round trip: sealed on the calling thread.
    const small = await open.prepare(valid(WORKER_SEAL_MIN_ITEMS - 1));
    expect(small).toHaveLength(WORKER_SEAL_MIN_ITEMS - 1);
    expect(pool.sealedItems).toBe(batch.length);
  });

  it('seals a failed worker share on the calling thread', async () => {
    const pool = new SealWorkers(1);
    pools.push(pool);
    const { open, cipher } = openIndex(pool, false);
    const prepared = await open.prepare(valid(WORKER_SEAL_MIN_ITEMS * 2));
    expect(pool.sealedItems).toBe(0);
    expect(prepared).toHaveLength(WORKER_SEAL_MIN_ITEMS * 2);
    for (const { stored } of prepared) expect(() => cipher.open(stored.sealed, itemAad('docs', stored.token))).not.toThrow();
  });
});
