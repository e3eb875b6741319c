// Index keys: the client-held 256-bit key-encryption keys, parsed strictly from base64 or hex.

import { randomBytes } from 'node:crypto';

export const INDEX_KEY_BYTES = 32;

/** The input is not a 32-byte key in an accepted encoding. The message never echoes the key. */
export class IndexKeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IndexKeyFormatError';
  }
}

const HEX = /^[0-9a-fA-F]{64}$/;
// A 32-byte key is 43 base64 characters plus one pad: the alphabet is checked here, the
// canonical form (unused trailing bits zero) by re-encoding below.
const BASE64_STD = /^[A-Za-z0-9+/]{43}=?$/;
const BASE64_URL = /^[A-Za-z0-9_-]{43}=?$/;

const EXPECTED = 'an index key is 32 bytes, given as base64 (44 characters, or 43 unpadded; standard or url-safe) or hex (64 characters)';
const HEX_ANY = /^(?:[0-9a-fA-F]{2})+$/;
const BASE64_ANY = /^[A-Za-z0-9+/]+={0,2}$|^[A-Za-z0-9_-]+={0,2}$/;

/**
 * Returns the 32 key bytes as a fresh Buffer. Hex is tried first because every 64-character hex
 * string is also valid base64 (of 48 bytes), so the order decides the meaning. A malformed key is
 * described by what it decodes to, never by its text: a 62-digit hex key is 31 of the real bytes.
 */
export function parseIndexKey(input: string | Uint8Array): Buffer {
  if (input instanceof Uint8Array) {
    if (input.byteLength !== INDEX_KEY_BYTES) {
      throw new IndexKeyFormatError(`${EXPECTED}; got ${input.byteLength} raw bytes`);
    }
    return Buffer.from(input);
  }
  if (typeof input !== 'string') throw new IndexKeyFormatError(`${EXPECTED}; got ${typeof input}`);
  // Keys pasted from files or terminals often carry a trailing newline.
  const text = input.trim();
  if (HEX.test(text)) return Buffer.from(text, 'hex');
  const url = BASE64_URL.test(text);
  if (url || BASE64_STD.test(text)) {
    const encoding = url ? 'base64url' : 'base64';
    const bytes = Buffer.from(text, encoding);
    // Non-canonical encodings (stray bits in the last character) decode to the same key as the
    // canonical one; rejecting them keeps one spelling per key.
    if (bytes.byteLength === INDEX_KEY_BYTES && bytes.toString('base64url') === text.replace(/=$/, '').replace(/\+/g, '-').replace(/\//g, '_')) {
      return bytes;
    }
    throw new IndexKeyFormatError(`${EXPECTED}; the base64 text is not a canonical encoding of 32 bytes`);
  }
  if (HEX_ANY.test(text)) throw new IndexKeyFormatError(`the key is hex that decodes to ${text.length / 2} bytes; ${EXPECTED}`);
  if (BASE64_ANY.test(text)) {
    const bytes = Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    throw new IndexKeyFormatError(`the key is base64 that decodes to ${bytes.byteLength} bytes; ${EXPECTED}`);
  }
  throw new IndexKeyFormatError(`the key is ${text.length} characters, neither base64 nor hex; ${EXPECTED}`);
}

export function generateIndexKey(): Buffer {
  return randomBytes(INDEX_KEY_BYTES);
}
