// A keyed, incremental hash of a set of (token, seal tag) pairs: the sum, modulo 2^128, of a
// pseudorandom function of each pair. Adding or removing one pair is one addition, so a write
// updates the hash of a million-item index in time proportional to the write; without the key
// nobody can compute any pair's value, so nobody can adjust the sum to fit another set.
//
// The PRF is AES-256 CBC-MAC over exactly three blocks (token 32 bytes | tag 16 bytes): CBC-MAC
// is a secure PRF on inputs of one fixed length. It runs as three ECB passes over a whole batch,
// so the cost is three OpenSSL calls per batch rather than a MAC object per item.

import { createCipheriv, type Cipher } from 'node:crypto';
import { assertAesKey } from './aes-gcm.js';

export const SET_HASH_TOKEN_BYTES = 32;
export const SET_HASH_TAG_BYTES = 16;
export const SET_HASH_BYTES = 16;

/** Pairs accumulatePacked hashes per batch (64 KiB per column). */
const PACKED_BATCH = 4096;

/** A 128-bit sum as four little-endian 32-bit limbs. */
export type SetHashSum = Uint32Array;

export function emptySetHash(): SetHashSum {
  return new Uint32Array(4);
}

export class SetHasher {
  readonly #ecb: Cipher;
  #destroyed = false;

  constructor(key: Buffer) {
    assertAesKey(key, 'set hash key');
    this.#ecb = createCipheriv('aes-256-ecb', key, null);
    this.#ecb.setAutoPadding(false);
  }

