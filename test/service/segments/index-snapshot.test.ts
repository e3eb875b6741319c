// A snapshot's term index section reads back exactly as written, whatever width its term numbers
// and frequencies take (1, 2 or 4 bytes, by their largest value) and however the stream is cut
// into chunks; a stream read without the section it carries, or with an entry naming a term the
// dictionary lacks, does not parse.
import { describe, expect, it } from 'vitest';
import { ChunkFormatError, ChunkReader, ChunkWriter } from '../../../src/service/segments/segment-chunks.js';
import { readSnapshot, writeSnapshot, writeSnapshotInSteps, type IndexSnapshot } from '../../../src/service/segments/index-snapshot.js';
import type { TermIndexState } from '../../../src/service/text/term-index-state.js';
import { seededRandom } from '../reference-search.js';

const ITEMS = 50;

function snapshotWith(termCount: number, maxFreq: number, seed: number): IndexSnapshot {
  const random = seededRandom(seed);
  const counts = Uint32Array.from({ length: ITEMS }, () => Math.floor(random() * 12));
  const total = counts.reduce((sum, count) => sum + count, 0);
  const ids = Uint32Array.from({ length: total }, (_, k) => (k === 0 ? termCount - 1 : Math.floor(random() * termCount)));
  const freqs = Uint32Array.from({ length: total }, (_, k) => (k === 1 ? maxFreq : 1 + Math.floor(random() * 3)));
  const lengths = new Uint32Array(ITEMS);
  let k = 0;
  counts.forEach((count, i) => {
    for (let end = k + count; k < end; k++) lengths[i] += freqs[k];
  });
  const text: TermIndexState = { terms: Array.from({ length: termCount }, (_, i) => `term-${i}-é`), lengths, counts, ids, freqs };
  const items = Array.from({ length: ITEMS }, (_, i) => ({ id: `item-${i}`, token: Buffer.alloc(32, i), revision: i, sealTag: 'x'.repeat(16), metadataJson: i % 2 === 0 ? null : `{"i":${i}}` }));
  return { items, lists: { nLists: 0, stride: 0, codeBytes: 0, codec: null, lists: [] }, text };
}

function written(snapshot: IndexSnapshot, chunkBytes: number): Buffer[] {
  const writer = new ChunkWriter(chunkBytes);
  writeSnapshot(writer, snapshot);
  return writer.finish();
}

describe('the term index section of a snapshot', () => {
  for (const [termCount, maxFreq, widths] of [
    [3, 200, '1-byte numbers and frequencies'],
    [300, 300, '2-byte numbers and frequencies'],
    [70_000, 70_000, '4-byte numbers and frequencies'],
    [256, 65_536, '1-byte numbers, 4-byte frequencies'],
  ] as const) {
    it(`reads back as written: ${widths}`, () => {
      const snapshot = snapshotWith(termCount, maxFreq, termCount);
      for (const chunkBytes of [7, 4096, 1 << 20]) {
        const read = readSnapshot(new ChunkReader(written(snapshot, chunkBytes)), true);
        expect(read.text).toEqual(snapshot.text);
        expect(read.items).toEqual(snapshot.items);
      }
    });
  }

  it('takes fewer bytes per entry when the values are small', () => {
    const bytes = (termCount: number, maxFreq: number) => written(snapshotWith(termCount, maxFreq, 1), 1 << 20).reduce((sum, chunk) => sum + chunk.length, 0);
    const entries = snapshotWith(3, 200, 1).text!.ids.length;
    // Same entries (same seed); the dictionaries differ by a few hundred bytes at most here.
    expect(bytes(300, 300) - bytes(300, 200)).toBe(entries);
  });

  it('does not parse read without its section, or with a term number past the dictionary', () => {
    const snapshot = snapshotWith(5, 3, 9);
    expect(() => readSnapshot(new ChunkReader(written(snapshot, 64)), false)).toThrow(ChunkFormatError);
    const bad = { ...snapshot, text: { ...snapshot.text!, terms: snapshot.text!.terms.slice(0, 4) } };
    expect(() => readSnapshot(new ChunkReader(written(bad, 64)), true)).toThrow(ChunkFormatError);
    const twice = { ...snapshot, text: { ...snapshot.text!, terms: ['same', 'same', 'a', 'b', 'c'] } };
    expect(() => readSnapshot(new ChunkReader(written(twice, 64)), true)).toThrow(ChunkFormatError);
  });
});

describe('writing a snapshot in steps', () => {
  it('pauses about every megabyte and writes the same bytes as at once', () => {
    const rows = Float32Array.from({ length: 4 * 2 ** 20 / 4 }, (_, i) => i);
    const ids = Uint32Array.from({ length: rows.length / 256 }, (_, i) => i % ITEMS);
    const snapshot: IndexSnapshot = {
      ...snapshotWith(300, 300, 3),
      lists: { nLists: 4, stride: 256, codeBytes: 0, codec: null, lists: [0, 1, 2, 3].map((l) => ({ ids: ids.subarray(l * 1024, (l + 1) * 1024), rows: rows.subarray(l * 2 ** 18, (l + 1) * 2 ** 18), norms: new Float32Array(1024), codes: null })) },
    };
    const writer = new ChunkWriter(1 << 20);
    const steps = writeSnapshotInSteps(writer, snapshot);
    let pauses = 0;
    while (steps.next().done !== true) pauses++;
    expect(pauses).toBeGreaterThanOrEqual(3);
    expect(Buffer.concat(writer.finish()).equals(Buffer.concat(written(snapshot, 1 << 20)))).toBe(true);
  });
});
