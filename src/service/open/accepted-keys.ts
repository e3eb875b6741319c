// Remembers which index keys already proved they unwrap an open index's data key, so hot
// requests pay a constant-time comparison instead of an AES-GCM unwrap. The proven keys are held
// only while the index is open (its plaintext is in memory then anyway) and wiped with it.

import { KeyUnwrapError, constantTimeEqual, unwrapDataKey } from '../../crypto/index.js';

/** Distinct keys remembered per index; more than a handful means key rotation or an attack. */
const MAX_REMEMBERED = 8;

export class AcceptedKeys {
  readonly #index: string;
  #wrappedDataKey: Buffer;
  #keys: Buffer[] = [];

  constructor(index: string, wrappedDataKey: Buffer, provenKey?: Buffer) {
    this.#index = index;
    this.#wrappedDataKey = wrappedDataKey;
    if (provenKey) this.#keys.push(Buffer.from(provenKey));
  }

  /** True when `key` unwraps this index's data key; a wrong key always pays the full unwrap. */
  accepts(key: Buffer): boolean {
    let known = false;
    // Visit every remembered key so the time does not depend on which one matched.
    for (const accepted of this.#keys) known = constantTimeEqual(accepted, key) || known;
    if (known) return true;
    try {
      unwrapDataKey(key, this.#wrappedDataKey, this.#index).fill(0);
    } catch (error) {
      if (error instanceof KeyUnwrapError) return false;
      throw error;
    }
    if (this.#keys.length >= MAX_REMEMBERED) this.#keys.shift()!.fill(0);
    this.#keys.push(Buffer.from(key));
    return true;
  }

  /**
   * The data key was re-wrapped under another index key (rotation, here or on another replica):
   * from now on only a key that unwraps `wrappedDataKey` is accepted; the remembered ones, the
   * old key among them, are wiped.
   */
  rewrap(wrappedDataKey: Buffer): void {
    this.forget();
    this.#wrappedDataKey = wrappedDataKey;
  }

  /** Wipes the remembered keys (the index is being closed). */
  forget(): void {
    for (const accepted of this.#keys) accepted.fill(0);
    this.#keys = [];
  }
}
