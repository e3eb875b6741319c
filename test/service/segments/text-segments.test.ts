// Sealed segment sets of indexes with text search, on both stores: a restart from a set plus the
// tail (new items, re-upserts with other words, updates of contents and text fields, deletes, an
// item deleted and put back) gives exactly the BM25 scores and rankings of the same index opened
// from its records, and of the index before the restart; the open really took the term index
// from the set. A set without a term index (as written before sets carried one) or from another
// analysis is not used: the open reads the records. A
// tampered segment is an IntegrityError. The segment keeper writes sets for these indexes too.

import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { IntegrityError } from '../../../src/service/errors.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import { SealWorkers } from '../../../src/service/sealing/seal-workers.js';
import { sealSegmentSet, type SegmentSetMeta } from '../../../src/service/segments/segment-set-record.js';
import type { ItemInput } from '../../../src/service/types.js';
import { eventually } from '../../support/eventually.js';
import { rejection } from '../../support/rejection.js';
import { seededRandom, seededVectors } from '../reference-search.js';
import { forEachStore, newKey } from '../service-harness.js';
import { segmentTests } from './segment-tests.js';

const DIM = 8;
const N = 200;
/** Small segments, so that the term index spans several of them. */
const SEGMENT_BYTES = 2048;
const WORDS = ['harbour', 'lantern', 'granite', 'meadow', 'copper', 'violet', 'thunder', 'orchard', 'pebble', 'saffron', 'glacier', 'falcon', 'quarry', 'ember', 'willow', 'cobalt', 'running', 'runs', 'the', 'and'];
const QUERIES = ['harbour', 'lantern granite', 'run', 'cobalt ember willow', 'saffron the falcon', 'quarry', 'copper violet thunder orchard', 'absentword'];

function text(random: () => number, words: number): string {
  return Array.from({ length: words }, () => WORDS[Math.floor(WORDS.length * random() ** 1.7)]).join(' ');
}

function itemsFrom(seed: number, count: number, prefix = 'item'): ItemInput[] {
  const random = seededRandom(seed);
  return seededVectors(count, DIM, seed).map((vector, i) => ({
    id: `${prefix}-${i}`,
    vector,
    contents: text(random, 2 + Math.floor(random() * 14)),
    metadata: { title: text(random, 1 + Math.floor(random() * 3)), group: i % 3 },
  }));
}

