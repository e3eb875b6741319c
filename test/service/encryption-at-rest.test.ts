// What reaches storage, on both stores: no id, content, metadata key or value, vector byte or
// index key in plaintext anywhere (SQLite database, WAL and shared-memory files; every PostgreSQL
// row), and any altered, truncated, swapped or moved record fails to open with a typed error.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, InvalidIndexKeyError } from '../../src/service/errors.js';
import type { ItemInput } from '../../src/service/types.js';
import { seededRandom, seededVectors } from './reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from './service-harness.js';
import { rejection } from '../support/rejection.js';

const DIM = 16;

function float32Bytes(values: ArrayLike<number>): Buffer {
  return Buffer.from(Float32Array.from(values).buffer);
}

/** Needles a leak would expose: the strings as UTF-8, the vectors as float32 bytes and as decimal text. */
function needlesOf(items: ItemInput[], key: string): { label: string; bytes: Buffer }[] {
  const needles: { label: string; bytes: Buffer }[] = [];
  const text = (label: string, value: string) => needles.push({ label, bytes: Buffer.from(value, 'utf8') });
  const keyBytes = Buffer.from(key, 'base64');
  needles.push({ label: 'index key bytes', bytes: keyBytes });
  text('index key base64', key);
  text('index key hex', keyBytes.toString('hex'));
  for (const item of items) {
    text(`id ${item.id}`, item.id);
    text(`contents of ${item.id}`, item.contents!);
    for (const [field, value] of Object.entries(item.metadata!)) {
      text(`metadata key ${field}`, field);
      text(`metadata value ${String(value)}`, String(value));
    }
    const vector = Array.from(item.vector);
    needles.push({ label: `vector of ${item.id}`, bytes: float32Bytes(vector) });
    // Every pair of neighbouring components: 8 bytes cannot match random ciphertext by chance.
    for (let i = 0; i + 1 < vector.length; i++) needles.push({ label: `vector of ${item.id} [${i}..${i + 1}]`, bytes: float32Bytes(vector.slice(i, i + 2)) });
    text(`vector text of ${item.id}`, String(vector[0]));
  }
  return needles;
}

