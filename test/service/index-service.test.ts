// The index service on both stores: index life cycle, items, exact search with filters and
// included fields, and the rule that a wrong key or any bad input is a typed error that changes
// nothing.
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  DimensionMismatchError,
  IndexAlreadyExistsError,
  IndexNotFoundError,
  InvalidIndexKeyError,
  TrainingNotRunningError,
  ValidationError,
} from '../../src/service/errors.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import type { Filter, ItemInput, JsonObject, Metric } from '../../src/service/types.js';
import { bruteForce, seededVectors } from './reference-search.js';
import { forEachStore, newKey, type ServiceStoreHarness } from './service-harness.js';
import { rejection } from '../support/rejection.js';

const DIM = 8;

function itemsOf(vectors: number[][], prefix = 'item'): ItemInput[] {
  return vectors.map((vector, i) => ({
    id: `${prefix}-${i}`,
    vector,
    contents: `contents of ${prefix} ${i}`,
    metadata: { n: i, parity: i % 2 === 0 ? 'even' : 'odd', group: { tier: i % 3 } },
  }));
}

/** What the store and memory hold for an index, to prove an operation changed nothing. */
async function snapshot(service: CipherdexIndexService, harness: ServiceStoreHarness, name: string, key: string) {
  const ids = await service.listIds(name, key);
  const items = ids.length === 0 ? [] : await service.get(name, key, ids);
  const raw = (await harness.rawItems(name)).map((row) => `${row.token.toString('hex')}:${row.sealed.toString('hex')}`).sort();
  return { ids, items, raw, info: await service.describeIndex(name, key) };
}

