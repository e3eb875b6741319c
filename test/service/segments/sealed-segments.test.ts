// Sealed segment sets on both stores: a restart from a set plus the tail of writes since (new
// items, replacements, updates, deletes, in random order: a property test) equals the index before
// it for each index type (same ids, same search answers, same items); the open really read the set;
// tampering with the set (a flipped byte, two segments swapped, one dropped, one from another set)
// is an IntegrityError on open; a whole older set put back is only a longer tail (the items are the
// current ones); a set for another model is not used; and the segment keeper writes a set after
// training and again once the tail passes its share of the index. A set whose chunks the sealing
// workers sealed opens the same, and a worker failing (or lacking the key) falls back to this thread.

import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { INDEX_TYPES, type IndexType } from '../../../src/service/enumerations.js';
import { IntegrityError } from '../../../src/service/errors.js';
import { compileFilterPlan } from '../../../src/service/input/metadata-filter.js';
import type { OpenIndex } from '../../../src/service/open/open-index.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import { SealWorkers } from '../../../src/service/sealing/seal-workers.js';
import { writeSegmentSet } from '../../../src/service/segments/segment-writer.js';
import type { ItemInput, JsonObject } from '../../../src/service/types.js';
import { eventually } from '../../support/eventually.js';
import { rejection } from '../../support/rejection.js';
import { seededVectors } from '../reference-search.js';
import { forEachStore, newKey } from '../service-harness.js';
import { segmentTests } from './segment-tests.js';

const DIM = 16;
const N = 160;
/** Small segments, so that a set has many of them. */
const SEGMENT_BYTES = 4096;
const queries = seededVectors(6, DIM, 99);

function itemsFrom(seed: number, count: number, prefix = 'item'): ItemInput[] {
  return seededVectors(count, DIM, seed).map((vector, i) => ({ id: `${prefix}-${i}`, vector, contents: `c${seed}-${i}`, metadata: { i, group: i % 3 } }));
}

