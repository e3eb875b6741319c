// A snapshot read for an open (readStreamedSnapshot) leaves its items in the stream: it gives the
// same items as readSnapshot, in order, only those `keep` marks, once; their tokens and tags packed
// in item order; and however the stream is cut into chunks. Each token is a small Buffer of its
// own, never a view into a large one (posted to another thread, a view copies its whole memory).
// A stream claiming more items than its bytes can hold does not parse, before anything is sized by
// the claim. The reader's skip, fork, string and copyTo read what bytes and into give.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkFormatError, ChunkReader, ChunkWriter } from '../../../src/service/segments/segment-chunks.js';
import { readSnapshot, readStreamedSnapshot, writeSnapshot, type IndexSnapshot, type SnapshotItem } from '../../../src/service/segments/index-snapshot.js';
import { seededRandom } from '../reference-search.js';

function snapshotOf(count: number, seed: number): IndexSnapshot {
  const random = seededRandom(seed);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const items: SnapshotItem[] = Array.from({ length: count }, (_, i) => ({
    id: i % 5 === 0 ? `é-${i}-€` : `item-${i}`,
    token: bytes(32),
    revision: Math.floor(random() * 2 ** 32),
    sealTag: bytes(16).toString('latin1'),
    metadataJson: i % 3 === 0 ? null : JSON.stringify({ i, name: 'x'.repeat(i % 40) }),
  }));
  const ids = Uint32Array.from({ length: count }, (_, i) => count - 1 - i);
  const lists = [{ ids, rows: null, norms: Float32Array.from(ids, (id) => id / 2), codes: Uint8Array.from({ length: count * 4 }, (_, k) => k % 251) }];
  return { items, lists: { nLists: 1, stride: 0, codeBytes: 4, codec: Uint8Array.of(7), lists }, text: null };
}

function written(snapshot: IndexSnapshot, chunkBytes: number): Buffer[] {
  const writer = new ChunkWriter(chunkBytes);
  writeSnapshot(writer, snapshot);
  return writer.finish();
}

describe('readStreamedSnapshot', () => {
  it('gives the items readSnapshot gives, in order, only those kept, with their tokens and tags packed, whatever the chunking', () => {
    const snapshot = snapshotOf(120, 3);
    for (const chunkBytes of [7, 61, 1 << 16]) {
      const chunks = written(snapshot, chunkBytes);
      const whole = readSnapshot(new ChunkReader(chunks), false);
      expect(whole.items).toEqual(snapshot.items);
      const streamed = readStreamedSnapshot(new ChunkReader(chunks), false);
      expect(streamed.itemCount).toBe(120);
      expect(streamed.packed.tokens.equals(Buffer.concat(snapshot.items.map((item) => item.token)))).toBe(true);
      expect(streamed.packed.tags.equals(Buffer.concat(snapshot.items.map((item) => Buffer.from(item.sealTag, 'latin1'))))).toBe(true);
      expect(Array.from(streamed.lists.lists[0].ids)).toEqual(Array.from(snapshot.lists.lists[0].ids));
      const keep = Uint8Array.from({ length: 120 }, (_, i) => (i % 7 === 3 ? 0 : 1));
      const seen: Array<[number, SnapshotItem]> = [];
      streamed.forEachItem(keep, (position, token, sealTag, revision, id, metadataJson) => {
        // A token owns a small Buffer (Node's pool at most), not the packed tokens or a chunk.
        expect(token.buffer).not.toBe(streamed.packed.tokens.buffer);
        expect(chunks.some((chunk) => chunk.buffer === token.buffer)).toBe(false);
        expect(token.buffer.byteLength).toBeLessThanOrEqual(Buffer.poolSize);
        seen.push([position, { id, token, revision, sealTag, metadataJson }]);
      });
      expect(seen.map(([position]) => position)).toEqual(keep.reduce<number[]>((kept, flag, i) => (flag === 1 ? [...kept, i] : kept), []));
      for (const [position, item] of seen) expect(item).toEqual(snapshot.items[position]);
      expect(() => streamed.forEachItem(null, () => undefined)).toThrow(/once/);
    }
  });

  it('gives every item as columns (revisions, ids, metadata) matching the items, whatever the chunking', () => {
    const snapshot = snapshotOf(90, 5);
    for (const chunkBytes of [7, 61, 1 << 16]) {
      const columns = readStreamedSnapshot(new ChunkReader(written(snapshot, chunkBytes)), false).itemColumns();
      expect(columns.count).toBe(90);
      snapshot.items.forEach((item, i) => {
        const idStart = i === 0 ? 0 : columns.idEnds[i - 1];
        const metadataStart = i === 0 ? 0 : columns.metadataEnds[i - 1];
        expect(columns.revisions[i]).toBe(item.revision);
        expect(columns.ids.toString('utf8', idStart, columns.idEnds[i])).toBe(item.id);
        expect(metadataStart === columns.metadataEnds[i] ? null : columns.metadata.toString('utf8', metadataStart, columns.metadataEnds[i])).toBe(item.metadataJson);
        expect(columns.tokens.subarray(i * 32, (i + 1) * 32).equals(item.token)).toBe(true);
        expect(columns.tags.toString('latin1', i * 16, (i + 1) * 16)).toBe(item.sealTag);
      });
    }
  });

  it('refuses a keep of another length, and a stream claiming more items than its bytes hold', () => {
    const chunks = written(snapshotOf(10, 4), 64);
    expect(() => readStreamedSnapshot(new ChunkReader(chunks), false).forEachItem(new Uint8Array(9), () => undefined)).toThrow(RangeError);
    const header = new ChunkWriter(1 << 10);
    for (const value of [0, 0, 0, 0, 0xffff_fff0]) header.u32(value);
    expect(() => readStreamedSnapshot(new ChunkReader(header.finish()), false)).toThrow(ChunkFormatError);
  });
});

describe('ChunkReader', () => {
  it('skip, fork, string and copyTo read what bytes and into read, across chunk boundaries (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.integer({ min: 1, max: 40 }), fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 30 }), (data, chunkBytes, steps) => {
        const chunks: Buffer[] = [];
        for (let at = 0; at < data.length; at += chunkBytes) chunks.push(Buffer.from(data.subarray(at, at + chunkBytes)));
        const reader = new ChunkReader(chunks);
        let at = 0;
        steps.forEach((n, i) => {
          if (at + n > data.length) return;
          expect(reader.remaining).toBe(data.length - at);
          const expected = Buffer.from(data.subarray(at, at + n));
          const fork = reader.fork();
          if (i % 3 === 0) expect(reader.string(n, 'latin1')).toBe(expected.toString('latin1'));
          else if (i % 3 === 1) {
            const target = Buffer.alloc(n + 3, 0xee);
            reader.copyTo(target, 2, n);
            expect(target.subarray(2, 2 + n).equals(expected)).toBe(true);
            expect(target[0]).toBe(0xee);
            expect(target[n + 2]).toBe(0xee);
          } else reader.skip(n);
          // The fork stayed where the reader was.
          expect(fork.bytes(n).equals(expected)).toBe(true);
          at += n;
        });
        expect(reader.remaining).toBe(data.length - at);
        expect(() => reader.skip(data.length - at + 1)).toThrow(ChunkFormatError);
      }),
    );
  });
});
