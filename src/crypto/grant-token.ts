// Index grant tokens: `cdxg_<id>_<secret>`, bearer credentials that carry their own key. The
// secret never reaches the store: the store keeps a verifier (HKDF of the secret under one label)
// and the index's data key wrapped under a key derived from the secret under another label, bound
// to the grant's index, id, permissions and expiry, so a row altered in the database opens nothing.

import { hkdfSync, randomBytes } from 'node:crypto';
import { AES_KEY_BYTES, gcmDecrypt, gcmEncrypt } from './aes-gcm.js';
import { KeyUnwrapError } from './data-key.js';

export const GRANT_TOKEN_PREFIX = 'cdxg_';
const SECRET_BYTES = 32;
const ID_BYTES = 16;
const TOKEN = /^cdxg_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

/** The text starts like a grant token but is not one. The message never echoes the text. */
export class GrantTokenFormatError extends Error {
  constructor() {
    super(`a grant token is ${GRANT_TOKEN_PREFIX} followed by 32 hex digits, an underscore and 43 base64url characters`);
    this.name = 'GrantTokenFormatError';
  }
}

export interface GrantToken {
  /** Public: names the grant in lists and revocations. */
  id: string;
  /** The 32 secret bytes. */
  secret: Buffer;
}

/** True for text that claims to be a grant token (index keys are never spelled with this prefix). */
export function looksLikeGrantToken(input: unknown): input is string {
  return typeof input === 'string' && input.trim().startsWith(GRANT_TOKEN_PREFIX);
}

export function generateGrantToken(): GrantToken & { token: string } {
  const id = randomBytes(ID_BYTES).toString('hex');
  const secret = randomBytes(SECRET_BYTES);
  return { id, secret, token: `${GRANT_TOKEN_PREFIX}${id}_${secret.toString('base64url')}` };
}

export function parseGrantToken(input: string): GrantToken {
  const match = TOKEN.exec(input.trim());
  if (match === null) throw new GrantTokenFormatError();
  const secret = Buffer.from(match[2], 'base64url');
  // One spelling per token: stray bits in the last character would decode to the same secret.
  if (secret.length !== SECRET_BYTES || secret.toString('base64url') !== match[2]) throw new GrantTokenFormatError();
  return { id: match[1], secret };
}

// No salt: the secret is uniformly random; the info labels keep the verifier and the wrapping key
// independent, so the stored verifier says nothing about the key that opens the wrap.
function derive(secret: Buffer, label: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `cipherdex/grant-${label}/v1`, AES_KEY_BYTES));
}

/** What the store keeps to recognize a token: useless for unwrapping anything. */
export function grantVerifier(secret: Buffer): Buffer {
  return derive(secret, 'verifier');
}

function wrapAad(binding: string): Buffer {
  return Buffer.from(`cipherdex/grant-data-key/v1\0${binding}`, 'utf8');
}

/** `binding` names what the grant may do (index, id, permissions, expiry): changing it breaks the wrap. */
export function wrapDataKeyForGrant(secret: Buffer, dataKey: Buffer, binding: string): Buffer {
  const key = derive(secret, 'wrap');
  try {
    return gcmEncrypt(key, dataKey, wrapAad(binding));
  } finally {
    key.fill(0);
  }
}

export function unwrapDataKeyForGrant(secret: Buffer, wrapped: Buffer, binding: string): Buffer {
  const key = derive(secret, 'wrap');
  try {
    const dataKey = gcmDecrypt(key, wrapped, wrapAad(binding));
    if (dataKey === null || dataKey.length !== AES_KEY_BYTES) throw new KeyUnwrapError('The grant does not unwrap this data key.');
    return dataKey;
  } finally {
    key.fill(0);
  }
}