forEachStore((fresh) => {
  const key = newKey();
  const tests = segmentTests(fresh, key, SEGMENT_BYTES);
  const { service, openDirect, closeDirect, writeSet } = tests;

  async function trainedIndex(type: IndexType): Promise<void> {
    const s = await service();
    await s.createIndex('docs', key, { dimension: DIM, type, ...(type === 'ivf_pq' ? { pqSubvectors: 4 } : {}) });
    await s.upsert('docs', key, itemsFrom(1, N));
    await s.train('docs', key, { nLists: 6, wait: true });
    await s.close();
  }

  /** What a client sees of the index: ids, every item with its payload, and search answers at a few probes. */
  async function observe(s: CipherdexIndexService): Promise<unknown> {
    const ids = (await s.listIds('docs', key)).sort();
    const items = await s.get('docs', key, ids, ['vector', 'contents', 'metadata']);
    const searches = [];
    for (const nProbes of [1, 2, 4]) {
      const results = await s.search('docs', key, queries, { topK: 8, nProbes, include: ['metadata'] });
      searches.push(results.map((r) => r.hits.map((h) => [h.id, h.distance, h.metadata])));
    }
    const filtered = await s.search('docs', key, queries.slice(0, 2), { topK: 5, filter: { group: 1 } });
    return { ids, items, searches, filtered: filtered.map((r) => r.hits.map((h) => h.id)) };
  }

  type Op = { kind: 'add'; n: number } | { kind: 'replace'; at: number } | { kind: 'update'; at: number } | { kind: 'delete'; at: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ kind: fc.constant('replace' as const), at: fc.nat(N - 1) }),
    fc.record({ kind: fc.constant('update' as const), at: fc.nat(N - 1) }),
    fc.record({ kind: fc.constant('delete' as const), at: fc.nat(N - 1) }),
  );

  async function apply(s: CipherdexIndexService, ops: Op[], seed: number): Promise<void> {
    let added = 0;
    for (const [i, o] of ops.entries()) {
      if (o.kind === 'add') {
        await s.upsert('docs', key, itemsFrom(seed * 100 + i, o.n, `new-${added}`));
        added++;
      } else if (o.kind === 'replace') {
        const [replacement] = itemsFrom(seed * 100 + i, 1);
        await s.upsert('docs', key, [{ ...replacement, id: `item-${o.at}` }]);
      } else if (o.kind === 'update') {
        await s.update('docs', key, [`item-${o.at}`], { metadata: { i: -o.at, group: (o.at + 1) % 3 }, contents: `updated-${i}` });
      } else {
        await s.delete('docs', key, [`item-${o.at}`]);
      }
    }
  }

  for (const type of INDEX_TYPES) {
    it(`${type}: a restart from a segment set plus the tail equals the index before it (property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 0, maxLength: 8 }), fc.integer({ min: 1, max: 1000 }), async (ops, seed) => {
          await tests.harness.dispose();
          tests.harness = await fresh();
          await trainedIndex(type);
          await writeSet();
          const before = await service();
          await apply(before, ops, seed);
          const expected = await observe(before);
          await before.close();
          const after = await service();
          expect(await observe(after)).toEqual(expected);
          await after.close();
          // The restart really came from the set, with exactly the changes as its tail.
          const { open } = await openDirect();
          expect(open.loadedFromSegments).toBe(true);
          expect(open.isTrained).toBe(true);
          await closeDirect();
        }),
        { numRuns: 3, seed: 12 },
      );
    });
  }

  describe('sealed in the sealing workers', () => {
    async function pool(): Promise<SealWorkers> {
      const workers = new SealWorkers(2);
      tests.cleanup.push(() => workers.close());
      return workers;
    }

    /** Writes the set through `workers` (with `sealSegment` as given), then checks a restart reads it and equals the index before. */
    async function writeAndReopen(workers: SealWorkers): Promise<{ dataSegments: number }> {
      await trainedIndex('ivf_sq8');
      const before = await service();
      const expected = await observe(before);
      await before.close();
      const { store, open } = await openDirect(workers);
      expect(await writeSegmentSet(store, open, SEGMENT_BYTES)).toBe(true);
      await closeDirect();
      const { rows } = await tests.harness.rawSegments('docs');
      const after = await service();
      expect(await observe(after)).toEqual(expected);
      await after.close();
      const { open: reopened } = await openDirect();
      expect(reopened.loadedFromSegments).toBe(true);
      return { dataSegments: rows.length - 1 };
    }

    it('a set whose chunks the workers sealed opens on this thread and equals the index before it', async () => {
      const workers = await pool();
      const { dataSegments } = await writeAndReopen(workers);
      expect(dataSegments).toBeGreaterThan(3);
      expect(workers.sealedSegments).toBe(dataSegments);
    });

    it('a worker failing after it took a chunk falls back to sealing the whole set on this thread', async () => {
      const workers = await pool();
      const real = workers.sealSegment.bind(workers);
      let calls = 0;
      // The chunk really went to a worker (its buffer is gone here); then the answer is lost.
      vi.spyOn(workers, 'sealSegment').mockImplementation(async (handle, setId, segment, plaintext) => {
        calls++;
        const sealed = await real(handle, setId, segment, plaintext);
        if (segment === 2) throw new Error('worker died');
        return sealed;
      });
      const { dataSegments } = await writeAndReopen(workers);
      expect(calls).toBe(dataSegments);
      expect(workers.sealedSegments).toBe(dataSegments);
    });

    it('workers without the key of the index fall back to this thread', async () => {
      const workers = await pool();
      const unregistered = vi.spyOn(workers, 'sealSegment');
      await trainedIndex('ivf_sq8');
      const { store, open } = await openDirect(workers);
      open.sealer!.workers.unregister(open.sealer!.handle);
      expect(await writeSegmentSet(store, open, SEGMENT_BYTES)).toBe(true);
      expect(unregistered).toHaveBeenCalled();
      expect(workers.sealedSegments).toBe(0);
      await closeDirect();
      const s = await service();
      expect((await s.listIds('docs', key)).length).toBe(N);
      await s.close();
      const { open: reopened } = await openDirect();
      expect(reopened.loadedFromSegments).toBe(true);
    });
  });

  it('items the set holds but the store no longer does (deleted, replaced, updated since) leave no trace: paging and filtered counts equal an open from records', async () => {
    await trainedIndex('ivf_sq8');
    await writeSet();
    await closeDirect();
    const s = await service();
    await s.delete('docs', key, ['item-1', 'item-4', 'item-9']);
    await s.upsert('docs', key, [{ ...itemsFrom(11, 1)[0], id: 'item-5', metadata: { i: 500, group: 1 } }, ...itemsFrom(12, 3, 'new')]);
    await s.update('docs', key, ['item-6', 'item-7'], { metadata: { i: -6, group: 1 } });
    await s.close();
    const view = (open: OpenIndex): unknown => {
      const pages: string[][] = [];
      let after: Buffer | null = null;
      for (;;) {
        const { records, hasNextPage } = open.page(after, 17, null);
        pages.push(records.map((record) => record.id));
        if (!hasNextPage) break;
        after = records[records.length - 1].token;
      }
      const filters: JsonObject[] = [{ group: 1 }, { i: { $gte: 100 } }, { i: { $lt: 0 } }];
      const counts = filters.map((filter) => open.count(compileFilterPlan(filter)));
      return { pages, counts, size: open.size };
    };
    const fromSet = await openDirect();
    expect(fromSet.open.loadedFromSegments).toBe(true);
    expect(fromSet.open.changesSinceSegments).toBeGreaterThan(0);
    const seen = view(fromSet.open);
    // Every record was made by the paging above; the set's columns (item-records.ts) stay beside them until the index closes.
    const setBytes = fromSet.open.recordBytes();
    await closeDirect();
    const { rows } = await tests.harness.rawSegments('docs');
    await tests.harness.setRawSegments('docs', null, rows);
    const fromRecords = await openDirect();
    expect(fromRecords.open.loadedFromSegments).toBe(false);
    expect(view(fromRecords.open)).toEqual(seen);
    expect(setBytes).toBeGreaterThan(fromRecords.open.recordBytes());
  });

  describe('tampering', () => {
    async function tampered(change: (rows: Array<{ setId: Buffer; seq: number; sealed: Buffer }>) => Array<{ setId: Buffer; seq: number; sealed: Buffer }>): Promise<unknown> {
      await trainedIndex('ivf_sq8');
      await writeSet();
      await closeDirect();
      const { segmentSet, rows } = await tests.harness.rawSegments('docs');
      expect(rows.length).toBeGreaterThan(3);
      await tests.harness.setRawSegments('docs', segmentSet, change(rows));
      const s = await service();
      return rejection(s.get('docs', key, ['item-0']));
    }

    it('a flipped byte in a segment is an IntegrityError', async () => {
      const error = await tampered((rows) =>
        rows.map((row) => {
          if (row.seq !== 2) return row;
          const sealed = Buffer.from(row.sealed);
          sealed[sealed.length >> 1] ^= 1;
          return { ...row, sealed };
        }),
      );
      expect(error).toBeInstanceOf(IntegrityError);
    });

    it('two segments swapped is an IntegrityError', async () => {
      const error = await tampered((rows) => rows.map((row) => (row.seq === 1 ? { ...row, sealed: rows[2].sealed } : row.seq === 2 ? { ...row, sealed: rows[1].sealed } : row)));
      expect(error).toBeInstanceOf(IntegrityError);
    });

    it('a dropped segment (in the middle or the last) is an IntegrityError', async () => {
      expect(await tampered((rows) => rows.filter((row) => row.seq !== 2))).toBeInstanceOf(IntegrityError);
      await tests.harness.dispose();
      tests.harness = await fresh();
      expect(await tampered((rows) => rows.slice(0, -1))).toBeInstanceOf(IntegrityError);
    });

    it('a segment of another set of the same index is an IntegrityError', async () => {
      await trainedIndex('ivf_flat');
      await writeSet();
      const older = await tests.harness.rawSegments('docs');
      await closeDirect();
      await writeSet();
      await closeDirect();
      const newer = await tests.harness.rawSegments('docs');
      await tests.harness.setRawSegments('docs', newer.segmentSet, newer.rows.map((row) => (row.seq === 1 ? { ...row, sealed: older.rows[1].sealed } : row)));
      const s = await service();
      expect(await rejection(s.get('docs', key, ['item-0']))).toBeInstanceOf(IntegrityError);
    });

    it('a whole older set put back only lengthens the tail: the items are the current ones', async () => {
      await trainedIndex('ivf_sq8');
      await writeSet();
      const older = await tests.harness.rawSegments('docs');
      await closeDirect();
      const s = await service();
      await s.delete('docs', key, ['item-1', 'item-2']);
      await s.upsert('docs', key, [{ ...itemsFrom(7, 1)[0], id: 'item-3' }]);
      await writeSet();
      await closeDirect();
      const expected = await observe(s);
      await s.close();
      await tests.harness.setRawSegments('docs', older.segmentSet, older.rows);
      const after = await service();
      expect(await observe(after)).toEqual(expected);
      const { open } = await openDirect();
      expect(open.loadedFromSegments).toBe(true);
    });

    it('an item record rolled back under a segment set is still caught by the commitment', async () => {
      await trainedIndex('ivf_flat');
      const original = await tests.harness.rawItems('docs');
      const s = await service();
      await s.upsert('docs', key, [{ ...itemsFrom(8, 1)[0], id: 'item-0' }]);
      await s.close();
      await writeSet();
      await closeDirect();
      // item-0's older record put back: the set holds the newer one, so it is tail, read and counted.
      const now = await tests.harness.rawItems('docs');
      const target = original.find((row) => !now.some((current) => current.sealed.equals(row.sealed)))!;
      expect(target).toBeDefined();
      await tests.harness.setSealed('docs', target.token, target.sealed);
      const again = await service();
      const error = await rejection(again.get('docs', key, ['item-0']));
      expect(error).toBeInstanceOf(IntegrityError);
    });

    it('a set written for another model is not used', async () => {
      await trainedIndex('ivf_flat');
      await writeSet();
      await closeDirect();
      const s = await service();
      await s.train('docs', key, { nLists: 4, wait: true });
      const expected = await observe(s);
      await s.close();
      const after = await service();
      expect(await observe(after)).toEqual(expected);
      const { open } = await openDirect();
      expect(open.loadedFromSegments).toBe(false);
      expect(open.model?.nLists).toBe(4);
    });
  });

  describe('the segment keeper', () => {
    it('writes a set after training and again once the tail passes its share', async () => {
      const s = await tests.harness.service({ segments: true });
      await s.createIndex('docs', key, { dimension: DIM, type: 'ivf_sq8' });
      await s.upsert('docs', key, itemsFrom(1, N));
      expect((await tests.harness.rawSegments('docs')).segmentSet).toBeNull();
      await s.train('docs', key, { nLists: 6, wait: true });
      const first = (await eventually(() => tests.harness.rawSegments('docs'), (raw) => raw.segmentSet !== null, 'a segment set after training')).segmentSet!;
      // Fewer than MIN_TAIL changes: the set stays.
      await s.upsert('docs', key, itemsFrom(3, 20, 'more'));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect((await tests.harness.rawSegments('docs')).segmentSet!.equals(first)).toBe(true);
      // Past MIN_TAIL (and 10% of the index): a new set.
      await s.upsert('docs', key, itemsFrom(4, 1100, 'bulk'));
      await eventually(() => tests.harness.rawSegments('docs'), (raw) => raw.segmentSet !== null && !raw.segmentSet.equals(first), 'a new segment set once the tail passed its share');
      const expected = await observe(s);
      await s.close();
      const after = await tests.harness.service({ segments: true });
      expect(await observe(after)).toEqual(expected);
      const { open } = await openDirect();
      expect(open.loadedFromSegments).toBe(true);
    });
  });
});
