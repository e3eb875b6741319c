// ItemRecords keeps a restored set's items as columns and makes their records on demand: the
// records read back are the set's items (the same object when read twice), found by id with or
// without the token, and writes over them (replace at a new slot, update in place, delete) behave
// as a map of records would: size, ids, slots, the paging keys (an item rewritten to a later slot
// keeps its set key) and the snapshot items (from the columns where no record was made).
import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ItemRecords } from '../../../src/service/open/item-records.js';
import type { ItemRecord } from '../../../src/service/open/open-index.js';
import { TokenPositions } from '../../../src/service/open/token-positions.js';
import { ChunkReader, ChunkWriter } from '../../../src/service/segments/segment-chunks.js';
import { streamSnapshot, writeSnapshot, type SnapshotItem } from '../../../src/service/segments/index-snapshot.js';

const tokenKey = randomBytes(32);
const tokenOf = (id: string): Buffer => createHmac('sha256', tokenKey).update(id).digest();

function restored(count: number): { records: ItemRecords; items: SnapshotItem[] } {
  const items: SnapshotItem[] = Array.from({ length: count }, (_, i) => ({
    id: i % 4 === 0 ? `é-${i}` : `item-${i}`,
    token: tokenOf(i % 4 === 0 ? `é-${i}` : `item-${i}`),
    revision: i * 7 + 1,
    sealTag: randomBytes(16).toString('latin1'),
    metadataJson: i % 3 === 0 ? null : JSON.stringify({ i, group: i % 2 }),
  }));
  const writer = new ChunkWriter(97);
  writeSnapshot(writer, { items, lists: { nLists: 0, stride: 0, codeBytes: 0, codec: null, lists: [] }, text: null });
  const read = streamSnapshot(new ChunkReader(writer.finish()), false, () => ({ add() {}, commit() {} })).next();
  if (read.done !== true) throw new Error('the snapshot did not parse whole');
  const records = new ItemRecords(tokenOf);
  records.restore(read.value.columns, new TokenPositions(read.value.packed.tokens));
  return { records, items };
}

const asRecord = (item: SnapshotItem): ItemRecord => ({ id: item.id, token: item.token, revision: item.revision, sealTag: item.sealTag, metadata: item.metadataJson === null ? null : JSON.parse(item.metadataJson) });

describe('ItemRecords', () => {
  it('makes the set items\' records on demand, the same object each time, and finds them by id', () => {
    const { records, items } = restored(50);
    expect(records.size).toBe(50);
    const bytesBefore = records.bytes;
    items.forEach((item, slot) => {
      expect(records.has(slot)).toBe(true);
      expect(records.snapshotItem(slot)).toEqual(item);
      expect(records.get(slot)).toEqual(asRecord(item));
      expect(records.get(slot)).toBe(records.get(slot));
      expect(records.slotOf(item.id)).toBe(slot);
      expect(records.slotOf(item.id, item.token)).toBe(slot);
      expect(records.snapshotItem(slot)).toEqual(item);
    });
    expect(records.bytes).toBeGreaterThan(bytesBefore);
    expect(records.get(50)).toBeUndefined();
    expect(records.slotOf('absent')).toBeUndefined();
    expect(records.ids()).toEqual(items.map((item) => item.id));
  });

  it('orders the set\'s paging keys by token, ties in their first bytes included', () => {
    // 300 items whose tokens share their first 8 bytes in pairs: the sort's 64-bit prefixes tie.
    const records = new ItemRecords(tokenOf);
    const count = 300;
    const tokens = Buffer.alloc(count * 32);
    for (let i = 0; i < count; i++) {
      const token = randomBytes(32);
      if (i % 2 === 1) tokens.copy(token, 0, (i - 1) * 32, (i - 1) * 32 + 8);
      token.copy(tokens, i * 32);
    }
    const ids = Buffer.from(Array.from({ length: count }, (_, i) => `id-${i}`).join(''));
    let end = 0;
    const idEnds = Uint32Array.from({ length: count }, (_, i) => (end += `id-${i}`.length));
    records.restore(
      { count, tokens, tags: Buffer.alloc(count * 16), revisions: new Uint32Array(count), ids, idEnds, metadata: Buffer.alloc(0), metadataEnds: new Uint32Array(count) },
      new TokenPositions(tokens),
    );
    const keys = records.setItemKeys();
    expect(keys.length).toBe(count);
    for (let k = 1; k < count; k++) expect(Buffer.compare(keys[k - 1].token, keys[k].token)).toBe(-1);
  });

  it('follows replaces, updates and deletes as a map of records would', () => {
    const { records, items } = restored(20);
    // item 3 rewritten to slot 20; item 5 updated in place; item 8 deleted; a new item at slot 21.
    const rewritten = { ...asRecord(items[3]), revision: 99, metadata: { i: 300 } };
    records.delete(3);
    records.set(20, rewritten);
    const updated = { ...asRecord(items[5]), metadata: { i: -5 } };
    records.set(5, updated);
    records.delete(8);
    const fresh: ItemRecord = { id: 'new', token: tokenOf('new'), revision: 1, sealTag: 'x'.repeat(16), metadata: null };
    records.set(21, fresh);
    expect(records.size).toBe(20);
    expect(records.has(3)).toBe(false);
    expect(records.get(3)).toBeUndefined();
    expect(records.slotOf(items[3].id)).toBe(20);
    expect(records.get(20)).toBe(rewritten);
    expect(records.get(5)).toBe(updated);
    expect(records.slotOf(items[5].id, items[5].token)).toBe(5);
    expect(records.snapshotItem(5).metadataJson).toBe('{"i":-5}');
    expect(records.slotOf(items[8].id)).toBeUndefined();
    expect(records.slotOf('new')).toBe(21);
    const expectedSlots = [...Array.from({ length: 20 }, (_, i) => i).filter((i) => i !== 3 && i !== 8), 20, 21];
    expect([...records.slots()]).toEqual(expectedSlots);
    expect(records.ids().sort()).toEqual(expectedSlots.map((slot) => records.get(slot)!.id).sort());
    // The paging keys of the set: every set item still an item (item 3 at its new slot), not item 8, in token order.
    const keys = records.setItemKeys();
    expect(keys.map((key) => key.id).sort()).toEqual(items.filter((_, i) => i !== 8).map((item) => item.id).sort());
    for (let k = 1; k < keys.length; k++) expect(Buffer.compare(keys[k - 1].token, keys[k].token)).toBe(-1);
    keys.forEach((key) => expect(key.token.equals(tokenOf(key.id))).toBe(true));
    records.delete(20);
    expect(records.slotOf(items[3].id)).toBeUndefined();
    expect(records.setItemKeys().map((key) => key.id)).not.toContain(items[3].id);
    records.clear();
    expect(records.size).toBe(0);
    expect(records.bytes).toBe(0);
    expect(records.slotOf(items[0].id)).toBeUndefined();
  });
});
