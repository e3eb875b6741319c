// Per-index data keys and their wrapping under the client's index key. A key is "valid" for an
// index exactly when it unwraps that index's data key, so unwrapping is the key check.

import { randomBytes } from 'node:crypto';
import { AES_KEY_BYTES, assertAesKey, gcmDecrypt, gcmEncrypt } from './aes-gcm.js';

/** The index key does not open this wrapped data key: a wrong key, another index's key, or tampering. */
export class KeyUnwrapError extends Error {
  constructor(message = 'The index key does not unwrap this data key.') {
    super(message);
    this.name = 'KeyUnwrapError';
  }
}

// The AAD binds a wrapped key to its index name, so a wrapped key copied to another index row
// does not unwrap there; the label separates this use of the index key from any future one.
function wrapAad(indexName: string): Buffer {
  return Buffer.from(`cipherdex/data-key/v1\0${indexName}`, 'utf8');
}

export function generateDataKey(): Buffer {
  return randomBytes(AES_KEY_BYTES);
}

export function wrapDataKey(indexKey: Buffer, dataKey: Buffer, indexName: string): Buffer {
  assertAesKey(indexKey, 'index key');
  assertAesKey(dataKey, 'data key');
  return gcmEncrypt(indexKey, dataKey, wrapAad(indexName));
}

export function unwrapDataKey(indexKey: Buffer, wrapped: Buffer, indexName: string): Buffer {
  assertAesKey(indexKey, 'index key');
  const dataKey = gcmDecrypt(indexKey, wrapped, wrapAad(indexName));
  if (dataKey === null || dataKey.length !== AES_KEY_BYTES) throw new KeyUnwrapError();
  return dataKey;
}