forEachStore((fresh) => {
  const key = newKey();
  const tests = segmentTests(fresh, key, SEGMENT_BYTES);
  const { service, openDirect, closeDirect, writeSet } = tests;

  async function trainedTextIndex(): Promise<void> {
    const s = await service();
    await s.createIndex('docs', key, { dimension: DIM, textSearch: true, textFields: ['title'] });
    await s.upsert('docs', key, itemsFrom(1, N));
    await s.train('docs', key, { nLists: 4, wait: true });
    await s.close();
  }

  /**
   * Every query's whole ranking, as (id, BM25 score) in rank order. Equal scores are ordered by
   * engine slot, which a load from records numbers otherwise than a set: within a run of equal
   * scores the ids are sorted, so only a real difference in scores or order shows.
   */
  async function rankings(s: CipherdexIndexService): Promise<Array<Array<[string, number]>>> {
    const results = await s.search('docs', key, null, { texts: QUERIES, topK: 1000 });
    return results.map((result) => {
      const hits = result.hits.map((hit): [string, number] => [hit.id, hit.textScore!]);
      return hits.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    });
  }

  /** The same index opened from every record: its set hidden for one open, then put back. */
  async function rankingsFromRecords(): Promise<Array<Array<[string, number]>>> {
    const { segmentSet, rows } = await tests.harness.rawSegments('docs');
    await tests.harness.setRawSegments('docs', null, []);
    const { open } = await openDirect();
    expect(open.loadedFromSegments).toBe(false);
    await closeDirect();
    const s = await service();
    const ranked = await rankings(s);
    await s.close();
    await tests.harness.setRawSegments('docs', segmentSet, rows);
    return ranked;
  }

  /** Writes after the set: every kind of change a tail can hold. */
  async function changeAfterTheSet(s: CipherdexIndexService): Promise<void> {
    const random = seededRandom(5);
    await s.upsert('docs', key, itemsFrom(2, 30, 'new'));
    // Re-upserts with other words (the set's version of each must lose its terms).
    await s.upsert('docs', key, itemsFrom(3, 15).map((item, i) => ({ ...item, id: `item-${i * 7}` })));
    // Updates of contents and of the text field (same slot, new terms).
    for (let i = 100; i < 107; i++) await s.update('docs', key, [`item-${i}`], { contents: text(random, 9), metadata: { title: 'lantern lantern', group: 0 } });
    await s.delete('docs', key, ['item-2', 'item-3', 'item-4', 'item-11', 'new-5']);
    // Deleted, then put back with other words.
    await s.upsert('docs', key, [{ ...itemsFrom(4, 1)[0], id: 'item-3', contents: 'saffron saffron quarry' }]);
  }

  it('a restart from a set plus the tail ranks exactly as the index opened from its records', async () => {
    await trainedTextIndex();
    await writeSet();
    const { rows } = await tests.harness.rawSegments('docs');
    expect(rows.length).toBeGreaterThan(4);
    const before = await service();
    await changeAfterTheSet(before);
    const expected = await rankings(before);
    await before.close();
    expect(expected.filter((ranking) => ranking.length > 1).length).toBeGreaterThan(5);

    const { open } = await openDirect();
    expect(open.loadedFromSegments).toBe(true);
    // Left out of the set: 15 re-upserted, 7 updated, 4 deleted; the tail read: 29 new (of 30), the
    // 15 and the 7 again, and the one put back. Less the rows the engine keeps exact (IVF_SQ8, the
    // default type: the new vectors beyond its trained ranges), which every set leaves to the tail,
    // so no newer set would absorb them.
    expect(open.engine.exactRows).toBeGreaterThan(0);
    expect(open.changesSinceSegments).toBe(15 + 7 + 4 + (29 + 15 + 7 + 1) - open.engine.exactRows);
    await closeDirect();
    const after = await service();
    expect(await rankings(after)).toEqual(expected);
    await after.close();
    expect(await rankingsFromRecords()).toEqual(expected);
  });

  it('opens the same through the sealing workers (the tail analysed there)', async () => {
    await trainedTextIndex();
    await writeSet();
    const s = await service();
    await changeAfterTheSet(s);
    const expected = await rankings(s);
    await s.close();
    const workers = new SealWorkers(1);
    tests.cleanup.push(() => workers.close());
    const { open } = await openDirect(workers);
    expect(open.loadedFromSegments).toBe(true);
    const scores = QUERIES.map((query) => open.text!.search(query, 1000).map(({ key: slot, score }): [string, number] => [open.recordAtSlot(slot)!.id, score]));
    expect(scores.map((ranking) => ranking.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)))).toEqual(expected);
  });

  it('a set without a term index (as written before sets carried one) is not used: the open reads the records', async () => {
    await trainedTextIndex();
    const { store, open } = await openDirect();
    const snapshot = open.segmentSnapshot()!;
    const meta: SegmentSetMeta = { commitmentSeq: open.commitment.seq, modelTag: open.modelSealTag!, textDigest: null };
    const sealed = await sealSegmentSet(open.cipher, 'docs', { ...snapshot, text: null }, meta, SEGMENT_BYTES);
    await store.replaceSegments('docs', sealed.setId, sealed.segments);
    await closeDirect();
    expect((await tests.harness.rawSegments('docs')).segmentSet).not.toBeNull();
    const s = await service();
    await changeAfterTheSet(s);
    const expected = await rankings(s);
    await s.close();
    const { open: reopened } = await openDirect();
    expect(reopened.loadedFromSegments).toBe(false);
    await closeDirect();
    const after = await service();
    expect(await rankings(after)).toEqual(expected);
    await after.close();
  });

  it('a set whose term index another analysis made is not used', async () => {
    await trainedTextIndex();
    const { store, open } = await openDirect();
    const meta: SegmentSetMeta = { commitmentSeq: open.commitment.seq, modelTag: open.modelSealTag!, textDigest: randomBytes(32) };
    const sealed = await sealSegmentSet(open.cipher, 'docs', open.segmentSnapshot()!, meta, SEGMENT_BYTES);
    await store.replaceSegments('docs', sealed.setId, sealed.segments);
    await closeDirect();
    const { open: reopened } = await openDirect();
    expect(reopened.loadedFromSegments).toBe(false);
    expect(reopened.text!.terms.documentCount).toBe(N);
  });

  it('a flipped byte in the segments holding the term index is an IntegrityError', async () => {
    await trainedTextIndex();
    await writeSet();
    const { segmentSet, rows } = await tests.harness.rawSegments('docs');
    // The term index is the end of the stream: the last data segment.
    const last = rows[rows.length - 1].seq;
    const tampered = rows.map((row) => {
      if (row.seq !== last) return row;
      const sealed = Buffer.from(row.sealed);
      sealed[sealed.length >> 1] ^= 1;
      return { ...row, sealed };
    });
    await tests.harness.setRawSegments('docs', segmentSet, tampered);
    const s = await service();
    expect(await rejection(s.search('docs', key, null, { texts: ['harbour'] }))).toBeInstanceOf(IntegrityError);
    await s.close();
  });

  it('the segment keeper writes a set for an index with text search after training', async () => {
    const s = await tests.harness.service({ segments: true });
    await s.createIndex('docs', key, { dimension: DIM, textSearch: true, textFields: ['title'] });
    await s.upsert('docs', key, itemsFrom(1, N));
    await s.train('docs', key, { nLists: 4, wait: true });
    await eventually(() => tests.harness.rawSegments('docs'), (raw) => raw.segmentSet !== null, 'a segment set after training');
    const expected = await rankings(s);
    await s.close();
    const { open } = await openDirect();
    expect(open.loadedFromSegments).toBe(true);
    await closeDirect();
    const after = await service();
    expect(await rankings(after)).toEqual(expected);
    await after.close();
  });
});
