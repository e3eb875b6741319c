// Metrics: stored rows (cosine normalised once), exact distances against the definitions, rejected values.
import { describe, expect, it } from 'vitest';
import { EngineInputError } from '../../src/engine/errors.js';
import { assertMetric, encodeVector, exactDistance, METRICS, rowStride } from '../../src/engine/metric.js';
import { naiveDistance, randomVectors, row } from './helpers.js';

describe('metrics', () => {
  it.each(METRICS)('%s: the exact distance of stored rows equals the definition', (metric) => {
    const d = 13;
    const data = randomVectors(20, d, 21);
    const stride = rowStride(d);
    const stored = new Float32Array(20 * stride);
    for (let i = 0; i < 20; i++) encodeVector(data, i * d, d, metric, stored, i * stride, 'v');
    for (let i = 0; i < 20; i++) {
      for (let j = 0; j < 20; j++) {
        expect(exactDistance(metric, stored, i * stride, stored, j * stride, d)).toBeCloseTo(naiveDistance(metric, row(data, d, i), row(data, d, j)), 5);
      }
    }
  });

  it('stores cosine rows at unit length (normalised once, at insert) with a zero ranking norm', () => {
    const out = new Float32Array(4);
    expect(encodeVector([3, 4, 0], 0, 3, 'cosine', out, 0, 'v')).toBe(0);
    expect(Array.from(out)).toEqual([Math.fround(0.6), Math.fround(0.8), 0, 0]);
  });

  it('keeps the squared norm for the euclidean metrics and pads with zeros', () => {
    const out = new Float32Array(8).fill(9);
    expect(encodeVector([1, 2, 2, 0, 0], 0, 5, 'euclidean', out, 0, 'v')).toBe(9);
    expect(Array.from(out)).toEqual([1, 2, 2, 0, 0, 0, 0, 0]);
  });

  it('rejects NaN, infinities, values beyond float32 and non-numbers', () => {
    const out = new Float32Array(4);
    for (const bad of [[1, Number.NaN], [Infinity, 1], [1, 1e39], [1, '2' as unknown as number]]) {
      expect(() => encodeVector(bad, 0, 2, 'euclidean', out, 0, 'vector')).toThrow(EngineInputError);
    }
    expect(() => encodeVector(new Float32Array([1, Number.NaN]), 0, 2, 'euclidean', out, 0, 'vector')).toThrow(/vector\[1\]/);
  });

  it('rejects a vector whose squared norm overflows float32, except under cosine (normalised first)', () => {
    const out = new Float32Array(4);
    expect(() => encodeVector([1e20, 1e20], 0, 2, 'squared_euclidean', out, 0, 'v')).toThrow(/overflows/);
    expect(encodeVector([1e20, 1e20], 0, 2, 'cosine', out, 0, 'v')).toBe(0);
    expect(out[0]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('rejects the zero vector under cosine only', () => {
    const out = new Float32Array(4);
    expect(() => encodeVector([0, 0], 0, 2, 'cosine', out, 0, 'v')).toThrow(/zero vector/);
    expect(encodeVector([0, 0], 0, 2, 'squared_euclidean', out, 0, 'v')).toBe(0);
  });

  it('rejects unknown metrics', () => {
    expect(() => assertMetric('manhattan')).toThrow(EngineInputError);
  });
});
