import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IndexKeyFormatError, generateIndexKey, parseIndexKey } from '../../src/crypto/index-key.js';

describe('parseIndexKey', () => {
  const key = randomBytes(32);

  it('accepts standard base64, padded and unpadded', () => {
    const padded = key.toString('base64');
    expect(padded).toHaveLength(44);
    expect(parseIndexKey(padded).equals(key)).toBe(true);
    expect(parseIndexKey(padded.replace(/=$/, '')).equals(key)).toBe(true);
  });

  it('accepts url-safe base64, padded and unpadded', () => {
    // A key whose encoding needs both url-safe characters proves the alphabet is handled.
    let k = randomBytes(32);
    while (!/[-_]/.test(k.toString('base64url'))) k = randomBytes(32);
    const unpadded = k.toString('base64url');
    expect(parseIndexKey(unpadded).equals(k)).toBe(true);
    expect(parseIndexKey(`${unpadded}=`).equals(k)).toBe(true);
  });

  it('accepts hex in either case, even when it would also be valid base64', () => {
    const hex = key.toString('hex');
    expect(parseIndexKey(hex).equals(key)).toBe(true);
    expect(parseIndexKey(hex.toUpperCase()).equals(key)).toBe(true);
  });

  it('ignores surrounding whitespace such as a trailing newline', () => {
    expect(parseIndexKey(`  ${key.toString('base64')}\n`).equals(key)).toBe(true);
  });

  it('accepts 32 raw bytes and copies them', () => {
    const raw = new Uint8Array(key);
    const parsed = parseIndexKey(raw);
    raw.fill(0);
    expect(parsed.equals(key)).toBe(true);
  });

  it.each([
    ['16 bytes of base64', randomBytes(16).toString('base64')],
    ['33 bytes of base64', randomBytes(33).toString('base64')],
    ['31 bytes of hex', randomBytes(31).toString('hex')],
    ['63 hex characters', key.toString('hex').slice(1)],
    ['empty', ''],
    ['garbage', 'not a key at all, just words!!'],
    ['mixed base64 alphabets', `+_${key.toString('base64url').slice(2)}`],
    ['double padding', `${key.toString('base64url')}==`],
  ])('rejects %s with IndexKeyFormatError', (_label, input) => {
    expect(() => parseIndexKey(input)).toThrow(IndexKeyFormatError);
  });

  it('rejects a non-canonical base64 spelling of a key', () => {
    // The 43rd character carries 4 data bits and 2 unused ones; setting an unused bit gives a
    // string that decodes to the same bytes but is not the key's encoding.
    const text = key.toString('base64url');
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(text[42]);
    const tampered = text.slice(0, 42) + alphabet[last ^ 1];
    expect(Buffer.from(tampered, 'base64url').equals(key)).toBe(true);
    expect(() => parseIndexKey(tampered)).toThrow(IndexKeyFormatError);
  });

  it('rejects raw byte arrays of the wrong length', () => {
    expect(() => parseIndexKey(new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => parseIndexKey(new Uint8Array(64))).toThrow(IndexKeyFormatError);
  });

  it('explains the accepted forms without echoing the input', () => {
    const secretish = 'Zm9vYmFyYmF6cXV4c2VjcmV0c2VjcmV0c2VjcmV0';
    try {
      parseIndexKey(secretish);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(IndexKeyFormatError);
      const message = (error as Error).message;
      expect(message).toMatch(/32 bytes/);
      expect(message).toMatch(/base64/);
      expect(message).toMatch(/hex/);
      expect(message).not.toContain(secretish);
    }
  });
});

describe('generateIndexKey', () => {
  it('returns 32 random bytes that parse back to themselves', () => {
    const a = generateIndexKey();
    const b = generateIndexKey();
    expect(a).toHaveLength(32);
    expect(a.equals(b)).toBe(false);
    expect(parseIndexKey(a.toString('base64')).equals(a)).toBe(true);
  });
});
