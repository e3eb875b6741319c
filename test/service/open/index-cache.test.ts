// Open indexes in memory: one load shared by concurrent first requests, plaintext dropped after
// the idle period (but not while a request or training run holds the index), reloaded on demand.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { InvalidIndexKeyError } from '../../../src/service/errors.js';
import type { Store } from '../../../src/storage/index.js';
import { seededVectors } from '../reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from '../service-harness.js';

const DIM = 8;

/** The real store, counting how often an index is read in full (that is: loaded). */
function countingLoads(store: Store): { store: Store; loads: () => number } {
  let loads = 0;
  // A proxy, not a subclass: the stores keep their state in private fields, so calls go to the real instance.
  const counted = new Proxy(store, {
    get(target, property) {
      if (property === 'scanItems') {
        return (index: string, pageSize?: number) => {
          loads++;
          return target.scanItems(index, pageSize);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, loads: () => loads };
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  let store: Store;
  const key = newKey();
  const items = seededVectors(50, DIM, 3).map((vector, i) => ({ id: `item-${i}`, vector, metadata: { i } }));

  beforeEach(async () => {
    harness = await fresh();
    store = await harness.openStore();
    const setup = await harness.service({}, { store });
    await setup.createIndex('docs', key, { dimension: DIM });
    await setup.upsert('docs', key, items);
    await setup.close();
  });

  afterEach(async () => {
    await harness.dispose();
    await store.close();
  });

  it('loads an index once for concurrent first requests, then serves from memory', async () => {
    const { store: counted, loads } = countingLoads(store);
    const service = await harness.service({}, { store: counted });
    const answers = await Promise.all([
      service.search('docs', key, [items[4].vector], { topK: 1 }),
      service.get('docs', key, ['item-9']),
      service.listIds('docs', key),
      service.describeIndex('docs', key),
      service.search('docs', key, [items[7].vector], { topK: 1 }),
    ]);
    expect(loads()).toBe(1);
    expect(answers[0][0].hits[0].id).toBe('item-4');
    expect(answers[4][0].hits[0].id).toBe('item-7');
    for (let i = 0; i < 5; i++) await service.search('docs', key, [items[i].vector], { topK: 1 });
    expect(loads()).toBe(1);
    expect(service.residentIndexes()).toEqual(['docs']);
  });

  it('lets a wrong key wait for a shared load and still refuses it', async () => {
    const { store: counted, loads } = countingLoads(store);
    const service = await harness.service({}, { store: counted });
    const [right, wrong] = await Promise.allSettled([service.listIds('docs', key), service.listIds('docs', newKey())]);
    expect(right.status === 'fulfilled' && right.value.length).toBe(50);
    expect(wrong.status === 'rejected' && wrong.reason).toBeInstanceOf(InvalidIndexKeyError);
    expect(loads()).toBe(1);
  });

  it('drops plaintext after the idle period and reloads it on the next request', async () => {
    const { store: counted, loads } = countingLoads(store);
    const service = await harness.service({ idleEvictMs: 150 }, { store: counted });
    const before = await service.search('docs', key, [items[11].vector], { topK: 3, include: ['metadata'] });
    expect(service.residentIndexes()).toEqual(['docs']);
    await until(() => service.residentIndexes().length === 0, 'idle eviction');
    expect(loads()).toBe(1);
    // A wrong key after eviction is refused without loading anything.
    await expect(service.search('docs', newKey(), [items[11].vector])).rejects.toBeInstanceOf(InvalidIndexKeyError);
    expect(loads()).toBe(1);
    const after = await service.search('docs', key, [items[11].vector], { topK: 3, include: ['metadata'] });
    expect(loads()).toBe(2);
    expect(after).toEqual(before);
    expect(service.residentIndexes()).toEqual(['docs']);
  });

  it('keeps an index loaded while it is used more often than the idle period', async () => {
    const { store: counted, loads } = countingLoads(store);
    const service = await harness.service({ idleEvictMs: 200 }, { store: counted });
    const started = Date.now();
    while (Date.now() - started < 600) {
      await service.get('docs', key, ['item-1']);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(loads()).toBe(1);
  });

  it('keeps an index loaded while a training run holds it', async () => {
    const { store: counted, loads } = countingLoads(store);
    const service = await harness.service({ idleEvictMs: 100 }, { store: counted });
    const run = await service.train('docs', key, { nLists: 2 });
    // The run holds the index however long it takes; once it ends, eviction resumes.
    const final = await service.waitForRun(run.runId);
    expect(final.phase).toBe('COMPLETED');
    expect(loads()).toBe(1);
    await until(() => service.residentIndexes().length === 0, 'idle eviction after training');
    expect((await service.describeIndex('docs', key)).isTrained).toBe(true);
    expect(loads()).toBe(2);
  });
});
