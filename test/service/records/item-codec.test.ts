// Item records round-trip exactly (vector bits, unicode, absent versus empty fields) and a
// corrupted layout is refused instead of decoding into wrong data.
import { describe, expect, it } from 'vitest';
import { ItemFormatError, decodeItem, encodeItem } from '../../../src/service/records/item-codec.js';

describe('item codec', () => {
  it('round-trips every field with exact float32 bits', () => {
    const vector = new Float32Array([0.1, -0, 3.4028234663852886e38, 1.401298464324817e-45, -7.25]);
    const metadata = { lang: 'ελληνικά', n: 3, nested: { list: [1, 'two', null, true] } };
    const bytes = encodeItem({ id: 'doc-🦀-1', vector, contents: 'Hello, 世界', metadataJson: JSON.stringify(metadata) }, 0xdeadbeef);
    const item = decodeItem(bytes);
    expect(item.id).toBe('doc-🦀-1');
    expect(item.revision).toBe(0xdeadbeef);
    expect(Array.from(new Uint32Array(item.vector.buffer))).toEqual(Array.from(new Uint32Array(vector.buffer)));
    expect(item.contents).toBe('Hello, 世界');
    expect(item.metadata).toEqual(metadata);
  });

  it('keeps absent contents and metadata apart from empty ones', () => {
    const vector = new Float32Array([1, 2]);
    expect(decodeItem(encodeItem({ id: 'x', vector, contents: null, metadataJson: null }, 1))).toMatchObject({ contents: null, metadata: null });
    expect(decodeItem(encodeItem({ id: 'x', vector, contents: '', metadataJson: '{}' }, 1))).toMatchObject({ contents: '', metadata: {} });
  });

  it('decodes from an unaligned view of a larger buffer', () => {
    const bytes = encodeItem({ id: 'u', vector: new Float32Array([1.5, 2.5, 3.5]), contents: null, metadataJson: null }, 2);
    const padded = Buffer.concat([Buffer.from([9]), bytes]).subarray(1);
    expect(Array.from(decodeItem(padded).vector)).toEqual([1.5, 2.5, 3.5]);
  });

  it('refuses truncated or unknown records', () => {
    const bytes = encodeItem({ id: 'x', vector: new Float32Array([1]), contents: 'c', metadataJson: null }, 3);
    expect(() => decodeItem(bytes.subarray(0, bytes.length - 1))).toThrow(ItemFormatError);
    const other = Buffer.from(bytes);
    other[0] = 99;
    expect(() => decodeItem(other)).toThrow(ItemFormatError);
  });
});
