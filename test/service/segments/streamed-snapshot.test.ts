// A snapshot read as its chunks arrive (streamSnapshot) gives what readSnapshot gives, however the
// stream is cut and pushed: its items as columns, their tokens and tags packed, and every list
// handed to the import in order with its bytes (rows, norms, codes) before the import is
// committed, once at the end. It reads no chunk after the one it was in when it last yielded (the
// chunks read past are released and wiped, and the result is still exact), waits when the stream
// stops early, and refuses a stream claiming more items than its bytes hold before anything is
// sized by the claim. The reader's skip, fork, string and copyTo read what bytes and into give.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { regionsOf, type ListContents, type ListEntries, type ListImport } from '../../../src/engine/index.js';
import { ChunkFormatError, ChunkReader, ChunkWriter } from '../../../src/service/segments/segment-chunks.js';
import { readSnapshot, streamSnapshot, writeSnapshot, type IndexSnapshot, type SnapshotItem, type StreamedSnapshot } from '../../../src/service/segments/index-snapshot.js';
import { seededRandom } from '../reference-search.js';

function snapshotOf(count: number, seed: number, stride = 0): IndexSnapshot {
  const random = seededRandom(seed);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(random() * 256)));
  const items: SnapshotItem[] = Array.from({ length: count }, (_, i) => ({
    id: i % 5 === 0 ? `é-${i}-€` : `item-${i}`,
    token: bytes(32),
    revision: Math.floor(random() * 2 ** 32),
    sealTag: bytes(16).toString('latin1'),
    metadataJson: i % 3 === 0 ? null : JSON.stringify({ i, name: 'x'.repeat(i % 40) }),
  }));
  // Lists of 0, a few and many entries, the ids a permutation of the items.
  const order = Array.from({ length: count }, (_, i) => count - 1 - i);
  const sizes = [0, 3, Math.floor(count / 2), count - 3 - Math.floor(count / 2)];
  let at = 0;
  const lists: ListEntries[] = sizes.map((n) => {
    const ids = Uint32Array.from(order.slice(at, (at += n)));
    return {
      ids,
      rows: stride > 0 ? Float32Array.from({ length: n * stride }, () => random()) : null,
      norms: Float32Array.from(ids, (id) => id / 2),
      codes: Uint8Array.from({ length: n * 4 }, () => Math.floor(random() * 256)),
    };
  });
  return { items, lists: { nLists: sizes.length, stride, codeBytes: 4, codec: Uint8Array.of(7), lists }, text: null };
}

function written(snapshot: IndexSnapshot, chunkBytes: number): Buffer[] {
  const writer = new ChunkWriter(chunkBytes);
  writeSnapshot(writer, snapshot);
  return writer.finish();
}

/** An import that keeps copies of each list and notes when it is committed. */
function recording(): { destination: (shape: Omit<ListContents, 'lists'>, items: number) => ListImport; lists: ListContents | null; items: number; committed: boolean } {
  const record = {
    lists: null as ListContents | null,
    items: -1,
    committed: false,
    destination: (shape: Omit<ListContents, 'lists'>, items: number): ListImport => {
      const lists: ListContents = { ...shape, lists: [] };
      record.lists = lists;
      record.items = items;
      return {
        add(ids, fill) {
          expect(record.committed).toBe(false);
          const entries: ListEntries = { ids: ids.slice(), rows: shape.stride > 0 ? new Float32Array(ids.length * shape.stride) : null, norms: new Float32Array(ids.length), codes: new Uint8Array(ids.length * shape.codeBytes) };
          fill(regionsOf(entries));
          lists.lists.push(entries);
        },
        commit() {
          record.committed = true;
        },
      };
    },
  };
  return record;
}

/** Pushes `chunks` one at a time, releasing what was read past after each; the snapshot once done. */
function streamed(chunks: readonly Buffer[], destination: ReturnType<typeof recording>['destination'], total = chunks.reduce((sum, chunk) => sum + chunk.length, 0)): { snapshot: StreamedSnapshot | null; yields: number } {
  const input = new ChunkReader([], total);
  const parse = streamSnapshot(input, false, destination);
  let yields = 0;
  for (const chunk of chunks) {
    input.push(chunk);
    const step = parse.next();
    input.release();
    if (step.done === true) return { snapshot: step.value, yields };
    yields++;
  }
  return { snapshot: null, yields };
}

