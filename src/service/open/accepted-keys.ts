// Remembers which index keys and grants already proved they unwrap an open index's data key, so
// hot requests pay a constant-time comparison instead of an AES-GCM unwrap. The proven keys are
// held only while the index is open (its plaintext is in memory then anyway) and wiped with it; a
// revoked grant is forgotten at once (its next request is refused by the store before this anyway).

import { KeyUnwrapError, constantTimeEqual, unwrapDataKey } from '../../crypto/index.js';

/** Distinct keys remembered per index; more than a handful means key rotation or an attack. */
const MAX_REMEMBERED = 8;
/** Grants are many by design (one per client); past this the oldest proves itself again. */
const MAX_REMEMBERED_GRANTS = 1024;

export class AcceptedKeys {
  readonly #index: string;
  #wrappedDataKey: Buffer;
  #keys: Buffer[] = [];
  /** Grant id -> fingerprint of the token and of what the grant allows, as proven. */
  readonly #grants = new Map<string, Buffer>();

  constructor(index: string, wrappedDataKey: Buffer, provenKey?: Buffer) {
    this.#index = index;
    this.#wrappedDataKey = wrappedDataKey;
    if (provenKey) this.remember(provenKey);
  }

  /** Remembers a key that has just unwrapped this index's data key (a copy: the caller wipes its own). */
  remember(provenKey: Buffer): void {
    if (this.#keys.length >= MAX_REMEMBERED) this.#keys.shift()!.fill(0);
    this.#keys.push(Buffer.from(provenKey));
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
    this.remember(key);
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

  /** True when grant `id` proved itself with this fingerprint (constant time in the fingerprint). */
  knowsGrant(id: string, fingerprint: Buffer): boolean {
    const known = this.#grants.get(id);
    return known !== undefined && constantTimeEqual(known, fingerprint);
  }

  rememberGrant(id: string, fingerprint: Buffer): void {
    if (!this.#grants.has(id) && this.#grants.size >= MAX_REMEMBERED_GRANTS) {
      const [oldest] = this.#grants.keys();
      this.forgetGrant(oldest);
    }
    this.#grants.set(id, Buffer.from(fingerprint));
  }

  forgetGrant(id: string): void {
    this.#grants.get(id)?.fill(0);
    this.#grants.delete(id);
  }

  /** Wipes the remembered keys and grants (the index is being closed). */
  forget(): void {
    for (const accepted of this.#keys) accepted.fill(0);
    this.#keys = [];
    for (const id of [...this.#grants.keys()]) this.forgetGrant(id);
  }
}
