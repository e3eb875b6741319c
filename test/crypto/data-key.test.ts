import { describe, expect, it } from 'vitest';
import { KeyUnwrapError, generateDataKey, unwrapDataKey, wrapDataKey } from '../../src/crypto/data-key.js';
import { generateIndexKey } from '../../src/crypto/index-key.js';

describe('data-key wrapping', () => {
  const indexKey = generateIndexKey();
  const dataKey = generateDataKey();

  it('generates distinct 32-byte data keys', () => {
    expect(dataKey).toHaveLength(32);
    expect(generateDataKey().equals(dataKey)).toBe(false);
  });

  it('round-trips under the right key and name', () => {
    const wrapped = wrapDataKey(indexKey, dataKey, 'docs');
    expect(unwrapDataKey(indexKey, wrapped, 'docs').equals(dataKey)).toBe(true);
  });

  it('does not contain the data key and differs on every wrap (fresh nonce)', () => {
    const a = wrapDataKey(indexKey, dataKey, 'docs');
    const b = wrapDataKey(indexKey, dataKey, 'docs');
    expect(a.equals(b)).toBe(false);
    expect(a.includes(dataKey)).toBe(false);
    expect(a.includes(indexKey)).toBe(false);
  });

  it('fails with KeyUnwrapError under a wrong index key', () => {
    const wrapped = wrapDataKey(indexKey, dataKey, 'docs');
    expect(() => unwrapDataKey(generateIndexKey(), wrapped, 'docs')).toThrow(KeyUnwrapError);
  });

  it('fails when the wrapped key is presented for another index name', () => {
    const wrapped = wrapDataKey(indexKey, dataKey, 'docs');
    expect(() => unwrapDataKey(indexKey, wrapped, 'docs2')).toThrow(KeyUnwrapError);
  });

  it('fails when the wrapped key was tampered with or truncated', () => {
    const wrapped = wrapDataKey(indexKey, dataKey, 'docs');
    for (let i = 0; i < wrapped.length; i += 7) {
      const flipped = Buffer.from(wrapped);
      flipped[i] ^= 0x01;
      expect(() => unwrapDataKey(indexKey, flipped, 'docs')).toThrow(KeyUnwrapError);
    }
    expect(() => unwrapDataKey(indexKey, wrapped.subarray(0, wrapped.length - 1), 'docs')).toThrow(KeyUnwrapError);
    expect(() => unwrapDataKey(indexKey, Buffer.alloc(0), 'docs')).toThrow(KeyUnwrapError);
  });

  it('refuses keys that are not 32 bytes', () => {
    expect(() => wrapDataKey(indexKey.subarray(0, 16), dataKey, 'docs')).toThrow(RangeError);
    expect(() => wrapDataKey(indexKey, Buffer.alloc(31), 'docs')).toThrow(RangeError);
  });
});
