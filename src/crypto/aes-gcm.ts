// AES-256-GCM with a fresh random nonce, in one wire format (nonce | ciphertext | tag) shared by
// wrapped data keys and sealed records, so there is one place where the cipher is driven.

import { createCipheriv, createDecipheriv, randomFillSync } from 'node:crypto';
import { runToEnd } from '../runtime/turns.js';

export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const AES_KEY_BYTES = 32;

// One call to the CSPRNG per 1,024 nonces instead of one per record: a per-call randomBytes was
// about a tenth of an upsert's cost. The pool hands each nonce out once, then is refilled.
const NONCES_PER_FILL = 1024;
const noncePool = Buffer.alloc(NONCE_BYTES * NONCES_PER_FILL);
let nonceOffset = noncePool.length;

function freshNonce(): Buffer {
  if (nonceOffset === noncePool.length) {
    randomFillSync(noncePool);
    nonceOffset = 0;
  }
  const nonce = noncePool.subarray(nonceOffset, nonceOffset + NONCE_BYTES);
  nonceOffset += NONCE_BYTES;
  return nonce;
}

export function gcmEncrypt(key: Buffer, plaintext: Uint8Array, aad: Buffer): Buffer {
  return runToEnd(gcmEncryptInSteps(key, plaintext, aad));
}

/** Plaintext encrypted per step by gcmEncryptInSteps: about a millisecond of AES-GCM. */
const ENCRYPT_STEP = 1 << 20;

/**
 * gcmEncrypt in steps of ENCRYPT_STEP bytes, for a large record sealed on a thread that serves
 * queries between the steps (GCM's output is the same however its input is split).
 */
export function* gcmEncryptInSteps(key: Buffer, plaintext: Uint8Array, aad: Buffer): Generator<void, Buffer, undefined> {
  // 96-bit random nonces: the collision bound (2^-32 after 2^32 messages per key) is far beyond
  // what one index's data key ever seals.
  const nonce = freshNonce();
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const out = Buffer.allocUnsafe(NONCE_BYTES + plaintext.byteLength + TAG_BYTES);
  nonce.copy(out, 0);
  let at = NONCE_BYTES;
  for (let from = 0; from < plaintext.byteLength; from += ENCRYPT_STEP) {
    if (from > 0) yield;
    at += cipher.update(plaintext.subarray(from, Math.min(plaintext.byteLength, from + ENCRYPT_STEP))).copy(out, at);
  }
  at += cipher.final().copy(out, at);
  cipher.getAuthTag().copy(out, at);
  return out;
}

/** Returns the plaintext, or null when authentication fails for any reason (including a short input). */
export function gcmDecrypt(key: Buffer, sealed: Uint8Array, aad: Buffer): Buffer | null {
  if (sealed.byteLength < NONCE_BYTES + TAG_BYTES) return null;
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const nonce = bytes.subarray(0, NONCE_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);
  const body = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const plain = decipher.update(body);
  try {
    const final = decipher.final();
    return final.length === 0 ? plain : Buffer.concat([plain, final]);
  } catch {
    // Unauthenticated output must not escape: wipe what update() produced.
    plain.fill(0);
    return null;
  }
}

/** Ciphertext decrypted per step by gcmDecryptInPlace: each step's output is small enough for the allocator to reuse one block for all. */
const IN_PLACE_STEP = 64 * 1024;

/**
 * gcmDecrypt writing the plaintext over the ciphertext in `sealed` (which it destroys), returned
 * as a view into it; null when authentication fails, the bytes written over then wiped. For large
 * inputs already in memory (a segment as the store read it): a fresh output as large as the input
 * costs a page fault per 4 KiB on first touch, which on this project's VMs took about 8x the
 * decryption itself (600 MiB: 2.0-2.2 s of CPU and 9-11 s of wall against 0.25-0.29 s in place).
 */
export function gcmDecryptInPlace(key: Buffer, sealed: Uint8Array, aad: Buffer): Buffer | null {
  if (sealed.byteLength < NONCE_BYTES + TAG_BYTES) return null;
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const end = bytes.length - TAG_BYTES;
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE_BYTES), { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(bytes.subarray(end));
  // GCM's output of a step has the step's length: written back where its ciphertext was, already read.
  let at = NONCE_BYTES;
  for (; at < end; at += IN_PLACE_STEP) {
    const plain = decipher.update(bytes.subarray(at, Math.min(end, at + IN_PLACE_STEP)));
    plain.copy(bytes, at);
    plain.fill(0);
  }
  try {
    const final = decipher.final();
    if (final.length !== 0) throw new Error('GCM gave output at final');
    return bytes.subarray(NONCE_BYTES, end);
  } catch {
    // Unauthenticated output must not escape: wipe what was written.
    bytes.fill(0, NONCE_BYTES, end);
    return null;
  }
}

export function assertAesKey(key: Uint8Array, what: string): void {
  if (!(key instanceof Uint8Array) || key.byteLength !== AES_KEY_BYTES) {
    throw new RangeError(`${what} must be ${AES_KEY_BYTES} bytes`);
  }
}
