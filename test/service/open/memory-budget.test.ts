// The server-wide memory budget (CIPHERDEX_MEMORY_BUDGET_MB): opening an index past it evicts idle
// indexes first; an open or an upsert that still cannot fit is refused with
// InsufficientResourcesError, and a refused upsert changes nothing (in memory, in the store, after
// a restart), while everything acknowledged before stays.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { IndexKeyCredential } from '../../../src/service/access/credentials.js';
import { InsufficientResourcesError } from '../../../src/service/errors.js';
import { parseKeyArgument } from '../../../src/service/input/input-validation.js';
import { IndexCache } from '../../../src/service/open/index-cache.js';
import type { ItemInput } from '../../../src/service/types.js';
import { seededVectors } from '../reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from '../service-harness.js';
import { rejection } from '../../support/rejection.js';

const DIM = 32;
const COUNT = 2000;

function itemsOf(prefix: string, n: number, seed: number): ItemInput[] {
  return seededVectors(n, DIM, seed).map((vector, i) => ({ id: `${prefix}-${i}`, vector, metadata: { i } }));
}

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  const key = newKey();
  /** What one of the two indexes holds open, measured without a budget. */
  let oneIndexBytes: number;

  beforeEach(async () => {
    harness = await fresh();
    const setup = await harness.service();
    for (const [name, seed] of [['a', 1], ['b', 2]] as const) {
      await setup.createIndex(name, key, { dimension: DIM });
      await setup.upsert(name, key, itemsOf(name, COUNT, seed));
    }
    await setup.close();
    const measure = await harness.service();
    await measure.describeIndex('a', key);
    oneIndexBytes = measure.residentMemory().bytes;
    await measure.close();
    expect(oneIndexBytes).toBeGreaterThan(COUNT * DIM * 4);
  });

  afterEach(async () => {
    await harness.dispose();
  });

  it('evicts an idle index to open another when both do not fit, and loses nothing', async () => {
    const service = await harness.service({ memoryBudgetBytes: Math.floor(oneIndexBytes * 1.5) });
    await service.describeIndex('a', key);
    expect(service.residentIndexes()).toEqual(['a']);
    await service.describeIndex('b', key);
    expect(service.residentIndexes()).toEqual(['b']);
    // Reopened, the evicted index has everything it acknowledged.
    expect(await service.count('a', key)).toBe(COUNT);
    expect(service.residentIndexes()).toEqual(['a']);
  });

  it('refuses to open an index that cannot fit even alone, keeping nothing of it in memory', async () => {
    const service = await harness.service({ memoryBudgetBytes: Math.floor(oneIndexBytes / 2) });
    const error = await rejection(service.describeIndex('a', key));
    expect(error).toBeInstanceOf(InsufficientResourcesError);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_RESOURCES' });
    expect((error as InsufficientResourcesError).requiredBytes).toBeGreaterThan(oneIndexBytes / 2);
    expect(service.residentIndexes()).toEqual([]);
  });

  it('refuses an upsert that cannot fit, changing nothing, and accepts one that fits', async () => {
    const service = await harness.service({ memoryBudgetBytes: Math.floor(oneIndexBytes * 1.5) });
    const before = await service.get('b', key, ['b-7']);
    const tooMany = itemsOf('new', COUNT, 3);
    // Replacing b-7 is part of the refused batch: it must keep its old vector.
    tooMany[0] = { id: 'b-7', vector: Array(DIM).fill(9), metadata: { replaced: true } };
    const error = await rejection(service.upsert('b', key, tooMany));
    expect(error).toBeInstanceOf(InsufficientResourcesError);
    expect(await service.count('b', key)).toBe(COUNT);
    expect(await service.get('b', key, ['b-7', 'new-1'])).toEqual(before);
    // A small batch still fits.
    expect((await service.upsert('b', key, itemsOf('small', 10, 4))).upsertedCount).toBe(10);
    await service.close();
    const restarted = await harness.service();
    expect(await restarted.count('b', key)).toBe(COUNT + 10);
    expect(await restarted.get('b', key, ['b-7', 'new-1'])).toEqual(before);
  });

  it('makes room for an upsert by evicting idle indexes', async () => {
    const service = await harness.service({ memoryBudgetBytes: Math.floor(oneIndexBytes * 2.2) });
    await service.describeIndex('a', key);
    await service.describeIndex('b', key);
    expect(service.residentIndexes().sort()).toEqual(['a', 'b']);
    await service.upsert('b', key, itemsOf('more', COUNT / 2, 5));
    expect(service.residentIndexes()).toEqual(['b']);
    expect(await service.count('b', key)).toBe(COUNT + COUNT / 2);
  });
});

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  const key = newKey();

  beforeEach(async () => {
    harness = await fresh();
  });

  afterEach(async () => {
    await harness.dispose();
  });

  it('makes the vector cache, which upserts to codes-only indexes fill, give way before refusing or evicting', async () => {
    const setup = await harness.service();
    await setup.createIndex('sq', key, { dimension: DIM, type: 'ivf_sq8' });
    await setup.upsert('sq', key, itemsOf('base', 200, 5));
    await setup.close();
    const store = await harness.openStore();
    const cache = new IndexCache({ store, idleEvictMs: 600_000, memoryBudgetBytes: 16 << 20, vectorCacheBytes: 64 << 20 });
    try {
      const open = await cache.acquire('sq', new IndexKeyCredential(parseKeyArgument(key)));
      const vectors = cache.storedItems.vectors;
      for (let slot = 0; slot < 100_000; slot++) vectors.set(999, slot, new Float32Array(DIM).fill(slot));
      expect(vectors.bytes).toBeGreaterThan(12 << 20);
      const resident = cache.residentMemory().bytes;
      // 4 MiB more for the index: the cache gives back what it must, the oldest first, and no more.
      cache.reserve(open, 4 << 20, 'This upsert');
      expect(resident + vectors.bytes + (4 << 20)).toBeLessThanOrEqual(16 << 20);
      expect(vectors.bytes).toBeGreaterThan((16 << 20) - (4 << 20) - resident - 512 * 1024);
      expect(vectors.get(999, 99_999)).toEqual(new Float32Array(DIM).fill(99_999));
      expect(vectors.get(999, 0)).toBeUndefined();
      expect(cache.loaded('sq')).toBe(open);
    } finally {
      await cache.close();
      await store.close();
    }
  });
});
