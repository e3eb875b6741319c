// ProductQuantizer: each piece coded as its nearest codebook entry, the table scan equal to the
// query's dot product with the decoded vector, parameters that round-trip, and shape checks.
import { describe, expect, it } from 'vitest';
import { EngineInputError } from '../../src/engine/errors.js';
import { KernelHeap } from '../../src/engine/kernel-heap.js';
import { assertPqShape, ProductQuantizer } from '../../src/engine/product-quantizer.js';
import { randomVectors } from './helpers.js';

const D = 24;
const N = 600;
const data = randomVectors(N, D, 401);
const rows = Array.from({ length: N }, (_, i) => i * D);

describe('ProductQuantizer', () => {
  const pq = ProductQuantizer.train({ source: data, rows, dimension: D }, { subvectors: 6, bits: 5 }, 3);
  const piece = 4;

  function decode(codes: Int8Array, at: number): Float32Array {
    const out = new Float32Array(D);
    for (let m = 0; m < 6; m++) {
      const entry = codes[at + m] & 0xff;
      out.set(pq.codebooks.subarray((m * pq.entries + entry) * piece, (m * pq.entries + entry + 1) * piece), m * piece);
    }
    return out;
  }

  it('has 2^bits entries per piece and one byte per piece', () => {
    expect(pq.entries).toBe(32);
    expect(pq.codeBytes).toBe(6);
    expect(pq.codebooks.length).toBe(6 * 32 * piece);
  });

  it('codes each piece as its nearest entry, in batches as one by one', () => {
    const codes = new Int8Array(N * 6);
    pq.encodeBatch(data, rows, codes, 0);
    const one = new Int8Array(6);
    for (let r = 0; r < N; r += 37) {
      pq.encode(data, r * D, one, 0);
      expect(Array.from(one)).toEqual(Array.from(codes.subarray(r * 6, r * 6 + 6)));
      for (let m = 0; m < 6; m++) {
        let best = 0;
        let bestDistance = Infinity;
        for (let e = 0; e < pq.entries; e++) {
          let sum = 0;
          for (let t = 0; t < piece; t++) sum += (data[r * D + m * piece + t] - pq.codebooks[(m * pq.entries + e) * piece + t]) ** 2;
          if (sum < bestDistance - 1e-6) {
            bestDistance = sum;
            best = e;
          }
        }
        expect(codes[r * 6 + m] & 0xff).toBe(best);
      }
    }
  });

  it('scans to q . decoded(x) for every coded row', () => {
    const heap = new KernelHeap({ bytes: 1 << 20 });
    const codes = new Int8Array(N * 6);
    pq.encodeBatch(data, rows, codes, 0);
    const codesAt = 4096;
    heap.i8.set(codes, codesAt);
    const query = randomVectors(1, D, 402);
    heap.f32.set(query, 0);
    const tableAt = codesAt + codes.length + 64 - ((codesAt + codes.length) % 64);
    expect(pq.prepareQuery(heap, 0, tableAt)).toBe(1);
    expect(pq.queryConstant()).toBe(0);
    const outAt = tableAt + pq.queryBytes;
    pq.scan(heap, tableAt, codesAt, N, outAt);
    for (let r = 0; r < N; r++) {
      const decoded = decode(codes, r * 6);
      let dot = 0;
      for (let t = 0; t < D; t++) dot += query[t] * decoded[t];
      expect(heap.f32[(outAt >> 2) + r]).toBeCloseTo(dot, 4);
    }
  });

  it('round-trips its parameters and refuses ones for another dimension', () => {
    const copy = ProductQuantizer.fromBytes(pq.toBytes(), D);
    expect(copy.subvectors).toBe(6);
    expect(copy.bits).toBe(5);
    expect(Array.from(copy.codebooks)).toEqual(Array.from(pq.codebooks));
    expect(() => ProductQuantizer.fromBytes(pq.toBytes(), 12)).toThrow(EngineInputError);
    expect(() => ProductQuantizer.fromBytes(pq.toBytes().subarray(0, 30), D)).toThrow(EngineInputError);
  });

  it('trains fewer entries than 2^bits when given fewer rows', () => {
    const small = ProductQuantizer.train({ source: data, rows: rows.slice(0, 10), dimension: D }, { subvectors: 3, bits: 8 });
    expect(small.entries).toBe(10);
  });

  it('checks its shape', () => {
    expect(() => assertPqShape({ subvectors: 5, bits: 8 }, D)).toThrow(/divide the dimension 24/);
    expect(() => assertPqShape({ subvectors: 48, bits: 8 }, D)).toThrow(EngineInputError);
    expect(() => assertPqShape({ subvectors: 6, bits: 0 }, D)).toThrow(/pqBits/);
    expect(() => assertPqShape({ subvectors: 6, bits: 8 }, D)).not.toThrow();
  });
});
