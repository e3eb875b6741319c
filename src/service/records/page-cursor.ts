// Paging cursors: the token of the last item a page returned, sealed under the index's data key.
// A cursor reveals nothing (not even which item it points after), and one that was forged,
// altered, or made for another index fails to open and is a ValidationError on `after`.

import type { IndexCipher } from '../../crypto/index.js';
import { TOKEN_BYTES } from '../../crypto/index.js';
import { ValidationError } from '../errors.js';

const CURSOR_VERSION = 1;

function cursorAad(index: string): string {
  return `cipherdex/cursor/v1:${index}`;
}

export function sealCursor(cipher: IndexCipher, index: string, token: Buffer): string {
  const plaintext = Buffer.alloc(1 + TOKEN_BYTES);
  plaintext[0] = CURSOR_VERSION;
  token.copy(plaintext, 1);
  return cipher.seal(plaintext, cursorAad(index)).toString('base64url');
}

/** The token a cursor points after; throws ValidationError('after') for anything else. */
export function openCursor(cipher: IndexCipher, index: string, cursor: unknown): Buffer {
  const invalid = () => new ValidationError('after', 'after must be an endCursor or cursor this index returned');
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 256 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid();
  let plaintext: Buffer;
  try {
    plaintext = cipher.open(Buffer.from(cursor, 'base64url'), cursorAad(index));
  } catch {
    throw invalid();
  }
  if (plaintext.length !== 1 + TOKEN_BYTES || plaintext[0] !== CURSOR_VERSION) throw invalid();
  return plaintext.subarray(1);
}
