// The per-index cipher the service holds while an index is open: separate sealing and token keys
// derived from the data key, so a token can never be confused with, or help forge, a seal.

import { hkdfSync } from 'node:crypto';
import { assertAesKey } from './aes-gcm.js';
import { openRecord, openRecordInPlace, sealRecord, sealRecordInSteps } from './sealed-record.js';
import { SetHasher, type SetHashSum } from './set-hash.js';
import { computeToken } from './tokens.js';

function derive(dataKey: Buffer, label: string): Buffer {
  // No salt: the data key is already uniformly random; the info label separates the two keys.
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `cipherdex/${label}/v1`, 32));
}

export class IndexCipher {
  readonly #sealKey: Buffer;
  readonly #tokenKey: Buffer;
  /** Keyed hash of the live (token, seal tag) set: the index commitment (set-hash.ts). */
  readonly #setHasher: SetHasher;
  #destroyed = false;

  constructor(dataKey: Buffer) {
    assertAesKey(dataKey, 'data key');
    this.#sealKey = derive(dataKey, 'seal');
    this.#tokenKey = derive(dataKey, 'token');
    const commitmentKey = derive(dataKey, 'commitment');
    this.#setHasher = new SetHasher(commitmentKey);
    commitmentKey.fill(0);
  }

  /** Adds (1) or removes (-1) the (token, seal tag) pairs to or from a commitment sum. */
  accumulateSet(sum: SetHashSum, tokens: readonly Buffer[], tags: ReadonlyArray<Buffer | string>, sign: 1 | -1): void {
    this.#assertLive();
    this.#setHasher.accumulate(sum, tokens, tags, sign);
  }

  /** accumulateSet for pairs packed back to back (SetHasher.accumulatePacked): 32-byte tokens, 16-byte tags, those `select` marks 1 (all when null). */
  accumulatePackedSet(sum: SetHashSum, tokens: Uint8Array, tags: Uint8Array, count: number, select: Uint8Array | null, sign: 1 | -1): void {
    this.#assertLive();
    this.#setHasher.accumulatePacked(sum, tokens, tags, count, select, sign);
  }

  /** Fresh 12-byte nonce | ciphertext | tag; `associatedData` names the index and slot. */
  seal(plaintext: Uint8Array, associatedData: string): Buffer {
    this.#assertLive();
    return sealRecord(this.#sealKey, plaintext, associatedData);
  }

  /** seal() in steps of about a millisecond each, for a large record sealed between requests; refused once destroyed. */
  *sealInSteps(plaintext: Uint8Array, associatedData: string): Generator<void, Buffer, undefined> {
    this.#assertLive();
    const steps = sealRecordInSteps(this.#sealKey, plaintext, associatedData);
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done === true) return step.value;
      yield;
      this.#assertLive();
    }
  }

  /** Throws SealIntegrityError when the bytes or the associated data are not what was sealed. */
  open(sealed: Uint8Array, associatedData: string): Buffer {
    this.#assertLive();
    return openRecord(this.#sealKey, sealed, associatedData);
  }

  /** open() writing the plaintext over `sealed`, which it destroys either way, as a view into it (large records already in memory: no fresh memory for the plaintext). */
  openInPlace(sealed: Uint8Array, associatedData: string): Buffer {
    this.#assertLive();
    return openRecordInPlace(this.#sealKey, sealed, associatedData);
  }

  /** Keyed token (HMAC-SHA256, 32 bytes) that locates a record without revealing it. */
  token(domain: string, value: string): Buffer {
    this.#assertLive();
    return computeToken(this.#tokenKey, domain, value);
  }

  /** Overwrites the derived keys (idle eviction); every later call throws instead of using zeros. */
  destroy(): void {
    this.#destroyed = true;
    this.#sealKey.fill(0);
    this.#tokenKey.fill(0);
    this.#setHasher.destroy();
  }

  #assertLive(): void {
    if (this.#destroyed) throw new Error('IndexCipher was destroyed; open the index again.');
  }
}
