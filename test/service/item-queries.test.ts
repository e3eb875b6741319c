// Looking inside an index and changing it in bulk, on both stores: browse (sealed cursors, stable
// order), count, delete by filter, update by JSON merge patch, and the search controls
// (maxDistance, exact, nearItem). Every answer is checked against a brute-force reference over
// what the test wrote; every bad call is a typed error that changes nothing.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { IndexNotFoundError, ItemsNotFoundError, ValidationError } from '../../src/service/errors.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import { compileFilter } from '../../src/service/input/metadata-filter.js';
import type { Filter, ItemInput, JsonObject } from '../../src/service/types.js';
import { bruteForce, distance, seededVectors } from './reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from './service-harness.js';
import { rejection } from '../support/rejection.js';

const DIM = 8;
const N = 300;

function itemsOf(vectors: number[][]): ItemInput[] {
  return vectors.map((vector, i) => ({
    id: `item-${i}`,
    vector,
    contents: `contents ${i}`,
    metadata: { n: i, colour: ['red', 'green', 'blue'][i % 3], tags: i % 4 === 0 ? ['four'] : [], spec: { level: i % 5 } },
  }));
}

async function browseAll(service: CipherdexIndexService, name: string, key: string, first: number, filter?: Filter) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; ; pages++) {
    const page = await service.browse(name, key, { first, after, filter, include: [] });
    expect(page.items.length).toBeLessThanOrEqual(first);
    seen.push(...page.items.map((entry) => entry.item.id));
    if (!page.hasNextPage) return { seen, pages: pages + 1 };
    expect(page.items).toHaveLength(first);
    expect(page.endCursor).toBe(page.items.at(-1)!.cursor);
    after = page.endCursor;
  }
}

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  let service: CipherdexIndexService;
  const key = newKey();
  const items = itemsOf(seededVectors(N, DIM, 5));
  const matchingIds = (filter: Filter) => {
    const predicate = compileFilter(filter);
    return items.filter((item) => predicate(item.metadata)).map((item) => item.id);
  };

  beforeEach(async () => {
    harness = await fresh();
    service = await harness.service();
    await service.createIndex('docs', key, { dimension: DIM, metric: 'euclidean' });
    await service.upsert('docs', key, items);
  });

  afterEach(async () => {
    await harness.dispose();
  });

  it('browses every item exactly once, in the same order each time, with the fields asked for', async () => {
    const { seen, pages } = await browseAll(service, 'docs', key, 37);
    expect(pages).toBe(Math.ceil(N / 37));
    expect([...seen].sort()).toEqual(items.map((item) => item.id).sort());
    expect(new Set(seen).size).toBe(N);
    expect((await browseAll(service, 'docs', key, 100)).seen).toEqual(seen);

    const page = await service.browse('docs', key, { first: 2 });
    expect(page.items.map((entry) => entry.item)).toEqual(
      page.items.map(({ item }) => {
        const written = items.find((candidate) => candidate.id === item.id)!;
        return { id: item.id, vector: Array.from(Float32Array.from(written.vector)), contents: written.contents, metadata: written.metadata };
      }),
    );
    // The default page is 100 items.
    expect((await service.browse('docs', key)).items).toHaveLength(100);
  });

  it('browses and counts only the items a filter accepts', async () => {
    const filter: Filter = { colour: 'red', 'spec.level': { $gte: 2 } };
    const expected = matchingIds(filter);
    expect(expected.length).toBeGreaterThan(10);
    expect((await browseAll(service, 'docs', key, 7, filter)).seen.sort()).toEqual(expected.sort());
    expect(await service.count('docs', key, filter)).toBe(expected.length);
    expect(await service.count('docs', key)).toBe(N);
    expect(await service.count('docs', key, {})).toBe(N);
    expect(await service.count('docs', key, { tags: { $contains: 'four' } })).toBe(N / 4);
    expect(await service.count('docs', key, { $nor: [{ colour: 'red' }, { colour: 'blue' }] })).toBe(N / 3);
  });

  it('refuses forged, altered and foreign cursors, and page sizes outside 1..1000', async () => {
    const page = await service.browse('docs', key, { first: 3 });
    const cursor = page.endCursor!;
    await service.createIndex('other', key, { dimension: DIM });
    await service.upsert('other', key, items.slice(0, 5));
    const foreign = (await service.browse('other', key, { first: 1 })).endCursor!;
    const altered = cursor.slice(0, -2) + (cursor.endsWith('AA') ? 'BA' : 'AA');
    for (const after of [altered, foreign, 'not a cursor', '', 'AAAA', 'x'.repeat(300)]) {
      const error = await rejection(service.browse('docs', key, { after }));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).argument).toBe('after');
    }
    for (const first of [0, 1001, 2.5, -1]) {
      const error = await rejection(service.browse('docs', key, { first }));
      expect(error).toMatchObject({ argument: 'first', range: { min: 1, max: 1000 } });
    }
    // A cursor is sealed afresh each time: it says nothing, not even which item it follows.
    expect((await service.browse('docs', key, { first: 3 })).endCursor).not.toBe(cursor);
    expect((await service.browse('docs', key, { after: cursor, first: 3 })).items.map((entry) => entry.item.id)).toEqual(
      (await service.browse('docs', key, { first: 6 })).items.slice(3).map((entry) => entry.item.id),
    );
  });

  it('deletes exactly the items a filter accepts, durably, and refuses an empty filter', async () => {
    const filter: Filter = { $or: [{ colour: 'green', n: { $lt: 150 } }, { tags: { $contains: 'four' } }] };
    const doomed = matchingIds(filter);
    const kept = items.map((item) => item.id).filter((id) => !doomed.includes(id));
    expect(await service.deleteWhere('docs', key, filter)).toEqual({ deletedCount: doomed.length });
    expect((await service.listIds('docs', key)).sort()).toEqual(kept.sort());
    expect(await service.deleteWhere('docs', key, filter)).toEqual({ deletedCount: 0 });

    for (const empty of [{}, null]) {
      const error = await rejection(service.deleteWhere('docs', key, empty as Filter));
      expect(error).toMatchObject({ argument: 'filter' });
    }
    expect(await rejection(service.deleteWhere('docs', key, { n: { $bad: 1 } }))).toBeInstanceOf(ValidationError);
    expect(await service.count('docs', key)).toBe(kept.length);

    // What the store holds agrees after a restart.
    await service.close();
    const reopened = await harness.service();
    expect((await reopened.listIds('docs', key)).sort()).toEqual(kept.sort());
  });

  it('updates metadata by merge patch and replaces contents, keeping vectors bit-identical and the index trained', async () => {
    await service.train('docs', key, { nLists: 6, wait: true });
    const ids = ['item-0', 'item-1', 'item-2'];
    const before = await service.get('docs', key, ids);
    const query = items[7].vector;
    const hitsBefore = await service.search('docs', key, [query], { topK: 20, nProbes: 2 });

    const patch: JsonObject = { colour: null, spec: { level: 99, note: 'x' }, added: [1, 2] };
    expect(await service.update('docs', key, ids, { metadata: patch, contents: 'rewritten' })).toEqual({ updatedCount: 3 });
    const after = await service.get('docs', key, ids);
    after.forEach((item, i) => {
      const original = items[i].metadata!;
      expect(item.metadata).toEqual({ n: original.n, tags: original.tags, spec: { level: 99, note: 'x' }, added: [1, 2] });
      expect(item.contents).toBe('rewritten');
      expect(Buffer.from(Float32Array.from(item.vector!).buffer)).toEqual(Buffer.from(Float32Array.from(before[i].vector!).buffer));
    });
    const info = await service.describeIndex('docs', key);
    expect(info).toMatchObject({ isTrained: true, nLists: 6, vectorCount: N });
    // Same lists, same slots: a probing search finds exactly what it found before.
    expect(await service.search('docs', key, [query], { topK: 20, nProbes: 2 })).toEqual(hitsBefore);

    // Contents alone; metadata null clears it (RFC 7396: a null patch replaces the whole value).
    await service.update('docs', key, ['item-0'], { contents: null });
    await service.update('docs', key, ['item-1'], { metadata: null });
    const [zero, one] = await service.get('docs', key, ['item-0', 'item-1']);
    expect(zero).toMatchObject({ contents: null, metadata: after[0].metadata });
    expect(one).toMatchObject({ contents: 'rewritten', metadata: null });

    // Durable, and still trained after a restart.
    await service.close();
    const reopened = await harness.service();
    expect(await reopened.get('docs', key, ['item-2'], ['contents', 'metadata'])).toEqual([{ id: 'item-2', contents: 'rewritten', metadata: after[2].metadata }]);
    expect(await reopened.describeIndex('docs', key)).toMatchObject({ isTrained: true, nLists: 6 });
  });

  it('refuses updates with unknown ids or bad patches, changing nothing', async () => {
    const before = await service.browse('docs', key, { first: 1000 });
    const raw = await harness.rawItems('docs');
    const missing = await rejection(service.update('docs', key, ['item-1', 'ghost-1', 'item-2', 'ghost-2'], { contents: 'x' }));
    expect(missing).toBeInstanceOf(ItemsNotFoundError);
    expect((missing as ItemsNotFoundError).ids).toEqual(['ghost-1', 'ghost-2']);
    for (const [patch, argument] of [
      [{}, 'metadata'],
      [{ metadata: [1, 2] }, 'metadata'],
      [{ metadata: { big: 'x'.repeat(harness.config.limits.maxMetadataBytes) } }, 'metadata'],
      [{ contents: 5 }, 'contents'],
    ] as const) {
      expect(await rejection(service.update('docs', key, ['item-1'], patch as never))).toMatchObject({ argument });
    }
    // A patch that is fine alone but makes an item's metadata too large fails for every item.
    const limit = harness.config.limits.maxMetadataBytes;
    await service.update('docs', key, ['item-3'], { metadata: { pad: 'y'.repeat(limit - 200) } });
    expect(await rejection(service.update('docs', key, ['item-4', 'item-3'], { metadata: { more: 'z'.repeat(150) } }))).toMatchObject({
      argument: 'metadata',
    });
    const [four] = await service.get('docs', key, ['item-4'], ['metadata']);
    expect(four.metadata).toEqual(items[4].metadata);
    expect(await rejection(service.update('ghost', key, ['item-1'], { contents: 'x' }))).toBeInstanceOf(IndexNotFoundError);
    const after = await service.browse('docs', key, { first: 1000 });
    expect(after.items.filter((entry) => entry.item.id !== 'item-3').map((entry) => entry.item)).toEqual(
      before.items.filter((entry) => entry.item.id !== 'item-3').map((entry) => entry.item),
    );
    expect((await harness.rawItems('docs')).length).toBe(raw.length);
  });

  it('keeps hits within maxDistance, scans everything when exact, and searches near an item without it', async () => {
    await service.train('docs', key, { nLists: 10, wait: true });
    const query = seededVectors(1, DIM, 99)[0];
    const reference = bruteForce('euclidean', items, query, 50);

    const exact = (await service.search('docs', key, [query], { topK: 10, exact: true }))[0];
    expect(exact.exact).toBe(true);
    expect(exact.hits.map((hit) => hit.id)).toEqual(reference.slice(0, 10).map((hit) => hit.id));

    const bound = reference[5].distance + 1e-6;
    const near = (await service.search('docs', key, [query], { topK: 50, exact: true, maxDistance: bound }))[0];
    expect(near.hits.map((hit) => hit.id)).toEqual(reference.filter((hit) => hit.distance <= bound).map((hit) => hit.id));
    expect(near.hits.every((hit) => hit.distance! <= bound)).toBe(true);
    expect((await service.search('docs', key, [query], { topK: 5, maxDistance: 0 }))[0].hits).toEqual([]);

    const anchor = items[42];
    const aroundAnchor = (await service.search('docs', key, null, { topK: 5, exact: true, nearItem: anchor.id, include: ['metadata'] }))[0];
    const others = items.filter((item) => item.id !== anchor.id);
    expect(aroundAnchor.hits.map((hit) => hit.id)).toEqual(bruteForce('euclidean', others, anchor.vector, 5).map((hit) => hit.id));
    expect(aroundAnchor.hits[0].metadata).toEqual(items.find((item) => item.id === aroundAnchor.hits[0].id)!.metadata);
    expect(aroundAnchor.hits[0].distance).toBeCloseTo(distance('euclidean', anchor.vector, others.find((item) => item.id === aroundAnchor.hits[0].id)!.vector), 4);
    // Filters apply to nearItem searches as to others.
    const redNear = (await service.search('docs', key, null, { topK: 3, exact: true, nearItem: anchor.id, filter: { colour: 'red' } }))[0];
    expect(redNear.hits.map((hit) => hit.id)).toEqual(
      bruteForce('euclidean', others.filter((item) => item.metadata!.colour === 'red'), anchor.vector, 3).map((hit) => hit.id),
    );
  });

  it('refuses search controls that contradict each other or name nothing', async () => {
    await service.train('docs', key, { nLists: 4, wait: true });
    const query = items[0].vector;
    const cases: [Promise<unknown>, string][] = [
      [service.search('docs', key, [query], { nearItem: 'item-1' }), 'nearItem'],
      [service.search('docs', key, null, {}), 'vectors'],
      [service.search('docs', key, [query], { exact: true, nProbes: 2 }), 'nProbes'],
      [service.search('docs', key, [query], { maxDistance: -1 }), 'maxDistance'],
      [service.search('docs', key, [query], { maxDistance: Number.NaN }), 'maxDistance'],
    ];
    for (const [call, argument] of cases) expect(await rejection(call)).toMatchObject({ argument });
    const missing = await rejection(service.search('docs', key, null, { nearItem: 'ghost' }));
    expect(missing).toBeInstanceOf(ItemsNotFoundError);
    expect((missing as ItemsNotFoundError).ids).toEqual(['ghost']);
  });
});
