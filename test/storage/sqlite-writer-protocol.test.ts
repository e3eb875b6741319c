// Replies of the SQLite threads move their large blobs instead of copying them: movableBuffers
// finds the Buffers that alone own their memory, in arrays and in plain objects (a segment page,
// an index's row with its sealed model), and leaves small ones and views into shared memory to
// be copied.
import { describe, expect, it } from 'vitest';
import { movableBuffers } from '../../src/storage/sqlite-writer-protocol.js';

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
