import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SealIntegrityError, openRecord, sealRecord } from '../../src/crypto/sealed-record.js';

describe('sealed records', () => {
  const key = randomBytes(32);
  const plaintext = Buffer.from('{"id":"doc-1","contents":"the quick brown fox"}');
  const aad = 'index:docs|item';

  it('opens what it sealed, laid out as nonce | ciphertext | tag', () => {
    const sealed = sealRecord(key, plaintext, aad);
    expect(sealed).toHaveLength(12 + plaintext.length + 16);
    expect(sealed.includes(plaintext)).toBe(false);
    expect(openRecord(key, sealed, aad).equals(plaintext)).toBe(true);
  });

  it('uses a fresh nonce for every seal', () => {
    const a = sealRecord(key, plaintext, aad);
    const b = sealRecord(key, plaintext, aad);
    expect(a.subarray(0, 12).equals(b.subarray(0, 12))).toBe(false);
    expect(a.equals(b)).toBe(false);
  });

  it('seals the empty plaintext', () => {
    const sealed = sealRecord(key, new Uint8Array(0), aad);
    expect(openRecord(key, sealed, aad)).toHaveLength(0);
  });

  it('detects every flipped bit, in nonce, ciphertext and tag', () => {
    const sealed = sealRecord(key, plaintext, aad);
    for (let bit = 0; bit < sealed.length * 8; bit += 5) {
      const altered = Buffer.from(sealed);
      altered[bit >> 3] ^= 1 << (bit & 7);
      expect(() => openRecord(key, altered, aad)).toThrow(SealIntegrityError);
    }
  });

  it('detects a record moved to another slot (different associated data)', () => {
    const sealed = sealRecord(key, plaintext, 'index:docs|item:a');
    expect(() => openRecord(key, sealed, 'index:docs|item:b')).toThrow(SealIntegrityError);
    expect(() => openRecord(key, sealed, 'index:other|item:a')).toThrow(SealIntegrityError);
  });

  it('detects two records swapped between their slots', () => {
    const a = sealRecord(key, Buffer.from('record a'), 'slot:a');
    const b = sealRecord(key, Buffer.from('record b'), 'slot:b');
    expect(() => openRecord(key, b, 'slot:a')).toThrow(SealIntegrityError);
    expect(() => openRecord(key, a, 'slot:b')).toThrow(SealIntegrityError);
  });

  it('detects truncation and extension', () => {
    const sealed = sealRecord(key, plaintext, aad);
    for (const length of [0, 1, 11, 12, 27, 28, sealed.length - 1]) {
      expect(() => openRecord(key, sealed.subarray(0, length), aad)).toThrow(SealIntegrityError);
    }
    expect(() => openRecord(key, Buffer.concat([sealed, Buffer.from([0])]), aad)).toThrow(SealIntegrityError);
  });

  it('fails under another key', () => {
    const sealed = sealRecord(key, plaintext, aad);
    expect(() => openRecord(randomBytes(32), sealed, aad)).toThrow(SealIntegrityError);
  });

  it('opens a record given as a view into a larger buffer', () => {
    const sealed = sealRecord(key, plaintext, aad);
    const larger = Buffer.concat([Buffer.from('prefix'), sealed, Buffer.from('suffix')]);
    const view = new Uint8Array(larger.buffer, larger.byteOffset + 6, sealed.length);
    expect(openRecord(key, view, aad).equals(plaintext)).toBe(true);
  });
});
