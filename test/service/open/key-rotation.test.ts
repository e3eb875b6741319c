// rotateIndexKey: re-wraps the data key under a new index key; the old key is refused from then
// on, even where it was remembered as accepted; nothing else changes. A fault injected before or
// after the store's commit leaves exactly one of the two keys valid, in the same process and after
// a restart. Both stores.
import { afterEach, expect, it } from 'vitest';
import { IndexNotFoundError, InvalidIndexKeyError, StoreUnavailableError, ValidationError } from '../../../src/service/errors.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import type { Store } from '../../../src/storage/index.js';
import { forEachStore, newKey, type ServiceStoreHarness } from '../service-harness.js';

const ITEMS = Array.from({ length: 50 }, (_, i) => ({ id: `doc-${i}`, vector: [i, 1, -i], contents: `text ${i}` }));

/** Which of `keys` open the index, by describing it with each. */
async function validKeys(service: CipherdexIndexService, keys: Record<string, string>): Promise<string[]> {
  const valid: string[] = [];
  for (const [label, key] of Object.entries(keys)) {
    try {
      expect((await service.describeIndex('docs', key)).vectorCount).toBe(ITEMS.length);
      valid.push(label);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidIndexKeyError);
    }
  }
  return valid;
}

/** The store with a fault at the rotation's commit: thrown before it runs, or after it committed. */
function faultyStore(inner: Store, when: 'before-commit' | 'after-commit'): Store {
  const ioError = (): Error => Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property !== 'replaceWrappedDataKey') {
        const value = Reflect.get(target, property, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async (...args: Parameters<Store['replaceWrappedDataKey']>) => {
        if (when === 'before-commit') throw ioError();
        await target.replaceWrappedDataKey(...args);
        throw ioError();
      };
    },
  });
}

forEachStore((fresh) => {
  let store: ServiceStoreHarness;
  afterEach(async () => {
    await store.dispose();
  });

  it('moves the index to the new key: the old one is refused, even where it was remembered, and the data is unchanged', async () => {
    store = await fresh();
    const service = await store.service();
    const [oldKey, newKeyValue] = [newKey(), newKey()];
    await service.createIndex('docs', oldKey, { dimension: 3 });
    await service.upsert('docs', oldKey, ITEMS);
    // Open and accepted: the old key is remembered by the open index.
    const before = await service.get('docs', oldKey, ['doc-7']);
    const wrappedBefore = await store.rawIndexColumn('docs', 'wrapped_data_key');

    const rotated = await service.rotateIndexKey('docs', oldKey, newKeyValue);
    expect(rotated.vectorCount).toBe(ITEMS.length);
    expect(await validKeys(service, { oldKey, newKeyValue })).toEqual(['newKeyValue']);
    await expect(service.get('docs', oldKey, ['doc-7'])).rejects.toBeInstanceOf(InvalidIndexKeyError);
    await expect(service.upsert('docs', oldKey, ITEMS.slice(0, 1))).rejects.toBeInstanceOf(InvalidIndexKeyError);
    await expect(service.deleteIndex('docs', oldKey)).rejects.toBeInstanceOf(InvalidIndexKeyError);
    expect(await service.get('docs', newKeyValue, ['doc-7'])).toEqual(before);
    expect(await store.rawIndexColumn('docs', 'wrapped_data_key')).not.toEqual(wrappedBefore);

    // After a restart too, and the items (sealed under the unchanged data key) still open.
    await service.close();
    const restarted = await store.service();
    expect(await validKeys(restarted, { oldKey, newKeyValue })).toEqual(['newKeyValue']);
    expect(await restarted.get('docs', newKeyValue, ['doc-7'])).toEqual(before);
    // And back again.
    await restarted.rotateIndexKey('docs', newKeyValue, oldKey);
    expect(await validKeys(restarted, { oldKey, newKeyValue })).toEqual(['oldKey']);
  });

  it('answers typed errors and changes nothing: wrong key, unknown index, malformed or unchanged new key', async () => {
    store = await fresh();
    const service = await store.service();
    const key = newKey();
    await service.createIndex('docs', key, { dimension: 3 });
    await service.upsert('docs', key, ITEMS);
    const wrapped = await store.rawIndexColumn('docs', 'wrapped_data_key');
    await expect(service.rotateIndexKey('docs', newKey(), newKey())).rejects.toBeInstanceOf(InvalidIndexKeyError);
    await expect(service.rotateIndexKey('nope', key, newKey())).rejects.toBeInstanceOf(IndexNotFoundError);
    const malformed = await service.rotateIndexKey('docs', key, 'short').catch((error: unknown) => error);
    expect(malformed).toBeInstanceOf(ValidationError);
    expect((malformed as ValidationError).argument).toBe('newKey');
    await expect(service.rotateIndexKey('docs', key, key)).rejects.toBeInstanceOf(ValidationError);
    expect(await store.rawIndexColumn('docs', 'wrapped_data_key')).toEqual(wrapped);
    expect(await validKeys(service, { key })).toEqual(['key']);
  });

  for (const when of ['before-commit', 'after-commit'] as const) {
    it(`leaves exactly one key valid when the store faults ${when.replace('-', ' the ')}, in the process and after a restart`, async () => {
      store = await fresh();
      const setup = await store.service();
      const [oldKey, newKeyValue] = [newKey(), newKey()];
      await setup.createIndex('docs', oldKey, { dimension: 3 });
      await setup.upsert('docs', oldKey, ITEMS);
      await setup.close();

      const service = await store.service({}, { store: faultyStore(await store.openStore(), when) });
      // Loaded, with the old key remembered as accepted.
      await service.describeIndex('docs', oldKey);
      await expect(service.rotateIndexKey('docs', oldKey, newKeyValue)).rejects.toBeInstanceOf(StoreUnavailableError);
      const expected = when === 'before-commit' ? ['oldKey'] : ['newKeyValue'];
      expect(await validKeys(service, { oldKey, newKeyValue })).toEqual(expected);
      await service.close();

      const restarted = await store.service();
      expect(await validKeys(restarted, { oldKey, newKeyValue })).toEqual(expected);
    });
  }

  it('lets exactly one of two racing rotations win', async () => {
    store = await fresh();
    const [a, b] = [await store.service(), await store.service()];
    const key = newKey();
    await a.createIndex('docs', key, { dimension: 3 });
    await a.upsert('docs', key, ITEMS);
    const [first, second] = [newKey(), newKey()];
    const outcomes = await Promise.allSettled([a.rotateIndexKey('docs', key, first), b.rotateIndexKey('docs', key, second)]);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    const restarted = await store.service();
    expect(await validKeys(restarted, { key, first, second })).toHaveLength(1);
  });
});

