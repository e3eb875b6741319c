// CIPHERDEX_PAD_RECORDS (default on): every sealed item record in the store is a whole number of
// 64-byte buckets long, whether sealed inline or by the sealing workers, so the store sees
// lengths rounded up instead of each item's exact contents and metadata sizes. Off, lengths are
// exact. Records written either way read back the same. Both stores.
import { afterEach, expect, it } from 'vitest';
import { RECORD_BUCKET_BYTES } from '../../src/service/records/item-codec.js';
import { forEachStore, newKey, type ServiceStoreHarness } from './service-harness.js';

const DIM = 5;
/** Contents of every length from 0 to 99 bytes, so exact record lengths would all differ. */
const items = (count: number, offset = 0) =>
  Array.from({ length: count }, (_, i) => ({
    id: `item-${offset + i}`,
    vector: Array.from({ length: DIM }, (_, d) => Math.sin(i + d)),
    contents: 'x'.repeat((offset + i) % 100),
    metadata: (offset + i) % 3 === 0 ? { n: i, tag: 'y'.repeat(i % 17) } : undefined,
  }));

forEachStore((fresh) => {
  let store: ServiceStoreHarness;
  afterEach(async () => {
    await store.dispose();
  });

  it('pads every sealed record to 64-byte buckets by default (inline and worker sealing), and reads them back', async () => {
    store = await fresh();
    const service = await store.service({}, { sealWorkers: 1 });
    const key = newKey();
    await service.createIndex('padded', key, { dimension: DIM });
    await service.upsert('padded', key, items(100));
    // A batch large enough to be shared with the sealing workers.
    await service.upsert('padded', key, items(3000, 100));
    const lengths = (await store.rawItems('padded')).map((item) => item.sealed.length);
    expect(lengths).toHaveLength(3100);
    expect(lengths.filter((length) => length % RECORD_BUCKET_BYTES !== 0)).toEqual([]);
    expect(new Set(lengths).size).toBeLessThan(5);
    const before = await service.get('padded', key, ['item-7', 'item-99', 'item-2500']);
    await service.close();
    const restarted = await store.service();
    expect(await restarted.get('padded', key, ['item-7', 'item-99', 'item-2500'])).toEqual(before);
    expect(before[0]).toMatchObject({ id: 'item-7', contents: 'xxxxxxx' });
  });

  it('keeps exact lengths with CIPHERDEX_PAD_RECORDS=false, and both kinds of record read back together', async () => {
    store = await fresh();
    const exact = await store.service({ padRecords: false });
    const key = newKey();
    await exact.createIndex('mixed', key, { dimension: DIM });
    await exact.upsert('mixed', key, items(100));
    const lengths = (await store.rawItems('mixed')).map((item) => item.sealed.length);
    expect(new Set(lengths).size).toBeGreaterThan(50);
    await exact.close();
    const padded = await store.service();
    await padded.upsert('mixed', key, items(10, 100));
    const back = await padded.get('mixed', key, ['item-5', 'item-105']);
    expect(back.map((item) => item.contents)).toEqual(['xxxxx', 'xxxxx']);
    expect((await padded.listIds('mixed', key)).length).toBe(110);
  });
});
