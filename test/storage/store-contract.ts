// The behaviour every Store must have, as one suite that each store's test file runs against
// its own implementation, so SQLite and PostgreSQL cannot drift apart.

import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreConflictError, StoreIndexNotFoundError, type Store, type StoredItem } from '../../src/storage/store.js';

/**
 * What a migration that fills the seal tags of existing rows must leave: readItemTags gives each
 * record's last 16 bytes under its token, and every record reads back unchanged.
 */
export async function expectTagsOfRecords(store: Store, index: string, records: readonly { token: Buffer; sealed: Buffer }[]): Promise<void> {
  const tags = (await store.readItemTags(index))!;
  expect(tags.count).toBe(records.length);
  const found = new Map<string, string>();
  for (let i = 0; i < tags.count; i++) found.set(tags.tokens.toString('hex', i * 32, (i + 1) * 32), tags.tags.toString('hex', i * 16, (i + 1) * 16));
  expect(found).toEqual(new Map(records.map((r) => [r.token.toString('hex'), r.sealed.toString('hex', r.sealed.length - 16)])));
  const read = await store.getItems(index, records.map((r) => r.token));
  expect(read.map((r) => r.sealed.toString('hex'))).toEqual(records.map((r) => r.sealed.toString('hex')));
}

/** A place a store lives (a directory, a schema) that can be opened more than once. */
export interface StoreLocation {
  open(): Promise<Store>;
  dispose(): Promise<void>;
}

function item(sealedBytes = 600): StoredItem {
  return { token: randomBytes(32), sealed: randomBytes(sealedBytes) };
}

function items(n: number, sealedBytes = 600): StoredItem[] {
  return Array.from({ length: n }, () => item(sealedBytes));
}

const hex = (b: Buffer): string => b.toString('hex');

async function collect(store: Store, index: string, pageSize?: number): Promise<{ pages: StoredItem[][]; all: StoredItem[] }> {
  const pages: StoredItem[][] = [];
  for await (const page of store.scanItems(index, pageSize)) pages.push(page);
  return { pages, all: pages.flat() };
}

async function newIndex(store: Store, name: string) {
  return store.createIndex({ name, wrappedDataKey: randomBytes(60), sealedConfig: randomBytes(80) });
}

