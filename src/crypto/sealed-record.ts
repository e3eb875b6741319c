// Sealed records: AES-256-GCM under the index's data key, with associated data that binds each
// record to its index and slot, so a record altered, truncated, moved or swapped fails to open.

import { gcmDecrypt, gcmDecryptInPlace, gcmEncrypt, gcmEncryptInSteps } from './aes-gcm.js';

/** A sealed record failed authentication: it was altered, moved or swapped, or the key is not its key. */
export class SealIntegrityError extends Error {
  constructor(message = 'A sealed record failed authentication: it was altered, truncated, moved or swapped.') {
    super(message);
    this.name = 'SealIntegrityError';
  }
}

/** Returns fresh 12-byte nonce | ciphertext | 16-byte tag. */
export function sealRecord(sealKey: Buffer, plaintext: Uint8Array, associatedData: string): Buffer {
  return gcmEncrypt(sealKey, plaintext, Buffer.from(associatedData, 'utf8'));
}

/** sealRecord in steps of about a millisecond each (gcmEncryptInSteps), for large records. */
export function sealRecordInSteps(sealKey: Buffer, plaintext: Uint8Array, associatedData: string): Generator<void, Buffer, undefined> {
  return gcmEncryptInSteps(sealKey, plaintext, Buffer.from(associatedData, 'utf8'));
}

export function openRecord(sealKey: Buffer, sealed: Uint8Array, associatedData: string): Buffer {
  const plaintext = gcmDecrypt(sealKey, sealed, Buffer.from(associatedData, 'utf8'));
  if (plaintext === null) throw new SealIntegrityError();
  return plaintext;
}

/** openRecord writing the plaintext over `sealed` (destroyed either way), returned as a view into it: for large records already in memory. */
export function openRecordInPlace(sealKey: Buffer, sealed: Uint8Array, associatedData: string): Buffer {
  const plaintext = gcmDecryptInPlace(sealKey, sealed, Buffer.from(associatedData, 'utf8'));
  if (plaintext === null) throw new SealIntegrityError();
  return plaintext;
}
