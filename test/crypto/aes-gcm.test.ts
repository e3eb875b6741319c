import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gcmDecrypt, gcmDecryptInPlace, gcmEncrypt, gcmEncryptInSteps } from '../../src/crypto/aes-gcm.js';

describe('AES-256-GCM wire format', () => {
  const key = randomBytes(32);
  const aad = Buffer.from('aad');

  it('is nonce | ciphertext | tag, readable by any standard AES-GCM implementation', () => {
    const plaintext = Buffer.from('interoperable');
    const sealed = gcmEncrypt(key, plaintext, aad);
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const opened = Buffer.concat([decipher.update(sealed.subarray(12, sealed.length - 16)), decipher.final()]);
    expect(opened.equals(plaintext)).toBe(true);
  });

  it('returns null, never partial plaintext, when authentication fails', () => {
    const sealed = gcmEncrypt(key, Buffer.from('secret'), aad);
    sealed[sealed.length - 1] ^= 1;
    expect(gcmDecrypt(key, sealed, aad)).toBeNull();
    expect(gcmDecrypt(key, sealed.subarray(0, 27), aad)).toBeNull();
  });

  it('decrypts in place to the plaintext gcmDecrypt gives, in one step or many, as a view into the sealed bytes', () => {
    for (const size of [0, 1, 65_535, 65_536, 65_537, 300_001]) {
      const plaintext = randomBytes(size);
      const sealed = gcmEncrypt(key, plaintext, aad);
      expect(gcmDecrypt(key, sealed, aad)!.equals(plaintext)).toBe(true);
      const opened = gcmDecryptInPlace(key, sealed, aad)!;
      expect(opened.equals(plaintext)).toBe(true);
      expect(opened.buffer).toBe(sealed.buffer);
      expect(opened.byteOffset).toBe(sealed.byteOffset + 12);
    }
  });

  it('encrypts in steps of a mebibyte to a record gcmDecrypt opens, pausing only between steps', () => {
    for (const [size, pauses] of [[0, 0], [1, 0], [1 << 20, 0], [(1 << 20) + 1, 1], [3_500_000, 3]] as const) {
      const plaintext = randomBytes(size);
      const steps = gcmEncryptInSteps(key, plaintext, aad);
      let paused = 0;
      let step = steps.next();
      for (; step.done !== true; step = steps.next()) paused++;
      expect(paused).toBe(pauses);
      expect(step.value.length).toBe(12 + size + 16);
      expect(gcmDecrypt(key, step.value, aad)!.equals(plaintext)).toBe(true);
    }
  });

  it('in place, returns null and wipes what it wrote when authentication fails', () => {
    for (const size of [10, 200_000]) {
      const plaintext = Buffer.alloc(size, 7);
      const tampered = gcmEncrypt(key, plaintext, aad);
      tampered[tampered.length - 1] ^= 1;
      expect(gcmDecryptInPlace(key, tampered, aad)).toBeNull();
      expect(tampered.subarray(12, tampered.length - 16).every((byte) => byte === 0)).toBe(true);
      expect(gcmDecryptInPlace(key, gcmEncrypt(key, plaintext, aad), Buffer.from('other'))).toBeNull();
      expect(gcmDecryptInPlace(key, tampered.subarray(0, 27), aad)).toBeNull();
    }
  });

  it('never reuses a nonce, across refills of the nonce pool', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 5000; i++) nonces.add(gcmEncrypt(key, Buffer.from('same'), aad).subarray(0, 12).toString('hex'));
    expect(nonces.size).toBe(5000);
  });
});
