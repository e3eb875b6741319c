// Seeded random numbers: reproducible sequences, a sane range, distinct samples and true permutations.
import { describe, expect, it } from 'vitest';
import { createRandom, sampleIndices, shuffle } from '../../src/engine/random.js';

describe('seeded random numbers', () => {
  it('repeats a sequence for a seed and differs between seeds', () => {
    const a = createRandom(5);
    const b = createRandom(5);
    const c = createRandom(6);
    const seqA = Array.from({ length: 20 }, a);
    expect(Array.from({ length: 20 }, b)).toEqual(seqA);
    expect(Array.from({ length: 20 }, c)).not.toEqual(seqA);
  });

  it('stays in [0, 1) with a plausible mean', () => {
    const random = createRandom(7);
    let sum = 0;
    for (let i = 0; i < 100_000; i++) {
      const v = random();
      expect(v >= 0 && v < 1).toBe(true);
      sum += v;
    }
    expect(sum / 100_000).toBeCloseTo(0.5, 2);
  });

  it('samples distinct indices and shuffles into a permutation', () => {
    const picks = sampleIndices(createRandom(8), 1000, 100);
    expect(new Set(picks).size).toBe(100);
    expect(picks.every((i) => i < 1000)).toBe(true);
    const values = Uint32Array.from({ length: 50 }, (_, i) => i);
    shuffle(createRandom(9), values);
    expect(Array.from(values).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(values)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
