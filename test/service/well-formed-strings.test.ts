// Strings that are not well-formed UTF-16 (a lone surrogate) have no UTF-8 form: the store would
// keep U+FFFD where memory kept the surrogate, so two such ids would be one item in the store and
// two in memory, and a restart would lose an acknowledged write. They are refused with a
// ValidationError wherever a string is stored (ids, contents, metadata keys and values), and
// memory and store never disagree on the id set, whatever the ids (property test, both stores).

import fc from 'fast-check';
import { afterEach, expect, it } from 'vitest';
import { ValidationError } from '../../src/service/errors.js';
import { forEachStore, newKey, type ServiceStoreHarness } from './service-harness.js';

const VECTOR = [0.5, -0.25, 1];

forEachStore((fresh) => {
  let store: ServiceStoreHarness;
  afterEach(async () => {
    await store.dispose();
  });

  it('refuses lone surrogates in ids, contents and metadata, naming where and changing nothing', async () => {
    store = await fresh();
    const service = await store.service();
    const key = newKey();
    await service.createIndex('docs', key, { dimension: 3 });
    for (const [items, argument] of [
      [[{ id: 'lone\ud800x', vector: VECTOR }], 'items[0].id'],
      [[{ id: 'fine', vector: VECTOR }, { id: 'lone\udbffx', vector: VECTOR }], 'items[1].id'],
      [[{ id: 'fine', vector: VECTOR, contents: 'half a pair \udc00' }], 'items[0].contents'],
      [[{ id: 'fine', vector: VECTOR, metadata: { tag: ['ok', 'x\ud800'] } }], 'items[0].metadata[key 0][1]'],
      [[{ id: 'fine', vector: VECTOR, metadata: { ok: 1, ['k\udfff']: 1 } }], 'items[0].metadata[key 1]'],
    ] as const) {
      const error = await service.upsert('docs', key, items as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).argument).toBe(argument);
      expect((error as ValidationError).message).toMatch(/well-formed UTF-16/);
    }
    for (const call of [() => service.get('docs', key, ['lone\ud800x']), () => service.delete('docs', key, ['ok', 'lone\udbffx'])]) {
      await expect(call()).rejects.toBeInstanceOf(ValidationError);
    }
    expect(await service.listIds('docs', key)).toEqual([]);
    // Well-formed pairs (emoji) are fine.
    await service.upsert('docs', key, [{ id: 'smile \ud83d\ude00', vector: VECTOR, contents: '\ud83d\ude00', metadata: { '\ud83d\ude00': '\ud83d\ude00' } }]);
    expect(await service.listIds('docs', key)).toEqual(['smile \ud83d\ude00']);
  });

  it('never lets memory and store disagree on the id set across a restart (property)', async () => {
    store = await fresh();
    const key = newKey();
    let service = await store.service();
    await service.createIndex('ids', key, { dimension: 3 });
    const accepted = new Set<string>();
    // Any UTF-16 code units, lone surrogates included, and the two ids of the original report.
    const codeUnits = fc.oneof(fc.integer({ min: 0xd800, max: 0xdfff }), fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0, max: 0xffff }));
    const id = fc.oneof(fc.array(codeUnits, { minLength: 1, maxLength: 6 }).map((units) => String.fromCharCode(...units)), fc.constantFrom('lone\ud800x', 'lone\udbffx'));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(id, { minLength: 1, maxLength: 5 }), async (ids) => {
        try {
          await service.upsert('ids', key, ids.map((each) => ({ id: each, vector: VECTOR })));
          for (const each of ids) accepted.add(each);
        } catch (error) {
          expect(error).toBeInstanceOf(ValidationError);
        }
      }),
      { numRuns: 60 },
    );
    const inMemory = new Set(await service.listIds('ids', key));
    expect(inMemory).toEqual(accepted);
    await service.close();
    service = await store.service();
    expect(new Set(await service.listIds('ids', key))).toEqual(accepted);
  });
});
