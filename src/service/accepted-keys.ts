// Remembers which index keys already proved they unwrap an open index's data key, so hot
// requests pay one HMAC instead of an AES-GCM unwrap. Only keyed digests are kept (under a secret
// that lives and dies with this process), never the keys, and they are compared in constant time.

import { createHmac, randomBytes } from 'node:crypto';
import { KeyUnwrapError, constantTimeEqual, unwrapDataKey } from '../crypto/index.js';

const PROCESS_SECRET = randomBytes(32);
/** Distinct keys remembered per index; more than a handful means key rotation or an attack. */
const MAX_REMEMBERED = 8;

function digest(key: Buffer): Buffer {
  return createHmac('sha256', PROCESS_SECRET).update(key).digest();
}

export class AcceptedKeys {
  readonly #index: string;
  readonly #wrappedDataKey: Buffer;
  #digests: Buffer[] = [];

  constructor(index: string, wrappedDataKey: Buffer, provenKey?: Buffer) {
    this.#index = index;
    this.#wrappedDataKey = wrappedDataKey;
    if (provenKey) this.#digests.push(digest(provenKey));
  }

  /** True when `key` unwraps this index's data key; a wrong key always pays the full unwrap. */
  accepts(key: Buffer): boolean {
    const candidate = digest(key);
    let known = false;
    // Visit every digest so the time does not depend on which one matched.
    for (const accepted of this.#digests) known = constantTimeEqual(accepted, candidate) || known;
    if (known) return true;
    try {
      unwrapDataKey(key, this.#wrappedDataKey, this.#index).fill(0);
    } catch (error) {
      if (error instanceof KeyUnwrapError) return false;
      throw error;
    }
    if (this.#digests.length >= MAX_REMEMBERED) this.#digests.shift();
    this.#digests.push(candidate);
    return true;
  }

  forget(): void {
    for (const accepted of this.#digests) accepted.fill(0);
    this.#digests = [];
  }
}
