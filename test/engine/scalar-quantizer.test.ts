// ScalarQuantizer: int8 row codes within half a step, clamping, and query codes that reproduce q.x.
import { describe, expect, it } from 'vitest';
import { codeBytesFor, ScalarQuantizer } from '../../src/engine/scalar-quantizer.js';
import { randomVectors } from './helpers.js';

const D = 20;
const data = randomVectors(200, D, 71);
for (let i = 0; i < data.length; i += D) data[i] *= 50; // one dimension with a much wider range
const rows = Array.from({ length: 200 }, (_, i) => i * D);

describe('ScalarQuantizer', () => {
  const quantizer = ScalarQuantizer.fit(data, rows, D);

  it('pads codes to whole 16-byte steps', () => {
    expect(codeBytesFor(20)).toBe(32);
    expect(codeBytesFor(128)).toBe(128);
    expect(quantizer.codeBytes).toBe(32);
  });

  it('codes every fitted row within half a step per dimension, padding with zeros', () => {
    const codes = new Int8Array(32).fill(9);
    for (let r = 0; r < 200; r++) {
      quantizer.encodeRow(data, r * D, codes, 0);
      for (let d = 0; d < D; d++) {
        const decoded = quantizer.offsets[d] + quantizer.steps[d] * codes[d];
        expect(Math.abs(decoded - data[r * D + d])).toBeLessThanOrEqual(quantizer.steps[d] / 2 + 1e-6);
      }
      expect(Array.from(codes.subarray(D))).toEqual(new Array(32 - D).fill(0));
    }
  });

  it('clamps values beyond the fitted range instead of wrapping', () => {
    const far = new Float32Array(D).fill(1e6);
    const codes = new Int8Array(32);
    quantizer.encodeRow(far, 0, codes, 0);
    expect(Array.from(codes.subarray(0, D))).toEqual(new Array(D).fill(127));
  });

  it('query codes reproduce q.x up to a per-query constant, within the quantization error', () => {
    const queries = randomVectors(5, D, 72);
    const codes = new Int8Array(32);
    const q16 = new Int16Array(32);
    for (let q = 0; q < 5; q++) {
      const scale = quantizer.encodeQuery(queries, q * D, q16, 0);
      let constant = 0;
      for (let d = 0; d < D; d++) constant += queries[q * D + d] * quantizer.offsets[d];
      for (let r = 0; r < 20; r++) {
        quantizer.encodeRow(data, r * D, codes, 0);
        let exact = 0;
        let coded = 0;
        let bound = 0;
        for (let d = 0; d < D; d++) {
          exact += queries[q * D + d] * data[r * D + d];
          coded += q16[d] * codes[d];
          bound += Math.abs(queries[q * D + d]) * quantizer.steps[d];
        }
        expect(Math.abs(constant + scale * coded - exact)).toBeLessThanOrEqual(bound);
      }
    }
  });
});
