// Replies of the SQLite threads move their large blobs instead of copying them: movableBuffers
// finds the Buffers that alone own their memory, in arrays and in plain objects (a segment page,
// an index's row with its sealed model), and leaves small ones and views into shared memory to
// be copied.
import { describe, expect, it } from 'vitest';
import { isPackedItems, movableBuffers, packItems, unpackItems } from '../../src/storage/sqlite-writer-protocol.js';

describe('movableBuffers', () => {
  it('finds the large Buffers that own their memory, in arrays and plain objects, once each', () => {
    const model = Buffer.alloc(1 << 20);
    const segments = [Buffer.alloc(1 << 17), Buffer.alloc(1 << 17)];
    const shared = Buffer.alloc(1 << 18);
    const row = { name: 'docs', sealedModel: model, wrappedDataKey: Buffer.alloc(60), createdAt: new Date(), nested: { view: shared.subarray(0, 1 << 17) } };
    expect(movableBuffers(row)).toEqual([model.buffer]);
    expect(movableBuffers([...segments, segments[0]])).toEqual(segments.map((segment) => segment.buffer));
    expect(movableBuffers(null)).toEqual([]);
    expect(movableBuffers(new Map([['model', model]]))).toEqual([]);
  });
});

describe('packItems', () => {
  it('packs a batch into two moved buffers and unpacks the same tokens and records as Buffers', () => {
    // Records of differing lengths, views into one larger buffer as a sealing worker returns them, and an empty batch.
    const pool = Buffer.from(Array.from({ length: 400 }, (_, i) => i % 251));
    const items = [0, 1, 2].map((i) => ({ token: Buffer.alloc(32, i + 1), sealed: pool.subarray(i * 100, i * 100 + 40 + i * 17) }));
    const { packed, transfer } = packItems(items);
    expect(isPackedItems(packed)).toBe(true);
    expect(isPackedItems({ bytes: packed.bytes, ends: packed.ends })).toBe(false);
    expect(transfer).toEqual([packed.bytes.buffer, packed.ends.buffer]);
    expect(packed.bytes.byteLength).toBe(3 * 32 + 40 + 57 + 74);
    // As the writer thread receives it: a structured clone with the buffers moved.
    const received = structuredClone(packed, { transfer });
    expect(packed.bytes.byteLength).toBe(0);
    const unpacked = unpackItems(received);
    expect(unpacked.every((item) => Buffer.isBuffer(item.token) && Buffer.isBuffer(item.sealed))).toBe(true);
    expect(unpacked).toEqual(items);
    expect(unpackItems(packItems([]).packed)).toEqual([]);
  });
});