function leaks(haystacks: Buffer[], needles: { label: string; bytes: Buffer }[]): string[] {
  return needles.filter((needle) => haystacks.some((hay) => hay.includes(needle.bytes))).map((needle) => needle.label);
}

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;

  beforeEach(async () => {
    harness = await fresh();
  });

  afterEach(async () => {
    await harness.dispose();
  });

  describe('encryption at rest', () => {
    it('stores no id, contents, metadata, vector or key in plaintext', async () => {
      const key = newKey();
      const tag = randomBytes(4).toString('hex');
      const random = seededRandom(42);
      // Distinctive vectors: values no page header or counter would contain by chance.
      const items: ItemInput[] = Array.from({ length: 40 }, (_, i) => ({
        id: `needle-id-${tag}-${i}`,
        vector: Array.from({ length: DIM }, () => Math.fround(1000 + random() * 9000)),
        contents: `needle contents ${tag} number ${i}: the quick brown fox`,
        metadata: { [`needleKey${tag}`]: `needle-value-${tag}-${i}`, [`needleNumber${tag}`]: 987654 + i * 1001 },
      }));
      const service = await harness.service();
      const indexName = `plain-name-${tag}`;
      await service.createIndex(indexName, key, { dimension: DIM, nLists: 2 });
      await service.upsert(indexName, key, items.slice(0, 30));
      await service.upsert(indexName, key, items.slice(30));
      // Replacements and deletions leave old versions in free pages and the WAL: those count too.
      await service.upsert(indexName, key, items.slice(0, 5));
      await service.delete(indexName, key, items.slice(35).map((item) => item.id));
      await service.train(indexName, key, { wait: true });
      const needles = needlesOf(items, key);

      const whileOpen = await harness.rawBytes();
      // The scan sees what is stored: the index name is plaintext by design, and sealed records are there.
      expect(leaks(whileOpen, [{ label: 'index name', bytes: Buffer.from(indexName) }])).toEqual(['index name']);
      const [someRecord] = await harness.rawItems(indexName);
      expect(whileOpen.some((hay) => hay.includes(someRecord.sealed))).toBe(true);
      expect(leaks(whileOpen, needles)).toEqual([]);

      await service.close();
      expect(leaks(await harness.rawBytes(), needles)).toEqual([]);
    });

    it('keeps even the index configuration sealed', async () => {
      const key = newKey();
      const service = await harness.service();
      await service.createIndex('docs', key, { dimension: 1234, metric: 'squared_euclidean', nLists: 77 });
      const config = (await harness.rawIndexColumn('docs', 'sealed_config'))!;
      // Needles of three bytes or more: a two-byte one ('77') turns up in random ciphertext about once in 500 runs.
      for (const needle of ['1234', 'squared_euclidean', 'ivf_flat', 'nLists', ':77']) expect(config.includes(Buffer.from(needle))).toBe(false);
      expect(leaks(await harness.rawBytes(), [{ label: 'metric', bytes: Buffer.from('squared_euclidean') }])).toEqual([]);
    });
  });

  describe('tamper detection', () => {
    const key = newKey();
    const items: ItemInput[] = seededVectors(12, DIM, 5).map((vector, i) => ({ id: `item-${i}`, vector, contents: `c${i}`, metadata: { i } }));

    async function seeded(): Promise<void> {
      const service = await harness.service();
      await service.createIndex('docs', key, { dimension: DIM });
      await service.upsert('docs', key, items);
      await service.close();
    }

    /** A fresh service has nothing cached: opening the index reads and authenticates every record. */
    async function openFresh(): Promise<unknown> {
      const service = await harness.service();
      return rejection(service.search('docs', key, [items[0].vector]));
    }

    it('refuses a record with one flipped bit', async () => {
      await seeded();
      const [row] = await harness.rawItems('docs');
      const altered = Buffer.from(row.sealed);
      altered[altered.length >> 1] ^= 0x01;
      await harness.setSealed('docs', row.token, altered);
      const error = await openFresh();
      expect(error).toBeInstanceOf(IntegrityError);
      expect((error as IntegrityError).message).toMatch(/item record of index "docs"/);
    });

    it('refuses a truncated record', async () => {
      await seeded();
      const [row] = await harness.rawItems('docs');
      await harness.setSealed('docs', row.token, row.sealed.subarray(0, row.sealed.length - 1));
      expect(await openFresh()).toBeInstanceOf(IntegrityError);
    });

    it('refuses two records whose sealed bytes were swapped', async () => {
      await seeded();
      const [a, b] = await harness.rawItems('docs');
      await harness.setSealed('docs', a.token, b.sealed);
      await harness.setSealed('docs', b.token, a.sealed);
      expect(await openFresh()).toBeInstanceOf(IntegrityError);
    });

    it('refuses a record copied from another index under the same key', async () => {
      await seeded();
      const service = await harness.service();
      await service.createIndex('other', key, { dimension: DIM });
      await service.upsert('other', key, [{ id: 'item-0', vector: items[1].vector }]);
      await service.close();
      const [foreign] = await harness.rawItems('other');
      const [target] = await harness.rawItems('docs');
      await harness.setSealed('docs', target.token, foreign.sealed);
      expect(await openFresh()).toBeInstanceOf(IntegrityError);
    });

    it('refuses an altered configuration or model, and a wrapped key that no longer unwraps', async () => {
      await seeded();
      const trainer = await harness.service();
      await trainer.train('docs', key, { nLists: 2, wait: true });
      await trainer.close();
      for (const column of ['sealed_config', 'sealed_model'] as const) {
        const original = (await harness.rawIndexColumn('docs', column))!;
        const altered = Buffer.from(original);
        altered[altered.length - 1] ^= 0x80;
        await harness.setIndexColumn('docs', column, altered);
        const error = await openFresh();
        expect(error, column).toBeInstanceOf(IntegrityError);
        expect((error as IntegrityError).message).toMatch(column === 'sealed_config' ? /configuration/ : /model/);
        await harness.setIndexColumn('docs', column, original);
      }
      const wrapped = (await harness.rawIndexColumn('docs', 'wrapped_data_key'))!;
      const altered = Buffer.from(wrapped);
      altered[0] ^= 0x01;
      await harness.setIndexColumn('docs', 'wrapped_data_key', altered);
      expect(await openFresh()).toBeInstanceOf(InvalidIndexKeyError);
      await harness.setIndexColumn('docs', 'wrapped_data_key', wrapped);
      // Restored bytes open again: the refusals above came from the alterations alone.
      const service = await harness.service();
      expect((await service.search('docs', key, [items[3].vector], { topK: 1 }))[0].hits[0].id).toBe('item-3');
    });
  });
});