/** Code-point order, which both stores promise (JS's default sort compares UTF-16 units instead). */
function byCodePoint(a: string, b: string): number {
  const x = [...a].map((c) => c.codePointAt(0) ?? 0);
  const y = [...b].map((c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

export function storeContract(kind: Store['kind'], fresh: () => Promise<StoreLocation>, variant?: string): void {
  describe(`Store contract (${variant === undefined ? kind : `${kind}, ${variant}`})`, () => {
    let location: StoreLocation;
    let store: Store;

    beforeEach(async () => {
      location = await fresh();
      store = await location.open();
    });

    afterEach(async () => {
      await store.close();
      await location.dispose();
    });

    it(`reports its kind`, () => {
      expect(store.kind).toBe(kind);
    });

    describe('indexes', () => {
      it('creates an index and reads it back byte for byte', async () => {
        const wrappedDataKey = randomBytes(60);
        const sealedConfig = Buffer.concat([Buffer.from([0, 0, 255]), randomBytes(100)]);
        const before = Date.now();
        const created = await store.createIndex({ name: 'docs', wrappedDataKey, sealedConfig });
        expect(created).toMatchObject({ name: 'docs', sealedModel: null, modelVersion: 0 });
        expect(created.wrappedDataKey.equals(wrappedDataKey)).toBe(true);
        expect(created.sealedConfig.equals(sealedConfig)).toBe(true);
        // The stores stamp creation themselves (SQLite in ms, PostgreSQL in µs): check it is "now".
        expect(Math.abs(created.createdAt.getTime() - before)).toBeLessThan(60_000);
        const read = await store.getIndex('docs');
        expect(read).not.toBeNull();
        expect(read!.wrappedDataKey.equals(wrappedDataKey)).toBe(true);
        expect(read!.sealedConfig.equals(sealedConfig)).toBe(true);
        expect(read!.createdAt.getTime()).toBe(created.createdAt.getTime());
      });

      it('refuses a duplicate name with StoreConflictError and keeps the original', async () => {
        const original = await newIndex(store, 'docs');
        await expect(newIndex(store, 'docs')).rejects.toThrow(StoreConflictError);
        const read = await store.getIndex('docs');
        expect(read!.wrappedDataKey.equals(original.wrappedDataKey)).toBe(true);
        expect(await store.listIndexNames()).toEqual(['docs']);
      });

      it('returns null for an unknown index', async () => {
        expect(await store.getIndex('nope')).toBeNull();
      });

      it('lists names in code-point order', async () => {
        const names = ['beta', 'Alpha', 'alpha', 'é-accent', 'zeta', '\u{1F600}-emoji', '\uFFFD-replacement', '10', '9'];
        for (const name of names) await newIndex(store, name);
        expect(await store.listIndexNames()).toEqual([...names].sort(byCodePoint));
      });

      it('deletes an index with its items and model, once', async () => {
        await newIndex(store, 'docs');
        await newIndex(store, 'other');
        await store.putItems('docs', items(5));
        const kept = items(3);
        await store.putItems('other', kept);
        await store.saveModel('docs', randomBytes(100));
        expect(await store.deleteIndex('docs')).toBe(true);
        expect(await store.deleteIndex('docs')).toBe(false);
        expect(await store.getIndex('docs')).toBeNull();
        expect(await store.countItems('docs')).toBe(0);
        expect(await store.listIndexNames()).toEqual(['other']);
        expect(await store.countItems('other')).toBe(3);
      });

      it('gives a recreated index none of its predecessor’s items or model', async () => {
        await newIndex(store, 'docs');
        const old = items(4);
        await store.putItems('docs', old);
        await store.saveModel('docs', randomBytes(10));
        await store.deleteIndex('docs');
        const again = await newIndex(store, 'docs');
        expect(again.modelVersion).toBe(0);
        expect(again.sealedModel).toBeNull();
        expect(await store.countItems('docs')).toBe(0);
        expect(await store.getItems('docs', old.map((i) => i.token))).toEqual([]);
        expect((await collect(store, 'docs')).all).toEqual([]);
      });
    });

    describe('items', () => {
      beforeEach(async () => {
        await newIndex(store, 'docs');
      });

      it('stores items and returns them in the order asked, leaving out unknown tokens', async () => {
        const batch = items(20);
        await store.putItems('docs', batch);
        expect(await store.countItems('docs')).toBe(20);
        const wanted = [batch[7].token, randomBytes(32), batch[2].token, batch[19].token];
        const found = await store.getItems('docs', wanted);
        expect(found.map((i) => hex(i.token))).toEqual([batch[7], batch[2], batch[19]].map((i) => hex(i.token)));
        expect(found.map((i) => hex(i.sealed))).toEqual([batch[7], batch[2], batch[19]].map((i) => hex(i.sealed)));
      });

      it('keeps bytes exactly, including zeros, high bytes and empty blobs', async () => {
        const odd: StoredItem[] = [
          { token: Buffer.alloc(32, 0), sealed: Buffer.from([0, 0, 0, 1, 0]) },
          { token: Buffer.alloc(32, 0xff), sealed: Buffer.alloc(70_000, 0xff) },
          { token: randomBytes(32), sealed: Buffer.alloc(0) },
        ];
        await store.putItems('docs', odd);
        const found = await store.getItems('docs', odd.map((i) => i.token));
        expect(found.map((i) => hex(i.sealed))).toEqual(odd.map((i) => hex(i.sealed)));
      });

      it('replaces an item with the same token', async () => {
        const first = item();
        await store.putItems('docs', [first, item()]);
        const replacement = { token: Buffer.from(first.token), sealed: randomBytes(50) };
        await store.putItems('docs', [replacement]);
        expect(await store.countItems('docs')).toBe(2);
        const [found] = await store.getItems('docs', [first.token]);
        expect(found.sealed.equals(replacement.sealed)).toBe(true);
      });

      it('lets the last item win when a batch repeats a token', async () => {
        const token = randomBytes(32);
        const last = randomBytes(40);
        await store.putItems('docs', [{ token, sealed: randomBytes(40) }, item(), { token: Buffer.from(token), sealed: last }]);
        expect(await store.countItems('docs')).toBe(2);
        const [found] = await store.getItems('docs', [token]);
        expect(found.sealed.equals(last)).toBe(true);
      });

      it('writes nothing of a batch that fails part-way', async () => {
        const existing = items(3);
        await store.putItems('docs', existing);
        const replaced = { token: Buffer.from(existing[0].token), sealed: randomBytes(10) };
        const broken = { token: randomBytes(32), sealed: null as unknown as Buffer };
        await expect(store.putItems('docs', [replaced, ...items(50), broken, ...items(50)])).rejects.toThrow();
        expect(await store.countItems('docs')).toBe(3);
        const [first] = await store.getItems('docs', [existing[0].token]);
        expect(first.sealed.equals(existing[0].sealed)).toBe(true);
      });

      it('refuses writes to an unknown index with StoreIndexNotFoundError', async () => {
        await expect(store.putItems('nope', items(2))).rejects.toThrow(StoreIndexNotFoundError);
        await expect(store.putItems('nope', [])).rejects.toThrow(StoreIndexNotFoundError);
        await expect(store.saveModel('nope', randomBytes(8))).rejects.toThrow(StoreIndexNotFoundError);
        expect(await store.listIndexNames()).toEqual(['docs']);
      });

      it('answers reads of an unknown index with nothing', async () => {
        expect(await store.getItems('nope', [randomBytes(32)])).toEqual([]);
        expect(await store.countItems('nope')).toBe(0);
        expect(await store.deleteItems('nope', [randomBytes(32)])).toBe(0);
        expect((await collect(store, 'nope')).all).toEqual([]);
      });

      it('keeps indexes apart even when tokens coincide', async () => {
        await newIndex(store, 'other');
        const token = randomBytes(32);
        const mine = { token, sealed: randomBytes(20) };
        const theirs = { token: Buffer.from(token), sealed: randomBytes(20) };
        await store.putItems('docs', [mine]);
        await store.putItems('other', [theirs]);
        expect((await store.getItems('docs', [token]))[0].sealed.equals(mine.sealed)).toBe(true);
        expect((await store.getItems('other', [token]))[0].sealed.equals(theirs.sealed)).toBe(true);
        expect(await store.deleteItems('docs', [token])).toBe(1);
        expect(await store.getItems('docs', [token])).toEqual([]);
        expect(await store.countItems('other')).toBe(1);
      });

      it('deletes by token and counts only the items that existed', async () => {
        const batch = items(10);
        await store.putItems('docs', batch);
        const deleted = await store.deleteItems('docs', [batch[0].token, batch[5].token, randomBytes(32), batch[0].token]);
        expect(deleted).toBe(2);
        expect(await store.countItems('docs')).toBe(8);
        expect(await store.getItems('docs', [batch[0].token, batch[5].token])).toEqual([]);
        expect(await store.deleteItems('docs', [])).toBe(0);
      });

      it('handles empty batches', async () => {
        await store.putItems('docs', []);
        expect(await store.getItems('docs', [])).toEqual([]);
        expect(await store.countItems('docs')).toBe(0);
      });

      it('takes a 10,000-item batch in one call', async () => {
        const batch = items(10_000);
        await store.putItems('docs', batch);
        expect(await store.countItems('docs')).toBe(10_000);
        const sample = [batch[0], batch[4999], batch[9999]];
        const found = await store.getItems('docs', sample.map((i) => i.token));
        expect(found.map((i) => hex(i.sealed))).toEqual(sample.map((i) => hex(i.sealed)));
      });
    });

    describe('idempotent writes', () => {
      const claim = (requestHash = randomBytes(32), keyHash = randomBytes(32)) => ({ keyHash, requestHash, retentionMs: 60_000 });

      it('write once under a key: a retry answers the first count and writes nothing; another request under the key is a mismatch', async () => {
        await newIndex(store, 'docs');
        const first = items(3);
        const key = claim();
        expect(await store.putItemsOnce('docs', first, key)).toEqual({ kind: 'done', count: 3 });
        // The retry carries other bytes (sealing is randomized): whatever it holds, nothing is written.
        const retry = first.map((i) => ({ token: i.token, sealed: randomBytes(600) }));
        expect(await store.putItemsOnce('docs', retry, key)).toEqual({ kind: 'replayed', count: 3 });
        expect((await store.getItems('docs', [first[0].token]))[0].sealed.equals(first[0].sealed)).toBe(true);
        expect(await store.putItemsOnce('docs', items(1), { ...key, requestHash: randomBytes(32) })).toEqual({ kind: 'mismatch' });
        expect(await store.countItems('docs')).toBe(3);

        const del = claim();
        expect(await store.deleteItemsOnce('docs', [first[0].token, first[1].token, randomBytes(32)], del)).toEqual({ kind: 'done', count: 2 });
        // Re-created meanwhile, the item survives the retried delete.
        await store.putItems('docs', [first[0]]);
        expect(await store.deleteItemsOnce('docs', [first[0].token, first[1].token, randomBytes(32)], del)).toEqual({ kind: 'replayed', count: 2 });
        expect(await store.countItems('docs')).toBe(2);
        // A delete of nothing still records its answer.
        const none = claim();
        expect(await store.deleteItemsOnce('docs', [], none)).toEqual({ kind: 'done', count: 0 });
        expect(await store.deleteItemsOnce('docs', [], none)).toEqual({ kind: 'replayed', count: 0 });
      });

      it('keeps keys per index, forgets them past the retention, drops them with the index, and refuses a missing index', async () => {
        await newIndex(store, 'docs');
        await newIndex(store, 'other');
        const key = claim();
        expect(await store.putItemsOnce('docs', items(2), key)).toEqual({ kind: 'done', count: 2 });
        expect(await store.putItemsOnce('other', items(1), key)).toEqual({ kind: 'done', count: 1 });
        // Past the retention the key is free again (the record is replaced).
        await new Promise((resolve) => setTimeout(resolve, 30));
        expect(await store.putItemsOnce('docs', items(4), { ...key, retentionMs: 10 })).toEqual({ kind: 'done', count: 4 });
        expect(await store.putItemsOnce('docs', items(4), key)).toEqual({ kind: 'replayed', count: 4 });
        await expect(store.putItemsOnce('missing', items(1), claim())).rejects.toBeInstanceOf(StoreIndexNotFoundError);
        await expect(store.deleteItemsOnce('missing', [randomBytes(32)], claim())).rejects.toBeInstanceOf(StoreIndexNotFoundError);
        expect(await store.deleteIndex('docs')).toBe(true);
        await newIndex(store, 'docs');
        expect(await store.putItemsOnce('docs', items(1), key)).toEqual({ kind: 'done', count: 1 });
        // The sweep drops what is older than asked.
        await new Promise((resolve) => setTimeout(resolve, 30));
        expect(await store.pruneIdempotencyRecords(10)).toBe(2);
        expect(await store.putItemsOnce('other', items(5), key)).toEqual({ kind: 'done', count: 5 });
      });

      it('concurrent writes under one key: one writes, the others answer its count', async () => {
        await newIndex(store, 'docs');
        const key = claim();
        const batch = items(5);
        const outcomes = await Promise.all(Array.from({ length: 6 }, () => store.putItemsOnce('docs', batch, key)));
        expect(outcomes.filter((o) => o.kind === 'done')).toHaveLength(1);
        expect(outcomes.every((o) => o.kind !== 'mismatch' && o.count === 5)).toBe(true);
        expect(await store.countItems('docs')).toBe(5);
      });
    });

    describe('scanItems', () => {
      beforeEach(async () => {
        await newIndex(store, 'docs');
      });

      it.each([1, 7, 25, 1000])('yields every item exactly once in pages of at most %i', async (pageSize) => {
        const batch = items(25, 40);
        await store.putItems('docs', batch);
        const { pages, all } = await collect(store, 'docs', pageSize);
        expect(pages.every((page) => page.length > 0 && page.length <= pageSize)).toBe(true);
        expect(pages.length).toBe(Math.ceil(25 / pageSize));
        const byToken = new Map(all.map((i) => [hex(i.token), hex(i.sealed)]));
        expect(byToken.size).toBe(25);
        for (const expected of batch) expect(byToken.get(hex(expected.token))).toBe(hex(expected.sealed));
      });

      it('yields nothing for an empty index', async () => {
        expect((await collect(store, 'docs')).pages).toEqual([]);
      });

      it('sees replacements and not deleted items', async () => {
        const batch = items(6, 20);
        await store.putItems('docs', batch);
        const replacement = { token: Buffer.from(batch[1].token), sealed: randomBytes(20) };
        await store.putItems('docs', [replacement]);
        await store.deleteItems('docs', [batch[2].token]);
        const byToken = new Map((await collect(store, 'docs', 2)).all.map((i) => [hex(i.token), hex(i.sealed)]));
        expect(byToken.size).toBe(5);
        expect(byToken.get(hex(batch[1].token))).toBe(hex(replacement.sealed));
        expect(byToken.has(hex(batch[2].token))).toBe(false);
      });

      it('can be abandoned part-way, many times, without starving the store', async () => {
        await store.putItems('docs', items(30, 10));
        for (let i = 0; i < 25; i++) {
          for await (const page of store.scanItems('docs', 5)) {
            expect(page).toHaveLength(5);
            break;
          }
        }
        expect(await store.countItems('docs')).toBe(30);
      });

      it('rejects a page size that is not a positive integer', async () => {
        await expect(collect(store, 'docs', 0)).rejects.toThrow(RangeError);
        await expect(collect(store, 'docs', 1.5)).rejects.toThrow(RangeError);
      });
    });

    describe('segment sets and item tags', () => {
      it('replaces a segment set as a whole, reads it in ranges, and drops it with the index', async () => {
        await newIndex(store, 'docs');
        await newIndex(store, 'other');
        expect((await store.getIndex('docs'))!.segmentSet).toBeNull();
        const first = randomBytes(16);
        const segments = [randomBytes(100), randomBytes(5 << 20), randomBytes(7)];
        // Read before the call: a store may move the buffers to another thread.
        const written = segments.map(hex);
        await store.replaceSegments('docs', first, segments);
        expect((await store.getIndex('docs'))!.segmentSet!.equals(first)).toBe(true);
        expect((await store.readSegments('docs', first, 0, 10)).map(hex)).toEqual(written);
        expect((await store.readSegments('docs', first, 1, 1)).map(hex)).toEqual([written[1]]);
        expect(await store.readSegments('other', first, 0, 10)).toEqual([]);
        const second = randomBytes(16);
        const replacement = [randomBytes(50)];
        const replaced = replacement.map(hex);
        await store.replaceSegments('docs', second, replacement);
        expect((await store.getIndex('docs'))!.segmentSet!.equals(second)).toBe(true);
        expect(await store.readSegments('docs', first, 0, 10)).toEqual([]);
        expect((await store.readSegments('docs', second, 0, 10)).map(hex)).toEqual(replaced);
        await expect(store.replaceSegments('missing', second, [randomBytes(50)])).rejects.toBeInstanceOf(StoreIndexNotFoundError);
        expect(await store.deleteIndex('docs')).toBe(true);
        await newIndex(store, 'docs');
        expect((await store.getIndex('docs'))!.segmentSet).toBeNull();
        expect(await store.readSegments('docs', second, 0, 10)).toEqual([]);
      });

      it('reads every token with the last 16 bytes of its record and the commitment counter', async () => {
        await newIndex(store, 'docs');
        expect(await store.readItemTags('missing')).toBeNull();
        const empty = (await store.readItemTags('docs'))!;
        expect(empty.count).toBe(0);
        expect(empty.commitmentSeq).toBe(0);
        // Tokens and tags of zero bytes, and of bytes that are no UTF-8 at all, come back byte for byte.
        const edge = [Buffer.alloc(32, 0), Buffer.alloc(32, 0xff), Buffer.from(`${'c3'.repeat(31)}00`, 'hex')].map((token, i) => ({
          token,
          sealed: Buffer.concat([randomBytes(20), Buffer.alloc(16, [0, 0xff, 0xc3][i])]),
        }));
        const written = [...items(40), ...edge];
        await store.putItems('docs', written, { expectedSeq: 0, sealed: randomBytes(60) });
        await store.deleteItems('docs', [written[3].token], { expectedSeq: 1, sealed: randomBytes(60) });
        const tags = (await store.readItemTags('docs'))!;
        expect(tags.commitmentSeq).toBe(2);
        expect(tags.count).toBe(42);
        const found = new Map<string, string>();
        for (let i = 0; i < tags.count; i++) found.set(hex(tags.tokens.subarray(i * 32, (i + 1) * 32)), hex(tags.tags.subarray(i * 16, (i + 1) * 16)));
        const expected = new Map(written.filter((_, i) => i !== 3).map((w) => [hex(w.token), hex(w.sealed.subarray(w.sealed.length - 16))]));
        expect(found).toEqual(expected);
      });

      it('gives a rewritten record\'s new tag, in readItemTags and readCommitment alike', async () => {
        await newIndex(store, 'docs');
        // Records of several KiB (as at 768 dimensions), which the stores keep apart from their tags.
        const written = items(20, 3200);
        await store.putItems('docs', written);
        const rewritten = { token: Buffer.from(written[7].token), sealed: randomBytes(3300) };
        await store.putItems('docs', [rewritten]);
        const tags = (await store.readItemTags('docs'))!;
        expect(tags.count).toBe(20);
        const found = new Map<string, string>();
        for (let i = 0; i < tags.count; i++) found.set(hex(tags.tokens.subarray(i * 32, (i + 1) * 32)), hex(tags.tags.subarray(i * 16, (i + 1) * 16)));
        expect(found.get(hex(rewritten.token))).toBe(hex(rewritten.sealed.subarray(rewritten.sealed.length - 16)));
        expect(found.get(hex(written[0].token))).toBe(hex(written[0].sealed.subarray(written[0].sealed.length - 16)));
        const base = (await store.readCommitment('docs', [rewritten.token, written[0].token, randomBytes(32)]))!;
        expect(base.tags.map((tag) => (tag === null ? null : hex(tag)))).toEqual([
          hex(rewritten.sealed.subarray(rewritten.sealed.length - 16)),
          hex(written[0].sealed.subarray(written[0].sealed.length - 16)),
          null,
        ]);
      });
    });

    describe('models', () => {
      it('versions each saved model and returns the latest', async () => {
        await newIndex(store, 'docs');
        const first = randomBytes(1000);
        const second = randomBytes(2 << 20);
        expect(await store.saveModel('docs', first)).toBe(1);
        expect((await store.getIndex('docs'))!.sealedModel!.equals(first)).toBe(true);
        expect(await store.saveModel('docs', second)).toBe(2);
        const read = await store.getIndex('docs');
        expect(read!.modelVersion).toBe(2);
        expect(read!.sealedModel!.equals(second)).toBe(true);
      });
    });

    describe('persistence', () => {
      it('keeps everything across close and reopen', async () => {
        await newIndex(store, 'docs');
        const batch = items(100);
        await store.putItems('docs', batch);
        await store.deleteItems('docs', [batch[0].token]);
        const model = randomBytes(500);
        await store.saveModel('docs', model);
        const wrapped = (await store.getIndex('docs'))!.wrappedDataKey;
        await store.close();

        store = await location.open();
        const read = await store.getIndex('docs');
        expect(read!.wrappedDataKey.equals(wrapped)).toBe(true);
        expect(read!.sealedModel!.equals(model)).toBe(true);
        expect(read!.modelVersion).toBe(1);
        expect(await store.countItems('docs')).toBe(99);
        const found = await store.getItems('docs', batch.map((i) => i.token));
        expect(found.map((i) => hex(i.sealed))).toEqual(batch.slice(1).map((i) => hex(i.sealed)));
      });

      it('keeps training run records newest first, pages them, replaces by token and drops them with the index', async () => {
        await newIndex(store, 'docs');
        await newIndex(store, 'other');
        const runs = Array.from({ length: 5 }, () => ({ token: randomBytes(32), sealed: randomBytes(120) }));
        for (const run of runs) await store.putTrainingRun('docs', run.token, run.sealed);
        await store.putTrainingRun('other', randomBytes(32), randomBytes(10));
        const first = await store.listTrainingRuns('docs', 3);
        expect(first.map((r) => hex(r.token))).toEqual([runs[4], runs[3], runs[2]].map((r) => hex(r.token)));
        const rest = await store.listTrainingRuns('docs', 3, first[2].seq);
        expect(rest.map((r) => hex(r.token))).toEqual([runs[1], runs[0]].map((r) => hex(r.token)));
        const replaced = randomBytes(130);
        await store.putTrainingRun('docs', runs[1].token, replaced);
        expect((await store.getTrainingRun('docs', runs[1].token))!.sealed.equals(replaced)).toBe(true);
        expect(await store.getTrainingRun('other', runs[1].token)).toBeNull();
        await expect(store.putTrainingRun('missing', randomBytes(32), randomBytes(8))).rejects.toBeInstanceOf(StoreIndexNotFoundError);
        expect(await store.deleteIndex('docs')).toBe(true);
        await newIndex(store, 'docs');
        expect(await store.listTrainingRuns('docs', 10)).toEqual([]);
        expect(await store.listTrainingRuns('other', 10)).toHaveLength(1);
      });

      it('migrates an existing store without touching its data', async () => {
        await newIndex(store, 'docs');
        await store.close();
        store = await location.open();
        await store.close();
        store = await location.open();
        expect(await store.listIndexNames()).toEqual(['docs']);
      });
    });
  });
}