describe('streamSnapshot', () => {
  for (const stride of [0, 3]) {
    it(`gives what readSnapshot gives, items as columns and lists in order, whatever the chunking and with the chunks read past wiped (stride ${stride})`, () => {
      const snapshot = snapshotOf(120, 3, stride);
      for (const chunkBytes of [7, 61, 1 << 16]) {
        const whole = readSnapshot(new ChunkReader(written(snapshot, chunkBytes)), false);
        expect(whole.items).toEqual(snapshot.items);
        expect(whole.lists).toEqual(snapshot.lists);
        const chunks = written(snapshot, chunkBytes);
        const record = recording();
        const { snapshot: read, yields } = streamed(chunks, record.destination);
        expect(read).not.toBeNull();
        expect(yields).toBe(chunks.length - 1);
        expect(record.committed).toBe(true);
        expect(record.items).toBe(120);
        expect(record.lists).toEqual(snapshot.lists);
        // Every chunk but the last was released, so wiped: nothing read from them after that.
        if (chunks.length > 1) expect(chunks.slice(0, -1).every((chunk) => chunk.every((byte) => byte === 0))).toBe(true);
        const { columns, packed } = read!;
        expect(read!.itemCount).toBe(120);
        expect(packed.tokens.equals(Buffer.concat(snapshot.items.map((item) => item.token)))).toBe(true);
        expect(packed.tags.equals(Buffer.concat(snapshot.items.map((item) => Buffer.from(item.sealTag, 'latin1'))))).toBe(true);
        snapshot.items.forEach((item, i) => {
          const idStart = i === 0 ? 0 : columns.idEnds[i - 1];
          const metadataStart = i === 0 ? 0 : columns.metadataEnds[i - 1];
          expect(columns.revisions[i]).toBe(item.revision);
          expect(columns.ids.toString('utf8', idStart, columns.idEnds[i])).toBe(item.id);
          expect(metadataStart === columns.metadataEnds[i] ? null : columns.metadata.toString('utf8', metadataStart, columns.metadataEnds[i])).toBe(item.metadataJson);
        });
      }
    });
  }

  it('waits while the stream stops short, and the import is never committed', () => {
    const chunks = written(snapshotOf(40, 6), 97);
    const record = recording();
    const { snapshot } = streamed(chunks.slice(0, -1), record.destination, chunks.reduce((sum, chunk) => sum + chunk.length, 0));
    expect(snapshot).toBeNull();
    expect(record.committed).toBe(false);
    // Read at once, a stream short of its end does not parse.
    expect(() => readSnapshot(new ChunkReader(chunks.slice(0, -1)), false)).toThrow(ChunkFormatError);
  });

  it('refuses a stream claiming more items than its bytes hold, and a list naming an item past them', () => {
    const header = new ChunkWriter(1 << 10);
    for (const value of [0, 0, 0, 0, 0xffff_fff0]) header.u32(value);
    expect(() => readSnapshot(new ChunkReader(header.finish()), false)).toThrow(ChunkFormatError);
    const snapshot = snapshotOf(10, 4);
    const beyond = { ...snapshot, lists: { ...snapshot.lists, lists: snapshot.lists.lists.map((list, i) => (i === 1 ? { ...list, ids: Uint32Array.of(0, 1, 10) } : list)) } };
    expect(() => readSnapshot(new ChunkReader(written(beyond, 64)), false)).toThrow(ChunkFormatError);
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

  it('pushed a chunk at a time, has available what was pushed and not read, and refuses more than its length', () => {
    const data = Buffer.from(Array.from({ length: 50 }, (_, i) => i));
    const reader = new ChunkReader([], 50);
    expect([reader.available, reader.remaining, reader.done]).toEqual([0, 50, false]);
    reader.push(data.subarray(0, 20));
    reader.skip(15);
    expect([reader.available, reader.remaining]).toEqual([5, 35]);
    reader.push(data.subarray(20, 50));
    expect(reader.bytes(10).equals(data.subarray(15, 25))).toBe(true);
    expect([reader.available, reader.remaining]).toEqual([25, 25]);
    expect(() => reader.push(Buffer.alloc(1))).toThrow(ChunkFormatError);
    reader.skip(25);
    expect(reader.done).toBe(true);
  });
});
