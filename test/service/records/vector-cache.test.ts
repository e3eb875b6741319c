// The shared cache of decrypted vectors: bounded by its byte budget, oldest pages out first with a
// second chance for entries read, forgetting a slot or a whole index, and wiping what it drops.
import { describe, expect, it } from 'vitest';
import { VectorCache } from '../../../src/service/records/vector-cache.js';

const vector = (seed: number, dimension = 256): Float32Array => Float32Array.from({ length: dimension }, (_, i) => seed + i / 1000);

describe('VectorCache', () => {
  it('never holds more bytes than its budget, and drops the oldest writes first', () => {
    const entry = 256 * 4;
    const cache = new VectorCache(40 * entry);
    for (let slot = 0; slot < 200; slot++) {
      cache.set(1, slot, vector(slot));
      expect(cache.bytes).toBeLessThanOrEqual(40 * entry);
    }
    // Pages of a small budget are an eighth of it at most, so at most one page is missing.
    expect(cache.size).toBeGreaterThanOrEqual(35);
    expect(cache.size).toBeLessThanOrEqual(40);
    const kept = cache.size;
    for (let slot = 0; slot < 200 - kept; slot++) expect(cache.get(1, slot), `slot ${slot}`).toBeUndefined();
    // (The newest: a read of the oldest kept would move it, see below.)
    for (let slot = 180; slot < 200; slot++) expect(cache.get(1, slot), `slot ${slot}`).toEqual(vector(slot));
  });

  it('gives an entry read among the next to go a second chance', () => {
    const entry = 64 * 4;
    const cache = new VectorCache(64 * entry);
    for (let slot = 0; slot < 64; slot++) cache.set(1, slot, vector(slot, 64));
    expect(cache.size).toBe(64);
    // Slot 0 is in the oldest page: read, it moves to the newest, and outlives its neighbours.
    expect(cache.get(1, 0)).toEqual(vector(0, 64));
    for (let slot = 64; slot < 100; slot++) cache.set(1, slot, vector(slot, 64));
    expect(cache.get(1, 0)).toEqual(vector(0, 64));
    expect(cache.get(1, 1)).toBeUndefined();
    expect(cache.get(1, 8)).toBeUndefined();
  });

  it('keeps a copy and hands out copies, so neither side can change the other', () => {
    const cache = new VectorCache(1 << 20);
    const mine = vector(1);
    cache.set(7, 3, mine);
    mine.fill(0);
    const read = cache.get(7, 3)!;
    expect(read).toEqual(vector(1));
    read.fill(5);
    expect(cache.get(7, 3)).toEqual(vector(1));
  });

  it('forgets one slot, and every entry of one index, leaving the others', () => {
    const cache = new VectorCache(1 << 20);
    for (let slot = 0; slot < 5; slot++) {
      cache.set(1, slot, vector(slot));
      cache.set(2, slot, vector(10 + slot, 128));
    }
    cache.forget(1, 2);
    expect(cache.get(1, 2)).toBeUndefined();
    expect(cache.size).toBe(9);
    const bothIndexes = cache.bytes;
    cache.forgetOwner(1);
    expect(cache.size).toBe(5);
    expect(cache.bytes).toBeLessThan(bothIndexes);
    for (let slot = 0; slot < 5; slot++) {
      expect(cache.get(1, slot)).toBeUndefined();
      expect(cache.get(2, slot)).toEqual(vector(10 + slot, 128));
    }
    // A slot cached again after it was forgotten is found again.
    cache.set(1, 2, vector(99));
    expect(cache.get(1, 2)).toEqual(vector(99));
  });

  it('gives memory back on demand, oldest first (shrinkTo), and all of it on clear', () => {
    const cache = new VectorCache(1 << 20);
    for (let slot = 0; slot < 2000; slot++) cache.set(1, slot, vector(slot));
    const full = cache.bytes;
    cache.shrinkTo(full / 2);
    expect(cache.bytes).toBeLessThanOrEqual(full / 2);
    expect(cache.get(1, 1999)).toEqual(vector(1999));
    expect(cache.get(1, 0)).toBeUndefined();
    cache.clear();
    expect(cache.bytes).toBe(0);
    expect(cache.size).toBe(0);
    expect(cache.get(1, 1999)).toBeUndefined();
  });

  it('with a budget of 0 keeps nothing', () => {
    const cache = new VectorCache(0);
    cache.set(1, 1, vector(1));
    expect(cache.size).toBe(0);
    expect(cache.bytes).toBe(0);
    expect(cache.get(1, 1)).toBeUndefined();
  });
});
