import { describe, expect, it } from 'vitest';
import { generateDataKey } from '../../src/crypto/data-key.js';
import { IndexCipher } from '../../src/crypto/index-cipher.js';
import { SealIntegrityError, openRecord } from '../../src/crypto/sealed-record.js';
import { computeToken } from '../../src/crypto/tokens.js';

describe('IndexCipher', () => {
  const dataKey = generateDataKey();

  it('seals and opens with keys derived from the data key', () => {
    const cipher = new IndexCipher(dataKey);
    const sealed = cipher.seal(Buffer.from('vector bytes'), 'docs/item');
    expect(new IndexCipher(dataKey).open(sealed, 'docs/item').toString()).toBe('vector bytes');
  });

  it('does not seal with the data key itself', () => {
    const sealed = new IndexCipher(dataKey).seal(Buffer.from('x'), 'aad');
    expect(() => openRecord(dataKey, sealed, 'aad')).toThrow(SealIntegrityError);
  });

  it('rejects records sealed under another data key', () => {
    const sealed = new IndexCipher(generateDataKey()).seal(Buffer.from('x'), 'aad');
    expect(() => new IndexCipher(dataKey).open(sealed, 'aad')).toThrow(SealIntegrityError);
  });

  it('rejects a swapped associated data, a flipped bit and truncated input', () => {
    const cipher = new IndexCipher(dataKey);
    const sealed = cipher.seal(Buffer.from('payload'), 'docs/item/1');
    expect(() => cipher.open(sealed, 'docs/item/2')).toThrow(SealIntegrityError);
    const flipped = Buffer.from(sealed);
    flipped[15] ^= 0x80;
    expect(() => cipher.open(flipped, 'docs/item/1')).toThrow(SealIntegrityError);
    expect(() => cipher.open(sealed.subarray(0, 20), 'docs/item/1')).toThrow(SealIntegrityError);
  });

  it('makes 32-byte tokens, deterministic per key, distinct across keys, values and domains', () => {
    const a = new IndexCipher(dataKey);
    const b = new IndexCipher(dataKey);
    const other = new IndexCipher(generateDataKey());
    const token = a.token('item', 'doc-1');
    expect(token).toHaveLength(32);
    expect(b.token('item', 'doc-1').equals(token)).toBe(true);
    expect(other.token('item', 'doc-1').equals(token)).toBe(false);
    expect(a.token('item', 'doc-2').equals(token)).toBe(false);
    expect(a.token('list', 'doc-1').equals(token)).toBe(false);
  });

  it('uses a token key separate from the data key', () => {
    expect(new IndexCipher(dataKey).token('item', 'x').equals(computeToken(dataKey, 'item', 'x'))).toBe(false);
  });

  it('refuses to work after destroy instead of using zeroed keys', () => {
    const cipher = new IndexCipher(dataKey);
    const sealed = cipher.seal(Buffer.from('x'), 'aad');
    cipher.destroy();
    expect(() => cipher.seal(Buffer.from('x'), 'aad')).toThrow(/destroyed/);
    expect(() => cipher.open(sealed, 'aad')).toThrow(/destroyed/);
    expect(() => cipher.token('item', 'x')).toThrow(/destroyed/);
  });

  it('refuses a data key that is not 32 bytes', () => {
    expect(() => new IndexCipher(Buffer.alloc(16))).toThrow(RangeError);
  });
});