forEachStore((fresh) => {
  let harness: ServiceStoreHarness;
  let service: CipherdexIndexService;
  const key = newKey();

  beforeEach(async () => {
    harness = await fresh();
    service = await harness.service();
  });

  afterEach(async () => {
    await harness.dispose();
  });

  describe('index life cycle', () => {
    it('creates, lists, describes and deletes indexes', async () => {
      const info = await service.createIndex('docs', key, { dimension: DIM, metric: 'cosine', nLists: 4 });
      expect(info).toMatchObject({ name: 'docs', dimension: DIM, metric: 'cosine', type: 'ivf_sq8', nLists: 4, vectorCount: 0, isTrained: false, isTraining: false, lastTrainingRun: null });
      await service.createIndex('alpha', newKey(), { dimension: 3 });
      expect(await service.listIndexes()).toEqual(['alpha', 'docs']);
      expect(await rejection(service.describeIndex('alpha', key))).toBeInstanceOf(InvalidIndexKeyError);
      expect(await service.describeIndex('docs', key)).toMatchObject({ dimension: DIM, metric: 'cosine', nLists: 4 });
      await service.deleteIndex('docs', key);
      expect(await service.listIndexes()).toEqual(['alpha']);
      expect(await rejection(service.describeIndex('docs', key))).toBeInstanceOf(IndexNotFoundError);
      expect(await rejection(service.deleteIndex('docs', key))).toBeInstanceOf(IndexNotFoundError);
    });

    it('defaults to euclidean ivf_sq8 with lists chosen at training', async () => {
      expect(await service.createIndex('plain', key, { dimension: 2 })).toMatchObject({ metric: 'euclidean', type: 'ivf_sq8', nLists: null });
    });

    it('refuses a duplicate name and keeps the original index, its key and its items', async () => {
      await service.createIndex('docs', key, { dimension: DIM });
      await service.upsert('docs', key, itemsOf(seededVectors(3, DIM, 1)));
      const other = newKey();
      expect(await rejection(service.createIndex('docs', other, { dimension: 4 }))).toBeInstanceOf(IndexAlreadyExistsError);
      expect(await service.describeIndex('docs', key)).toMatchObject({ dimension: DIM, vectorCount: 3 });
      expect(await rejection(service.describeIndex('docs', other))).toBeInstanceOf(InvalidIndexKeyError);
    });

    it('starts empty when a deleted name is created again, under the new key only', async () => {
      await service.createIndex('docs', key, { dimension: DIM });
      await service.upsert('docs', key, itemsOf(seededVectors(3, DIM, 1)));
      await service.deleteIndex('docs', key);
      const second = newKey();
      await service.createIndex('docs', second, { dimension: 4 });
      expect(await service.describeIndex('docs', second)).toMatchObject({ dimension: 4, vectorCount: 0 });
      expect(await rejection(service.describeIndex('docs', key))).toBeInstanceOf(InvalidIndexKeyError);
      expect(await harness.rawItems('docs')).toEqual([]);
    });

    it('takes the same key as base64, url-safe base64, hex or raw bytes', async () => {
      const bytes = randomBytes(32);
      await service.createIndex('docs', bytes.toString('base64'), { dimension: 2 });
      for (const form of [bytes.toString('hex'), bytes.toString('base64url'), bytes, new Uint8Array(bytes)]) {
        expect((await service.describeIndex('docs', form)).name).toBe('docs');
      }
    });

    it('reopens every index from the store in a new service', async () => {
      await service.createIndex('docs', key, { dimension: DIM, metric: 'squared_euclidean', nLists: 2 });
      const items = itemsOf(seededVectors(20, DIM, 2));
      await service.upsert('docs', key, items);
      await service.close();
      const reopened = await harness.service();
      expect(await reopened.listIndexes()).toEqual(['docs']);
      expect(await reopened.describeIndex('docs', key)).toMatchObject({ dimension: DIM, metric: 'squared_euclidean', nLists: 2, vectorCount: 20 });
      const got = await reopened.get('docs', key, ['item-7']);
      expect(got[0]).toEqual({ id: 'item-7', vector: items[7].vector, contents: items[7].contents, metadata: items[7].metadata });
    });
  });

  describe('items', () => {
    beforeEach(async () => {
      await service.createIndex('docs', key, { dimension: DIM });
    });

    it('upserts, gets in the order asked (unknown ids left out) and lists ids', async () => {
      const items = itemsOf(seededVectors(10, DIM, 3));
      const result = await service.upsert('docs', key, items);
      expect(result.upsertedCount).toBe(10);
      expect(result.index).toMatchObject({ name: 'docs', vectorCount: 10 });
      const got = await service.get('docs', key, ['item-4', 'nope', 'item-1']);
      expect(got.map((item) => item.id)).toEqual(['item-4', 'item-1']);
      expect(got[0]).toEqual({ id: 'item-4', vector: items[4].vector, contents: items[4].contents, metadata: items[4].metadata });
      expect(await service.listIds('docs', key)).toEqual(items.map((item) => item.id).sort());
    });

    it('returns only the fields asked for', async () => {
      await service.upsert('docs', key, itemsOf(seededVectors(2, DIM, 4)));
      expect(await service.get('docs', key, ['item-1'], [])).toEqual([{ id: 'item-1' }]);
      expect(await service.get('docs', key, ['item-1'], ['contents'])).toEqual([{ id: 'item-1', contents: 'contents of item 1' }]);
      const [withMeta] = await service.get('docs', key, ['item-1'], ['metadata', 'vector']);
      expect(Object.keys(withMeta).sort()).toEqual(['id', 'metadata', 'vector']);
    });

    it('keeps absent contents and metadata as null, distinct from empty ones', async () => {
      await service.upsert('docs', key, [
        { id: 'bare', vector: seededVectors(1, DIM, 5)[0] },
        { id: 'empty', vector: seededVectors(1, DIM, 6)[0], contents: '', metadata: {} },
      ]);
      const got = await service.get('docs', key, ['bare', 'empty'], ['contents', 'metadata']);
      expect(got).toEqual([
        { id: 'bare', contents: null, metadata: null },
        { id: 'empty', contents: '', metadata: {} },
      ]);
    });

    it('replaces an item on re-upsert, in memory and in the store', async () => {
      const [first, second] = seededVectors(2, DIM, 7);
      await service.upsert('docs', key, [{ id: 'x', vector: first, contents: 'old', metadata: { v: 1 } }]);
      const result = await service.upsert('docs', key, [{ id: 'x', vector: second, contents: 'new' }]);
      expect(result.index.vectorCount).toBe(1);
      expect(await service.get('docs', key, ['x'])).toEqual([{ id: 'x', vector: second, contents: 'new', metadata: null }]);
      expect(await harness.rawItems('docs')).toHaveLength(1);
      const [hit] = (await service.search('docs', key, [second], { topK: 1 }))[0].hits;
      expect(hit.id).toBe('x');
      expect(hit.distance).toBeCloseTo(0, 5);
      const reopened = await harness.service();
      expect(await reopened.get('docs', key, ['x'], ['contents'])).toEqual([{ id: 'x', contents: 'new' }]);
    });

    it('deletes items, counting only those that existed', async () => {
      await service.upsert('docs', key, itemsOf(seededVectors(5, DIM, 8)));
      expect(await service.delete('docs', key, ['item-0', 'item-3', 'item-3', 'ghost'])).toEqual({ deletedCount: 2 });
      expect(await service.listIds('docs', key)).toEqual(['item-1', 'item-2', 'item-4']);
      expect(await harness.rawItems('docs')).toHaveLength(3);
      const hits = (await service.search('docs', key, [seededVectors(5, DIM, 8)[0]], { topK: 5 }))[0].hits;
      expect(hits.map((hit) => hit.id).sort()).toEqual(['item-1', 'item-2', 'item-4']);
      expect(await service.delete('docs', key, ['item-0'])).toEqual({ deletedCount: 0 });
    });

    it('keeps memory and store in agreement under concurrent writes to the same ids', async () => {
      const shared = ['a', 'b', 'c', 'd'];
      const writes = Array.from({ length: 12 }, (_, w) => {
        const vectors = seededVectors(shared.length + 1, DIM, 100 + w);
        if (w % 4 === 3) return service.delete('docs', key, [shared[w % shared.length], `own-${w - 1}`]);
        return service.upsert('docs', key, [...shared.map((id, i) => ({ id, vector: vectors[i], contents: `write ${w}` })), { id: `own-${w}`, vector: vectors[shared.length] }]);
      });
      await Promise.all(writes);
      const inMemory = await service.get('docs', key, await service.listIds('docs', key));
      const fromStore = await (await harness.service()).get('docs', key, inMemory.map((item) => item.id));
      expect(fromStore).toEqual(inMemory);
      expect((await harness.rawItems('docs')).length).toBe(inMemory.length);
    });

    it('keeps unicode ids, contents and metadata exactly', async () => {
      const metadata: JsonObject = { title: 'Ἀλίκη 🐇', nested: { list: [1.5, 'two', null, false] } };
      await service.upsert('docs', key, [{ id: 'ключ/🔑', vector: seededVectors(1, DIM, 9)[0], contents: '中文内容', metadata }]);
      const reopened = await harness.service();
      expect(await reopened.get('docs', key, ['ключ/🔑'], ['contents', 'metadata'])).toEqual([{ id: 'ключ/🔑', contents: '中文内容', metadata }]);
    });
  });

  describe('search', () => {
    it.each<Metric>(['euclidean', 'squared_euclidean', 'cosine'])('answers exactly on an untrained %s index, as brute force does', async (metric) => {
      await service.createIndex('docs', key, { dimension: DIM, metric });
      const vectors = seededVectors(200, DIM, 10);
      const items = itemsOf(vectors);
      await service.upsert('docs', key, items);
      const queries = seededVectors(5, DIM, 11);
      const results = await service.search('docs', key, queries, { topK: 7 });
      expect(results).toHaveLength(5);
      results.forEach((result, q) => {
        expect(result.exact).toBe(true);
        const expected = bruteForce(metric, items, queries[q], 7);
        expect(result.hits.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
        result.hits.forEach((hit, i) => expect(hit.distance).toBeCloseTo(expected[i].distance, 4));
      });
    });

    it('returns fewer hits than topK when the index holds fewer items, and none when empty', async () => {
      await service.createIndex('docs', key, { dimension: DIM });
      const [query] = seededVectors(1, DIM, 12);
      expect(await service.search('docs', key, [query], { topK: 5 })).toEqual([{ hits: [], exact: true, approximate: false }]);
      await service.upsert('docs', key, itemsOf(seededVectors(3, DIM, 13)));
      expect((await service.search('docs', key, [query], { topK: 5 }))[0].hits).toHaveLength(3);
    });

    it('includes the fields asked for in each hit, and only ids and distances by default', async () => {
      await service.createIndex('docs', key, { dimension: DIM });
      const items = itemsOf(seededVectors(4, DIM, 14));
      await service.upsert('docs', key, items);
      const [bare] = (await service.search('docs', key, [items[2].vector as number[]], { topK: 1 }))[0].hits;
      expect(Object.keys(bare).sort()).toEqual(['distance', 'id']);
      const [full] = (await service.search('docs', key, [items[2].vector as number[]], { topK: 1, include: ['vector', 'contents', 'metadata'] }))[0].hits;
      expect(full).toMatchObject({ id: 'item-2', vector: items[2].vector, contents: items[2].contents, metadata: items[2].metadata });
    });

    it('filters by metadata: each result is the exact top-k among the matching items', async () => {
      await service.createIndex('docs', key, { dimension: DIM });
      const items = itemsOf(seededVectors(120, DIM, 15));
      await service.upsert('docs', key, items);
      const [query] = seededVectors(1, DIM, 16);
      const cases: [Filter, (m: JsonObject) => boolean][] = [
        [{ parity: 'even' }, (m) => m.parity === 'even'],
        [{ n: { $gte: 30, $lt: 60 } }, (m) => (m.n as number) >= 30 && (m.n as number) < 60],
        [{ n: { $in: [1, 2, 3, 50, 99] } }, (m) => [1, 2, 3, 50, 99].includes(m.n as number)],
        [{ 'group.tier': { $ne: 0 } }, (m) => (m.group as JsonObject).tier !== 0],
        [{ $or: [{ n: { $lt: 5 } }, { n: { $gt: 115 } }] }, (m) => (m.n as number) < 5 || (m.n as number) > 115],
        [{ $and: [{ parity: 'odd' }, { 'group.tier': 2 }] }, (m) => m.parity === 'odd' && (m.group as JsonObject).tier === 2],
        [{ parity: { $exists: false } }, () => false],
      ];
      for (const [filter, holds] of cases) {
        const [result] = await service.search('docs', key, [query], { topK: 5, filter });
        const expected = bruteForce('euclidean', items.filter((item) => holds(item.metadata!)), query, 5);
        expect(result.hits.map((hit) => hit.id), JSON.stringify(filter)).toEqual(expected.map((hit) => hit.id));
      }
      const error = await rejection(service.search('docs', key, [query], { filter: { n: { $near: 3 } } }));
      expect(error).toBeInstanceOf(ValidationError);
      // Where and what, never the operator name the caller sent (issue #11).
      expect((error as ValidationError).message).toContain('filter.field#1.field#1: unknown operator');
      expect((error as ValidationError).message).not.toContain('$near');
    });
  });

  describe('wrong keys', () => {
    it('refuses a wrong key on every operation, including delete, and changes nothing', async () => {
      await service.createIndex('docs', key, { dimension: DIM });
      const items = itemsOf(seededVectors(6, DIM, 17));
      await service.upsert('docs', key, items);
      const before = await snapshot(service, harness, 'docs', key);
      const wrong = newKey();
      const [query] = seededVectors(1, DIM, 18);
      const attempts: [string, () => Promise<unknown>][] = [
        ['describeIndex', () => service.describeIndex('docs', wrong)],
        ['upsert', () => service.upsert('docs', wrong, [{ id: 'evil', vector: query }])],
        ['upsert (replace)', () => service.upsert('docs', wrong, [{ id: 'item-1', vector: query }])],
        ['get', () => service.get('docs', wrong, ['item-1'])],
        ['delete', () => service.delete('docs', wrong, ['item-1'])],
        ['listIds', () => service.listIds('docs', wrong)],
        ['search', () => service.search('docs', wrong, [query])],
        ['train', () => service.train('docs', wrong, { nLists: 2 })],
        ['cancelTraining', () => service.cancelTraining('docs', wrong)],
        ['trainingStatus', () => service.trainingStatus('docs', wrong)],
        ['deleteIndex', () => service.deleteIndex('docs', wrong)],
      ];
      // Twice: once while the index is open in memory, once after a fresh start (nothing cached).
      for (const round of ['open', 'fresh']) {
        if (round === 'fresh') service = await harness.service();
        for (const [operation, attempt] of attempts) {
          const error = await rejection(attempt());
          expect(error, `${operation} (${round})`).toBeInstanceOf(InvalidIndexKeyError);
          expect((error as Error).message).not.toContain(wrong);
        }
        expect(await snapshot(service, harness, 'docs', key)).toEqual(before);
        expect(await service.listIndexes()).toEqual(['docs']);
      }
    });

    it('tells a malformed key apart from a wrong one', async () => {
      await service.createIndex('docs', key, { dimension: DIM });
      for (const bad of ['', 'short', 'a'.repeat(63), Buffer.alloc(31)]) {
        const error = await rejection(service.describeIndex('docs', bad));
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).argument).toBe('key');
      }
      expect((await rejection(service.createIndex('other', 'not a key', { dimension: 2 })) as ValidationError).argument).toBe('key');
      expect(await service.listIndexes()).toEqual(['docs']);
    });
  });

  describe('bad input', () => {
    it('answers IndexNotFoundError for an unknown index on every operation', async () => {
      const [query] = seededVectors(1, DIM, 19);
      const attempts = [
        () => service.describeIndex('ghost', key),
        () => service.deleteIndex('ghost', key),
        () => service.upsert('ghost', key, [{ id: 'a', vector: query }]),
        () => service.get('ghost', key, ['a']),
        () => service.delete('ghost', key, ['a']),
        () => service.listIds('ghost', key),
        () => service.search('ghost', key, [query]),
        () => service.train('ghost', key),
        () => service.cancelTraining('ghost', key),
        () => service.trainingStatus('ghost', key),
        () => service.describeIndex('no such:name', key),
      ];
      for (const attempt of attempts) expect(await rejection(attempt())).toBeInstanceOf(IndexNotFoundError);
      expect(await service.listIndexes()).toEqual([]);
    });

    it('refuses every malformed argument with a typed error naming it, and changes nothing', async () => {
      const limits = { ...harness.config.limits, maxBatchItems: 5, maxIdBytes: 16, maxContentsBytes: 32, maxMetadataBytes: 64, maxTopK: 20, maxQueriesPerBatch: 3 };
      service = await harness.service({ limits });
      await service.createIndex('docs', key, { dimension: DIM, metric: 'cosine' });
      const items = itemsOf(seededVectors(4, DIM, 20)).map((item) => ({ ...item, contents: 'short', metadata: { n: 1 } }));
      await service.upsert('docs', key, items);
      const before = await snapshot(service, harness, 'docs', key);
      const good = seededVectors(1, DIM, 21)[0];
      const ok = (id: string): ItemInput => ({ id, vector: good });
      const cases: [string, () => Promise<unknown>, new (...args: never[]) => Error, string][] = [
        ['empty batch', () => service.upsert('docs', key, []), ValidationError, 'items'],
        ['oversized batch', () => service.upsert('docs', key, ['a', 'b', 'c', 'd', 'e', 'f'].map(ok)), ValidationError, 'items'],
        ['duplicate ids', () => service.upsert('docs', key, [ok('new-1'), ok('new-2'), ok('new-1')]), ValidationError, 'items[2].id'],
        ['empty id', () => service.upsert('docs', key, [ok('new-1'), ok('')]), ValidationError, 'items[1].id'],
        ['id over the limit', () => service.upsert('docs', key, [ok('new-1'), ok('x'.repeat(17))]), ValidationError, 'items[1].id'],
        ['dimension mismatch', () => service.upsert('docs', key, [ok('new-1'), { id: 'short', vector: good.slice(1) }]), DimensionMismatchError, 'items[1].vector'],
        ['NaN component', () => service.upsert('docs', key, [ok('new-1'), { id: 'nan', vector: good.map((v, i) => (i === 3 ? Number.NaN : v)) }]), ValidationError, 'items[1].vector'],
        ['infinite component', () => service.upsert('docs', key, [{ id: 'inf', vector: good.map((v, i) => (i === 0 ? -Infinity : v)) }]), ValidationError, 'items[0].vector'],
        ['zero vector under cosine', () => service.upsert('docs', key, [{ id: 'zero', vector: new Array(DIM).fill(0) }]), ValidationError, 'items[0].vector'],
        ['contents over the limit', () => service.upsert('docs', key, [{ ...ok('new-1'), contents: 'x'.repeat(33) }]), ValidationError, 'items[0].contents'],
        ['metadata over the limit', () => service.upsert('docs', key, [{ ...ok('new-1'), metadata: { text: 'x'.repeat(64) } }]), ValidationError, 'items[0].metadata'],
        ['metadata not an object', () => service.upsert('docs', key, [{ ...ok('new-1'), metadata: 'text' as never }]), ValidationError, 'items[0].metadata'],
        ['replace with a bad vector', () => service.upsert('docs', key, [{ id: 'item-1', vector: good }, { id: 'item-2', vector: [1] }]), DimensionMismatchError, 'items[1].vector'],
        ['get with no ids', () => service.get('docs', key, []), ValidationError, 'ids'],
        ['get with an unknown field', () => service.get('docs', key, ['item-1'], ['distance' as 'vector']), ValidationError, 'include'],
        ['delete with no ids', () => service.delete('docs', key, []), ValidationError, 'ids'],
        ['delete with an empty id', () => service.delete('docs', key, ['item-1', '']), ValidationError, 'ids[1]'],
        ['search without vectors', () => service.search('docs', key, []), ValidationError, 'vectors'],
        ['search with too many vectors', () => service.search('docs', key, [good, good, good, good]), ValidationError, 'vectors'],
        ['search with a short vector', () => service.search('docs', key, [good, good.slice(2)]), DimensionMismatchError, 'vectors[1]'],
        ['search with a NaN vector', () => service.search('docs', key, [good.map(() => Number.NaN)]), ValidationError, 'vectors[0]'],
        ['topK 0', () => service.search('docs', key, [good], { topK: 0 }), ValidationError, 'topK'],
        ['topK over the limit', () => service.search('docs', key, [good], { topK: 21 }), ValidationError, 'topK'],
        ['fractional topK', () => service.search('docs', key, [good], { topK: 2.5 }), ValidationError, 'topK'],
        ['nProbes 0', () => service.search('docs', key, [good], { nProbes: 0 }), ValidationError, 'nProbes'],
        ['malformed filter', () => service.search('docs', key, [good], { filter: { n: { $in: 3 } } }), ValidationError, 'filter'],
        ['unknown include', () => service.search('docs', key, [good], { include: ['score' as 'vector'] }), ValidationError, 'include'],
        ['bad index name', () => service.createIndex('bad name', key, { dimension: 2 }), ValidationError, 'name'],
        ['dimension 0', () => service.createIndex('other', key, { dimension: 0 }), ValidationError, 'dimension'],
        ['dimension over the limit', () => service.createIndex('other', key, { dimension: 100_000 }), ValidationError, 'dimension'],
        ['unknown metric', () => service.createIndex('other', key, { dimension: 2, metric: 'dot' as Metric }), ValidationError, 'metric'],
        ['unknown type', () => service.createIndex('other', key, { dimension: 2, type: 'hnsw' as 'ivf_flat' }), ValidationError, 'type'],
        ['nLists 0 at creation', () => service.createIndex('other', key, { dimension: 2, nLists: 0 }), ValidationError, 'nLists'],
        ['cancel with nothing running', () => service.cancelTraining('docs', key), TrainingNotRunningError, ''],
      ];
      for (const [label, attempt, type, argument] of cases) {
        const error = await rejection(attempt());
        expect(error, label).toBeInstanceOf(type);
        if (error instanceof ValidationError) expect(error.argument, label).toBe(argument);
        if (error instanceof DimensionMismatchError) expect({ expected: error.expected, argument: error.argument }, label).toEqual({ expected: DIM, argument });
      }
      expect(await snapshot(service, harness, 'docs', key)).toEqual(before);
      expect(await service.listIndexes()).toEqual(['docs']);
    });
  });
});
