// The list scanner's selection helper: kthSmallest must find the exact order statistic (ties and
// all), since a search offers only the rows at or under it from a query's first stretch of rows.
import { describe, expect, it } from 'vitest';
import { kthSmallest } from '../../src/engine/list-scanner.js';
import { randomVectors } from './helpers.js';

describe('kthSmallest', () => {
  it('is the k-th value of the sorted input for every k, on random values and on many ties', () => {
    const random = Float64Array.from(randomVectors(1, 301, 4));
    const ties = Float64Array.from({ length: 200 }, (_, i) => (i * 7919) % 5);
    for (const values of [random, ties]) {
      const sorted = [...values].sort((a, b) => a - b);
      for (let k = 1; k <= values.length; k += 7) {
        const copy = values.slice();
        expect(kthSmallest(copy, values.length, k)).toBe(sorted[k - 1]);
        expect([...copy].sort((a, b) => a - b)).toEqual(sorted); // reordered, nothing lost
      }
    }
  });

  it('looks only at the first n values', () => {
    const values = Float64Array.from([5, 1, 4, -100, -200]);
    expect(kthSmallest(values, 3, 1)).toBe(1);
    expect(kthSmallest(values, 3, 3)).toBe(5);
  });
});
