import { createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { gcmDecrypt, gcmEncrypt } from '../../src/crypto/aes-gcm.js';

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

  it('never reuses a nonce, across refills of the nonce pool', () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 5000; i++) nonces.add(gcmEncrypt(key, Buffer.from('same'), aad).subarray(0, 12).toString('hex'));
    expect(nonces.size).toBe(5000);
  });
});
