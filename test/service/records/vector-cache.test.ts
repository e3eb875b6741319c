// The shared cache of vectors read back from the store: bounded by its byte budget (entries and
// their overhead counted), least recently used out first, and forgetting a slot or a whole index.
import { describe, expect, it } from 'vitest';
import { VectorCache } from '../../../src/service/records/vector-cache.js';

const vector = (seed: number, dimension = 256): Float32Array => Float32Array.from({ length: dimension }, (_, i) => seed + i / 1000);

describe('VectorCache', () => {
  it('never holds more bytes than its budget, counting each entry with its overhead, and evicts the least recently used', () => {
    const entry = 256 * 4;
    const cache = new VectorCache(10 * entry);
    for (let slot = 0; slot < 50; slot++) {
      cache.set(1, slot, vector(slot));
      expect(cache.bytes).toBeLessThanOrEqual(10 * entry);
    }
    // Each entry costs more than its floats, so fewer than 10 fit.
    expect(cache.size).toBeGreaterThan(5);
    expect(cache.size).toBeLessThan(10);
    expect(cache.bytes).toBeGreaterThan(cache.size * entry);
    expect(cache.get(1, 0)).toBeUndefined();
    expect(cache.get(1, 49)).toEqual(vector(49));
    // Reading an entry makes it the most recent: it outlives the others.
    const oldest = 50 - cache.size;
    expect(cache.get(1, oldest)).toEqual(vector(oldest));
    cache.set(1, 100, vector(100));
    expect(cache.get(1, oldest)).toEqual(vector(oldest));
    expect(cache.get(1, oldest + 1)).toBeUndefined();
  });

  it('keeps a copy, so the caller may reuse its array', () => {
    const cache = new VectorCache(1 << 20);
    const mine = vector(1);
    cache.set(7, 3, mine);
    mine.fill(0);
    expect(cache.get(7, 3)).toEqual(vector(1));
  });

  it('forgets one slot, and every entry of one index, leaving the others', () => {
    const cache = new VectorCache(1 << 20);
    for (let slot = 0; slot < 5; slot++) {
      cache.set(1, slot, vector(slot));
      cache.set(2, slot, vector(10 + slot));
    }
    cache.forget(1, 2);
    expect(cache.get(1, 2)).toBeUndefined();
    expect(cache.size).toBe(9);
    cache.forgetOwner(1);
    expect(cache.size).toBe(5);
    for (let slot = 0; slot < 5; slot++) {
      expect(cache.get(1, slot)).toBeUndefined();
      expect(cache.get(2, slot)).toEqual(vector(10 + slot));
    }
    const one = new VectorCache(1 << 20);
    one.set(1, 1, vector(1));
    expect(cache.bytes).toBe(5 * one.bytes);
  });

  it('with a budget of 0 keeps nothing', () => {
    const cache = new VectorCache(0);
    cache.set(1, 1, vector(1));
    expect(cache.size).toBe(0);
    expect(cache.get(1, 1)).toBeUndefined();
  });
});