  /**
   * Adds (sign 1) or subtracts (sign -1) the PRF value of each (tokens[i], tags[i]) to `sum`.
   * Tokens are 32 bytes; tags 16 bytes, as Buffers or as latin1 strings of 16 characters.
   */
  accumulate(sum: SetHashSum, tokens: readonly Buffer[], tags: ReadonlyArray<Buffer | string>, sign: 1 | -1): void {
    if (this.#destroyed) throw new Error('SetHasher was destroyed; open the index again.');
    const n = tokens.length;
    if (n === 0) return;
    if (tags.length !== n) throw new RangeError('tokens and tags differ in length');
    // Three columns of blocks (token halves, tag), each its own aligned memory so XOR and the sum
    // run on 32-bit words; one allocation per batch, not per item.
    const first = Buffer.allocUnsafeSlow(n * 16);
    const second = new Uint32Array(n * 4);
    const third = new Uint32Array(n * 4);
    const secondBytes = Buffer.from(second.buffer);
    const thirdBytes = Buffer.from(third.buffer);
    for (let i = 0; i < n; i++) {
      const token = tokens[i];
      const tag = tags[i];
      const tagLength = typeof tag === 'string' ? tag.length : tag.length;
      if (token.length !== SET_HASH_TOKEN_BYTES || tagLength !== SET_HASH_TAG_BYTES) throw new RangeError('set hash inputs have the wrong length');
      token.copy(first, i * 16, 0, 16);
      token.copy(secondBytes, i * 16, 16, 32);
      if (typeof tag === 'string') thirdBytes.write(tag, i * 16, 16, 'latin1');
      else tag.copy(thirdBytes, i * 16);
    }
    this.#addColumns(sum, new Uint32Array(first.buffer, first.byteOffset, n * 4), second, third, n, sign);
  }

  /**
   * accumulate for pairs packed back to back, as a store lists them: pair i is the token at
   * tokens[32i, 32i + 32) and the tag at tags[16i, 16i + 16); with `select`, only the pairs whose
   * select[i] is 1. No object per pair: word copies and three OpenSSL calls per PACKED_BATCH pairs.
   */
  accumulatePacked(sum: SetHashSum, tokens: Uint8Array, tags: Uint8Array, count: number, select: Uint8Array | null, sign: 1 | -1): void {
    if (this.#destroyed) throw new Error('SetHasher was destroyed; open the index again.');
    if (tokens.length !== count * SET_HASH_TOKEN_BYTES || tags.length !== count * SET_HASH_TAG_BYTES || (select !== null && select.length !== count)) {
      throw new RangeError('packed set hash inputs have the wrong length');
    }
    const tokenWords = wordsOf(tokens);
    const tagWords = wordsOf(tags);
    // In batches whose buffers fit in memory the allocator reuses: one pass over a million pairs
    // took 64 MiB of fresh memory, whose first touch cost more than the AES (about 3 s per GiB here).
    const batch = Math.min(count, PACKED_BATCH);
    const first = new Uint32Array(batch * 4);
    const second = new Uint32Array(batch * 4);
    const third = new Uint32Array(batch * 4);
    let k = 0;
    for (let i = 0; i < count; i++) {
      if (select !== null && select[i] !== 1) continue;
      const t = i * 8;
      const o = k * 4;
      first[o] = tokenWords[t];
      first[o + 1] = tokenWords[t + 1];
      first[o + 2] = tokenWords[t + 2];
      first[o + 3] = tokenWords[t + 3];
      second[o] = tokenWords[t + 4];
      second[o + 1] = tokenWords[t + 5];
      second[o + 2] = tokenWords[t + 6];
      second[o + 3] = tokenWords[t + 7];
      const g = i * 4;
      third[o] = tagWords[g];
      third[o + 1] = tagWords[g + 1];
      third[o + 2] = tagWords[g + 2];
      third[o + 3] = tagWords[g + 3];
      if (++k === batch) {
        this.#addColumns(sum, first, second, third, k, sign);
        k = 0;
      }
    }
    if (k > 0) this.#addColumns(sum, first, second, third, k, sign);
  }

  /** CBC-MAC of the first n three-block inputs given as columns of blocks, each added to (or subtracted from) `sum`. */
  #addColumns(sum: SetHashSum, first: Uint32Array, second: Uint32Array, third: Uint32Array, n: number, sign: 1 | -1): void {
    const state = new Uint32Array(n * 4);
    const stateBytes = Buffer.from(state.buffer);
    stateBytes.set(this.#ecb.update(Buffer.from(first.buffer, first.byteOffset, n * 16)));
    for (let w = 0; w < n * 4; w++) state[w] ^= second[w];
    stateBytes.set(this.#ecb.update(stateBytes));
    for (let w = 0; w < n * 4; w++) state[w] ^= third[w];
    stateBytes.set(this.#ecb.update(stateBytes));
    // Little-endian platforms only (item-codec refuses others): the words are the limbs.
    for (let i = 0; i < n; i++) addLimbs(sum, state, i * 4, sign);
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    // Releases OpenSSL's context (and the expanded key in it); the cipher is unusable afterwards.
    try {
      this.#ecb.final();
    } catch {
      // nothing buffered: ECB without padding only fails when a partial block is pending
    }
  }
}

/** The bytes as 32-bit words (copied when they do not start on a 4-byte boundary). */
function wordsOf(bytes: Uint8Array): Uint32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  return new Uint32Array(aligned.buffer, aligned.byteOffset, aligned.length >> 2);
}

/** sum += sign * value (mod 2^128), value being four 32-bit limbs at `offset`, least significant first. */
function addLimbs(sum: SetHashSum, value: Uint32Array, offset: number, sign: 1 | -1): void {
  // Subtraction adds the two's complement: (~value) + 1.
  let carry = sign === 1 ? 0 : 1;
  for (let limb = 0; limb < 4; limb++) {
    const v = sign === 1 ? value[offset + limb] : ~value[offset + limb] >>> 0;
    const total = sum[limb] + v + carry;
    sum[limb] = total >>> 0;
    carry = total > 0xffff_ffff ? 1 : 0;
  }
}

export function setHashEquals(a: SetHashSum, b: SetHashSum): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}
