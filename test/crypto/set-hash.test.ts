// The keyed set hash behind the index commitment: independent of order and batching, removing
// undoes adding (also across the 2^128 wrap), and it depends on the key, the token and the tag.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SetHasher, emptySetHash, setHashEquals } from '../../src/crypto/set-hash.js';

const pairs = Array.from({ length: 50 }, () => ({ token: randomBytes(32), tag: randomBytes(16) }));

function hashOf(hasher: SetHasher, chosen: typeof pairs, sign: 1 | -1 = 1, sum = emptySetHash()) {
  hasher.accumulate(sum, chosen.map((p) => p.token), chosen.map((p) => p.tag), sign);
  return sum;
}

describe('set hash', () => {
  const key = randomBytes(32);

  it('does not depend on order or on how the set is split into batches', () => {
    const hasher = new SetHasher(key);
    const whole = hashOf(hasher, pairs);
    const shuffled = hashOf(hasher, [...pairs].reverse());
    const split = hashOf(hasher, pairs.slice(20), 1, hashOf(hasher, pairs.slice(0, 20)));
    expect(setHashEquals(whole, shuffled)).toBe(true);
    expect(setHashEquals(whole, split)).toBe(true);
  });

  it('returns to zero when every pair added is removed again (subtraction wraps modulo 2^128)', () => {
    const hasher = new SetHasher(key);
    const sum = hashOf(hasher, pairs.slice(0, 10), -1);
    hashOf(hasher, pairs.slice(0, 10), 1, sum);
    expect(setHashEquals(sum, emptySetHash())).toBe(true);
  });

  it('changes with the tag of one pair, a pair missing, a pair added, and the key', () => {
    const hasher = new SetHasher(key);
    const base = hashOf(hasher, pairs);
    const otherTag = pairs.map((p, i) => (i === 7 ? { token: p.token, tag: randomBytes(16) } : p));
    expect(setHashEquals(base, hashOf(hasher, otherTag))).toBe(false);
    expect(setHashEquals(base, hashOf(hasher, pairs.slice(1)))).toBe(false);
    expect(setHashEquals(base, hashOf(hasher, [...pairs, { token: randomBytes(32), tag: randomBytes(16) }]))).toBe(false);
    expect(setHashEquals(base, hashOf(new SetHasher(randomBytes(32)), pairs))).toBe(false);
  });

  it('sums pairs packed back to back (all, or those selected) exactly as the same pairs one by one, whatever the alignment', () => {
    const hasher = new SetHasher(key);
    const select = Uint8Array.from(pairs, (_, i) => (i % 3 === 1 ? 0 : 1));
    const chosen = pairs.filter((_, i) => select[i] === 1);
    for (const shift of [0, 1, 3]) {
      // Behind `shift` bytes: views that do not start on a word boundary.
      const tokens = Buffer.concat([Buffer.alloc(shift), ...pairs.map((p) => p.token)]).subarray(shift);
      const tags = Buffer.concat([Buffer.alloc(shift), ...pairs.map((p) => p.tag)]).subarray(shift);
      const all = emptySetHash();
      hasher.accumulatePacked(all, tokens, tags, pairs.length, null, 1);
      expect(setHashEquals(all, hashOf(hasher, pairs))).toBe(true);
      const some = emptySetHash();
      hasher.accumulatePacked(some, tokens, tags, pairs.length, select, 1);
      expect(setHashEquals(some, hashOf(hasher, chosen))).toBe(true);
      // Removing packed undoes adding one by one.
      hasher.accumulatePacked(some, tokens, tags, pairs.length, select, -1);
      expect(setHashEquals(some, emptySetHash())).toBe(true);
    }
    // More pairs than one batch of the packed path holds (4,096), some left out.
    const many = Array.from({ length: 10_000 }, () => ({ token: randomBytes(32), tag: randomBytes(16) }));
    const everyThird = Uint8Array.from(many, (_, i) => (i % 3 === 0 ? 1 : 0));
    for (const chosenMany of [null, everyThird]) {
      const packed = emptySetHash();
      hasher.accumulatePacked(packed, Buffer.concat(many.map((p) => p.token)), Buffer.concat(many.map((p) => p.tag)), many.length, chosenMany, 1);
      expect(setHashEquals(packed, hashOf(hasher, chosenMany === null ? many : many.filter((_, i) => everyThird[i] === 1)))).toBe(true);
    }
    const none = emptySetHash();
    hasher.accumulatePacked(none, Buffer.alloc(64), Buffer.alloc(32), 2, new Uint8Array(2), 1);
    expect(setHashEquals(none, emptySetHash())).toBe(true);
    expect(() => hasher.accumulatePacked(emptySetHash(), Buffer.alloc(63), Buffer.alloc(32), 2, null, 1)).toThrow(RangeError);
    expect(() => hasher.accumulatePacked(emptySetHash(), Buffer.alloc(64), Buffer.alloc(32), 2, new Uint8Array(3), 1)).toThrow(RangeError);
  });

  it('refuses inputs of the wrong length and use after destroy', () => {
    const hasher = new SetHasher(key);
    expect(() => hasher.accumulate(emptySetHash(), [randomBytes(31)], [randomBytes(16)], 1)).toThrow(RangeError);
    hasher.destroy();
    expect(() => hasher.accumulate(emptySetHash(), [randomBytes(32)], [randomBytes(16)], 1)).toThrow(/destroyed/);
    expect(() => hasher.accumulatePacked(emptySetHash(), randomBytes(32), randomBytes(16), 1, null, 1)).toThrow(/destroyed/);
  });
});
