// Distance kernels: the SIMD (assembled from the WAT here) and plain paths against naive arithmetic and each other.
import { describe, expect, it } from 'vitest';
import { KernelHeap } from '../../src/engine/kernel-heap.js';
import { kernelInfo, NEAREST_BLOCK, type Kernels } from '../../src/engine/kernels.js';
import { exactDistance, exactDistanceFromSums, rowStride } from '../../src/engine/metric.js';
import { ScalarQuantizer } from '../../src/engine/scalar-quantizer.js';
import { assembleKernels } from '../../src/engine/simd/assemble-kernels.js';
import { KERNEL_EXPORTS } from '../../src/engine/simd/kernel-module.js';
import { randomVectors } from './helpers.js';

// The SIMD module is assembled here from the committed WAT, so the comparison does not depend
// on whether `npm run build:wasm` has run; the build output itself is checked separately.
const simdModule = new WebAssembly.Module(await assembleKernels());

interface Setup {
  heap: KernelHeap;
  rowBytes: number;
  at: (row: number) => number;
}

/** Two heaps with the same rows (padded to the stride): one per kernel path. */
function setups(rows: number, dimension: number, seed: number): [Setup, Setup] {
  const stride = rowStride(dimension);
  const data = randomVectors(rows, dimension, seed);
  const make = (heap: KernelHeap): Setup => {
    heap.growTo(rows * stride * 4 + (1 << 20));
    for (let r = 0; r < rows; r++) heap.f32.set(data.subarray(r * dimension, (r + 1) * dimension), r * stride);
    return { heap, rowBytes: stride * 4, at: (row) => row * stride * 4 };
  };
  return [make(new KernelHeap({ kernels: 'simd', module: simdModule })), make(new KernelHeap({ kernels: 'plain' }))];
}

function dot(f: Float32Array, a: number, b: number, d: number): number {
  let s = 0;
  for (let t = 0; t < d; t++) s += f[a + t] * f[b + t];
  return s;
}

describe.each([128, 20, 7])('kernels, dimension %i', (dimension) => {
  const stride = rowStride(dimension);
  const rows = 96;
  const scratch = rows * stride * 4;

  it('dotRows: SIMD and plain agree with a naive dot product, for any row count', () => {
    for (const { heap, rowBytes, at } of setups(rows, dimension, 3)) {
      heap.f32.fill(-1, scratch >> 2, (scratch >> 2) + 64);
      heap.kernels.dotRows(at(0), at(8), 61, rowBytes, scratch);
      expect(heap.f32[(scratch >> 2) + 61]).toBe(-1);
      for (let i = 0; i < 61; i++) {
        expect(heap.f32[(scratch >> 2) + i]).toBeCloseTo(dot(heap.f32, 0, (8 + i) * stride, stride), 4);
      }
    }
  });

  it('dotBlock: every (query, row) cell is the dot product, on both paths', () => {
    const [simd, plain] = setups(rows, dimension, 4);
    for (const { heap, rowBytes, at } of [simd, plain]) {
      heap.kernels.dotBlock(at(0), 8, at(16), 32, rowBytes, scratch, 40);
      for (let q = 0; q < 8; q++) {
        for (let j = 0; j < 32; j++) {
          expect(heap.f32[(scratch >> 2) + q * 40 + j]).toBeCloseTo(dot(heap.f32, q * stride, (16 + j) * stride, stride), 4);
        }
      }
    }
    // and the two paths agree with each other
    for (let c = 0; c < 8 * 40; c++) {
      if (c % 40 >= 32) continue;
      expect(simd.heap.f32[(scratch >> 2) + c]).toBeCloseTo(plain.heap.f32[(scratch >> 2) + c], 4);
    }
  });

  it('nearest: same labels on both paths, equal to a naive argmin, first index on ties', () => {
    const centroids = 16;
    const results: Uint32Array[] = [];
    for (const { heap, rowBytes, at } of setups(rows, dimension, 5)) {
      const f32 = heap.f32;
      // centroids are rows 64..79
      const norms = scratch;
      for (let j = 0; j < centroids; j++) f32[(norms >> 2) + j] = dot(f32, (64 + j) * stride, (64 + j) * stride, stride);
      const labels = norms + 64 * 4;
      const best = labels + 64 * 4;
      const work = best + 64 * 4;
      heap.kernels.nearest(at(0), 64, at(64), centroids, rowBytes, norms, labels, best, work);
      for (let i = 0; i < 64; i++) {
        let want = 0;
        let low = Infinity;
        for (let j = 0; j < centroids; j++) {
          const score = f32[(norms >> 2) + j] - 2 * dot(f32, i * stride, (64 + j) * stride, stride);
          if (score < low - 1e-4) {
            low = score;
            want = j;
          }
        }
        expect(heap.u32[(labels >> 2) + i]).toBe(want);
        expect(f32[(best >> 2) + i]).toBeCloseTo(low, 3);
      }
      results.push(heap.u32.slice(labels >> 2, (labels >> 2) + 64));
      expect(work + NEAREST_BLOCK * centroids * 4).toBeLessThan(heap.byteLength);
    }
    expect(Array.from(results[0])).toEqual(Array.from(results[1]));
  });

  it('nearest picks the first of two identical centroids', () => {
    for (const { heap, rowBytes, at } of setups(rows, dimension, 6)) {
      const f32 = heap.f32;
      // centroids 0..7 are rows 64..71 with row 69 (index 5) made equal to row 66 (index 2)
      f32.copyWithin(69 * stride, 66 * stride, 67 * stride);
      f32.copyWithin(0, 66 * stride, 67 * stride); // query row 0 sits on them
      const norms = scratch;
      for (let j = 0; j < 8; j++) f32[(norms >> 2) + j] = dot(f32, (64 + j) * stride, (64 + j) * stride, stride);
      heap.kernels.nearest(at(0), 8, at(64), 8, rowBytes, norms, norms + 64, norms + 128, norms + 256);
      expect(heap.u32[(norms + 64) >> 2]).toBe(2);
    }
  });

  it('int16 kernels: quantized rows, exact integer blocks, and nearestI16 with its second best, equal on both paths', () => {
    const i16Bytes = Math.ceil((stride * 2) / 16) * 16;
    const centroids = 16;
    const scale = 900.3;
    const outs: number[][] = [];
    for (const { heap, rowBytes, at } of setups(rows, dimension, 9)) {
      const { f32, i16, u32 } = heap;
      const quant = scratch;
      i16.fill(7, quant >> 1, (quant + 80 * i16Bytes) >> 1); // padding must come out zero
      heap.kernels.quantizeRowsI16(at(0), 80, rowBytes, scale, quant, i16Bytes);
      for (let r = 0; r < 80; r++) {
        for (let t = 0; t < i16Bytes / 2; t++) {
          const v = i16[(quant >> 1) + r * (i16Bytes / 2) + t];
          if (t >= dimension) expect(v).toBe(0);
          else expect(Math.abs(v - Math.fround(scale * f32[r * stride + t]))).toBeLessThanOrEqual(0.5);
        }
      }
      const intDot = (a: number, b: number): number => {
        let sum = 0;
        for (let t = 0; t < i16Bytes / 2; t++) sum += i16[(quant >> 1) + a * (i16Bytes / 2) + t] * i16[(quant >> 1) + b * (i16Bytes / 2) + t];
        return Math.fround(sum);
      };
      const block = quant + 80 * i16Bytes;
      heap.kernels.dotBlockI16(quant, 8, quant + 64 * i16Bytes, centroids, i16Bytes, block, 20);
      for (let q = 0; q < 8; q++) for (let j = 0; j < centroids; j++) expect(f32[(block >> 2) + q * 20 + j]).toBe(intDot(q, 64 + j));
      // rows 0..63 against centroids = quantized rows 64..79; cnorms of the f32 rows
      const norms = block + 8 * 20 * 4;
      for (let j = 0; j < centroids; j++) f32[(norms >> 2) + j] = dot(f32, (64 + j) * stride, (64 + j) * stride, stride);
      const factor = 2 / (scale * scale);
      const labels = norms + centroids * 4;
      const best = labels + 64 * 4;
      const second = best + 64 * 4;
      const work = second + 64 * 4;
      heap.kernels.nearestI16(quant, 64, quant + 64 * i16Bytes, centroids, i16Bytes, norms, factor, labels, best, second, work);
      for (let i = 0; i < 64; i++) {
        const scores = Array.from({ length: centroids }, (_, j) => Math.fround(f32[(norms >> 2) + j] - Math.fround(Math.fround(factor) * intDot(i, 64 + j))));
        const sorted = [...scores].sort((a, b) => a - b);
        expect(u32[(labels >> 2) + i]).toBe(scores.indexOf(sorted[0]));
        expect(f32[(best >> 2) + i]).toBe(sorted[0]);
        expect(f32[(second >> 2) + i]).toBe(sorted[1]);
      }
      outs.push([...u32.subarray(labels >> 2, (labels >> 2) + 64), ...f32.subarray(best >> 2, (best >> 2) + 128)]);
    }
    expect(outs[0]).toEqual(outs[1]);
  });

  it('rerankSums + exactDistanceFromSums give exactDistance bit for bit, every metric, on both paths', () => {
    for (const { heap, rowBytes, at } of setups(rows, dimension, 10)) {
      const offsets = scratch;
      const sums = scratch + 64 * 4;
      const picked = [3, 40, 41, 17, 95, 0, 60];
      picked.forEach((r, i) => (heap.u32[(offsets >> 2) + i] = at(r)));
      const whole = dimension - (dimension % 4);
      for (const metric of ['squared_euclidean', 'euclidean', 'cosine'] as const) {
        heap.kernels.rerankSums(at(1), offsets, picked.length, whole * 4, metric === 'cosine' ? 1 : 0, sums);
        picked.forEach((r, i) => {
          const f64 = heap.f64;
          const o = (sums >> 3) + 4 * i;
          const got = exactDistanceFromSums(metric, f64[o], f64[o + 1], f64[o + 2], f64[o + 3], heap.f32, stride, heap.f32, r * stride, dimension);
          expect(got).toBe(exactDistance(metric, heap.f32, stride, heap.f32, r * stride, dimension));
        });
      }
      expect(rowBytes).toBe(stride * 4);
    }
  });

  it('sumRows and gatherRows agree across paths and with plain arithmetic', () => {
    const outs: Float64Array[] = [];
    for (const { heap, rowBytes, at } of setups(rows, dimension, 7)) {
      const labels = scratch;
      for (let i = 0; i < 10; i++) heap.u32[(labels >> 2) + i] = i % 3;
      const sums = scratch + 64;
      heap.f64.fill(0, sums >> 3, (sums >> 3) + 3 * stride);
      heap.kernels.sumRows(at(0), 10, rowBytes, labels, sums);
      for (let t = 0; t < dimension; t++) {
        let want = 0;
        for (let i = 0; i < 10; i += 3) want += heap.f32[i * stride + t];
        expect(heap.f64[(sums >> 3) + t]).toBeCloseTo(want, 6);
      }
      outs.push(heap.f64.slice(sums >> 3, (sums >> 3) + 3 * stride));
      const indices = sums + 3 * stride * 8;
      [5, 1, 5].forEach((v, i) => (heap.u32[(indices >> 2) + i] = v));
      const dst = indices + 64;
      heap.kernels.gatherRows(at(0), indices, 3, rowBytes, dst);
      expect(Array.from(heap.f32.subarray(dst >> 2, (dst >> 2) + stride))).toEqual(Array.from(heap.f32.subarray(5 * stride, 6 * stride)));
      expect(Array.from(heap.f32.subarray((dst >> 2) + stride, (dst >> 2) + 2 * stride))).toEqual(Array.from(heap.f32.subarray(stride, 2 * stride)));
    }
    expect(Array.from(outs[0])).toEqual(Array.from(outs[1]));
  });
});

describe('quantized kernels and score selection', () => {
  const heaps = (): KernelHeap[] => [new KernelHeap({ kernels: 'simd', module: simdModule }), new KernelHeap({ kernels: 'plain' })];

  it('dotRowsI8 and dotBlockI8 are the exact integer dot products, on both paths', () => {
    const codeBytes = 32;
    for (const heap of heaps()) {
      heap.growTo(1 << 20);
      const random = randomVectors(1, 4000, 81);
      for (let i = 0; i < 6 * codeBytes; i++) heap.i16[i] = Math.round(random[i] * 32_767);
      for (let i = 0; i < 30 * codeBytes; i++) heap.i8[4096 + i] = Math.round(random[2000 + i] * 127);
      const want = (q: number, r: number): number => {
        let sum = 0;
        for (let j = 0; j < codeBytes; j++) sum += heap.i16[q * codeBytes + j] * heap.i8[4096 + r * codeBytes + j];
        return Math.fround(sum);
      };
      heap.kernels.dotRowsI8(2 * codeBytes * 2, 4096, 29, codeBytes, 65_536);
      for (let r = 0; r < 29; r++) expect(heap.f32[(65_536 >> 2) + r]).toBe(want(2, r));
      heap.kernels.dotBlockI8(0, 4, 4096, 30, codeBytes, 131_072, 32);
      for (let q = 0; q < 4; q++) for (let r = 0; r < 30; r++) expect(heap.f32[(131_072 >> 2) + q * 32 + r]).toBe(want(q, r));
    }
  });

  it('seedPotential sums min(closest, max(0, norm + cn - 2 dot)) and updates closest only when asked, on both paths', () => {
    for (const heap of heaps()) {
      const values = randomVectors(1, 3 * 40, 83);
      const f32 = heap.f32;
      for (let i = 0; i < 40; i++) {
        f32[i] = 2 + values[i]; // closest
        f32[64 + i] = 1 + Math.abs(values[40 + i]); // norms
        f32[128 + i] = values[80 + i]; // dots
      }
      const before = f32.slice(0, 40);
      const terms = Array.from({ length: 40 }, (_, i) => Math.min(before[i], Math.max(0, f32[64 + i] + 0.7 - 2 * f32[128 + i])));
      const want = terms.reduce((a, b) => a + b, 0);
      expect(heap.kernels.seedPotential(0, 256, 512, 40, 0.7, 0)).toBeCloseTo(want, 4);
      expect(Array.from(f32.subarray(0, 40))).toEqual(Array.from(before));
      expect(heap.kernels.seedPotential(0, 256, 512, 40, 0.7, 1)).toBeCloseTo(want, 4);
      for (let i = 0; i < 40; i++) expect(f32[i]).toBeCloseTo(terms[i], 5);
      expect(terms.some((t, i) => t < before[i])).toBe(true);
    }
  });

  it('selectScores picks exactly the rows at or under the bound, in order, on both paths', () => {
    const picked: number[][] = [];
    for (const heap of heaps()) {
      const values = randomVectors(1, 2 * 37, 82);
      heap.f32.set(values, 0); // 37 norms then 37 dots
      const end = heap.kernels.selectScores(0, 37 * 4, 37, 2, 0.1, 4096);
      const got = Array.from(heap.u32.subarray(1024, end >> 2));
      const want = Array.from({ length: 37 }, (_, i) => i).filter((i) => Math.fround(heap.f32[i] - Math.fround(2 * heap.f32[37 + i])) <= Math.fround(0.1));
      expect(got).toEqual(want);
      expect(heap.kernels.selectScores(0, 37 * 4, 37, 2, Infinity, 4096)).toBe(4096 + 37 * 4);
      picked.push(got);
    }
    expect(picked[0]).toEqual(picked[1]);
  });
});

describe('batch selection and query coding', () => {
  const heaps = (): KernelHeap[] => [new KernelHeap({ kernels: 'simd', module: simdModule }), new KernelHeap({ kernels: 'plain' })];

  it('selectBlock picks, query by query, exactly what selectScores picks for each, tagged with the query, on both paths', () => {
    const [m, n, ldo] = [7, 37, 40];
    const picked: number[][] = [];
    for (const heap of heaps()) {
      heap.growTo(1 << 20);
      const values = randomVectors(1, n + m * ldo, 83);
      heap.f32.set(values, 0); // n norms, then m rows of ldo dots
      const params = 64 * 1024;
      for (let q = 0; q < m; q++) {
        heap.f32[(params >> 2) + 2 * q] = 1 + q / 4;
        // one query with nothing under its bound, one with everything
        heap.f32[(params >> 2) + 2 * q + 1] = q === 2 ? -Infinity : q === 5 ? Infinity : 0.2 * (q - 3);
      }
      const end = heap.kernels.selectBlock(0, n * 4, m, n, ldo, params, 128 * 1024);
      const got = Array.from(heap.u32.subarray(32 * 1024, end >> 2));
      const want: number[] = [];
      for (let q = 0; q < m; q++) {
        const one = heap.kernels.selectScores(0, (n + q * ldo) * 4, n, heap.f32[(params >> 2) + 2 * q], heap.f32[(params >> 2) + 2 * q + 1], 256 * 1024);
        for (const i of heap.u32.subarray(64 * 1024, one >> 2)) want.push(q * 65_536 + i);
      }
      expect(got).toEqual(want);
      expect(got.filter((v) => v >>> 16 === 2)).toEqual([]);
      expect(got.filter((v) => v >>> 16 === 5)).toHaveLength(n);
      picked.push(got);
    }
    expect(picked[0]).toEqual(picked[1]);
  });

  it('kthScore is the k-th lowest of the f32 scores selectScores compares, on both paths, ties and every k included', () => {
    const n = 37;
    for (const heap of heaps()) {
      heap.growTo(1 << 20);
      const values = randomVectors(1, 2 * n, 86);
      heap.f32.set(values, 0); // n norms then n dots
      heap.f32.copyWithin(n + 5, n + 3, n + 5); // two pairs of equal scores
      heap.f32.copyWithin(5, 3, 5);
      const scores = Array.from({ length: n }, (_, i) => Math.fround(heap.f32[i] - Math.fround(Math.fround(1.5) * heap.f32[n + i]))).sort((a, b) => a - b);
      for (const k of [1, 2, 10, 20, n - 1, n]) {
        expect(heap.kernels.kthScore(0, n * 4, n, 1.5, k, 4096)).toBe(scores[k - 1]);
      }
      for (const m of [1, 2, 5]) expect(heap.kernels.kthScore(0, n * 4, m, 1.5, m, 4096)).toBe(Math.max(...Array.from({ length: m }, (_, i) => Math.fround(heap.f32[i] - Math.fround(Math.fround(1.5) * heap.f32[n + i])))));
    }
  });

  it('kthScore finds the exact k-th by bisection over wide, negative, tied and tail-length score sets', () => {
    for (const heap of heaps()) {
      heap.growTo(1 << 20);
      for (const [n, seed] of [[256, 3], [255, 4], [3, 5], [131, 6], [300, 7]] as const) {
        const values = randomVectors(1, 2 * n, seed);
        // Norms spread over six orders of magnitude and of both signs; a run of exact ties.
        for (let i = 0; i < n; i++) heap.f32[i] = values[i] * 10 ** ((i % 7) - 3);
        for (let i = 0; i < n; i++) heap.f32[n + i] = values[n + i];
        for (let i = 10; i < Math.min(n, 40); i += 3) {
          heap.f32[i] = heap.f32[7];
          heap.f32[n + i] = heap.f32[n + 7];
        }
        const scores = Array.from({ length: n }, (_, i) => Math.fround(heap.f32[i] - Math.fround(Math.fround(0.75) * heap.f32[n + i]))).sort((a, b) => a - b);
        for (let k = 1; k <= n; k += Math.max(1, Math.floor(n / 23))) {
          expect(heap.kernels.kthScore(0, n * 4, n, 0.75, k, 8192)).toBe(scores[k - 1]);
        }
        expect(heap.kernels.kthScore(0, n * 4, n, 0.75, n, 8192)).toBe(scores[n - 1]);
      }
    }
  });

  it('pqScan sums each entry\'s table lookups in float64, rounded once, on both paths and for any count', () => {
    for (const [m, entries] of [[3, 5], [8, 256]]) {
      const table = randomVectors(1, m * entries, 87 + m);
      const codes = Uint8Array.from({ length: 11 * m }, (_, i) => (i * 37 + m) % entries);
      const want = Array.from({ length: 11 }, (_, i) => {
        let sum = 0;
        for (let j = 0; j < m; j++) sum += table[j * entries + codes[i * m + j]];
        return Math.fround(sum);
      });
      for (const heap of heaps()) {
        heap.growTo(1 << 20);
        heap.f32.set(table, 0);
        heap.u8.set(codes, 65536);
        for (const n of [0, 1, 3, 4, 5, 8, 11]) {
          heap.f32.fill(-1, 32768, 32768 + 12);
          heap.kernels.pqScan(0, 65536, n, m, entries, 131072);
          expect(Array.from(heap.f32.subarray(32768, 32768 + n))).toEqual(want.slice(0, n));
          expect(heap.f32[32768 + n]).toBe(-1);
        }
      }
    }
  });

  it('quantizeQueriesI16 writes the codes and scales ScalarQuantizer.encodeQuery does, bit for bit, on both paths', () => {
    for (const dimension of [7, 24, 130]) {
      const stride = rowStride(dimension);
      const codeBytes = Math.ceil(dimension / 16) * 16;
      const n = 9;
      const steps = Float32Array.from(randomVectors(1, dimension, 84), (v) => 0.01 + Math.abs(v));
      const rows = randomVectors(n, dimension, 85);
      // An all-zero row (scale 1), and for unit steps a row of exact halves after scaling (its
      // largest value is 32767, so the scale is 1): ties, which Math.round takes upwards.
      rows.fill(0, 2 * dimension, 3 * dimension);
      rows[3 * dimension] = 32_767;
      for (let t = 1; t < dimension; t++) rows[3 * dimension + t] = ((t % 7) - 3) + 0.5;
      for (const [heap, quantizer] of heaps().flatMap((h, i) => [
        [h, new ScalarQuantizer(dimension, new Float32Array(dimension), steps)],
        [i === 0 ? new KernelHeap({ kernels: 'simd', module: simdModule }) : new KernelHeap({ kernels: 'plain' }), new ScalarQuantizer(dimension, new Float32Array(dimension), new Float32Array(dimension).fill(1))],
      ] as const)) {
        heap.growTo(1 << 20);
        heap.u8.fill(0xaa, 0, 1 << 20);
        for (let i = 0; i < n; i++) {
          heap.f32.set(rows.subarray(i * dimension, (i + 1) * dimension), i * stride);
          heap.f32.fill(0, i * stride + dimension, (i + 1) * stride);
        }
        const scales = new Float64Array(n);
        const [dst, scratch] = [256 * 1024, 512 * 1024];
        quantizer.prepareQueries(heap, 0, n, stride * 4, dst, scales, scratch);
        const want = new Int16Array(codeBytes);
        for (let i = 0; i < n; i++) {
          want.fill(0x55);
          const scale = quantizer.encodeQuery(rows, i * dimension, want, 0);
          expect(scales[i]).toBe(scale);
          expect(Array.from(heap.i16.subarray((dst >> 1) + i * codeBytes, (dst >> 1) + (i + 1) * codeBytes))).toEqual(Array.from(want));
        }
        expect(scales[2]).toBe(1);
      }
    }
  });

  it('encodeRowsI8 writes the codes and misfits ScalarQuantizer.encodeRow does, bit for bit, on both paths', () => {
    for (const dimension of [7, 24, 130]) {
      const stride = rowStride(dimension);
      const rowBytes = stride * 4;
      const n = 11;
      // Steps of 1/100 around offsets of -1: codes run -100..100 for values in [-2, 0]; the rows
      // are spread wider, so some clamp (misfits) and some do not.
      const offsets = Float32Array.from(randomVectors(1, dimension, 86), (v) => -1 + v / 10);
      const steps = new Float32Array(dimension).fill(0.01);
      const rows = Float32Array.from(randomVectors(n, dimension, 87), (v) => v * (dimension === 7 ? 0.5 : 1.2));
      // A row of exact ties, (x - offset) / step = k + 0.5 in float64 (Math.round takes them
      // upwards, negative ones too), and a row exactly at the offsets (all codes 0).
      const ties = new ScalarQuantizer(dimension, new Float32Array(dimension), new Float32Array(dimension).fill(1));
      const tieRow = Float32Array.from({ length: dimension }, (_, t) => ((t % 9) - 4) + 0.5);
      rows.set(offsets, 2 * dimension);
      const misfitsSeen = new Set<number>();
      for (const heap of heaps()) {
        for (const [quantizer, data, count] of [[new ScalarQuantizer(dimension, offsets, steps), rows, n], [ties, tieRow, 1]] as const) {
          const codeBytes = quantizer.codeBytes;
          heap.growTo(1 << 20);
          heap.u8.fill(0xaa, 0, 1 << 20);
          for (let i = 0; i < count; i++) {
            heap.f32.set(data.subarray(i * dimension, (i + 1) * dimension), i * stride);
            heap.f32.fill(0, i * stride + dimension, (i + 1) * stride);
          }
          const [dst, misfits, scratch] = [256 * 1024, 384 * 1024, 512 * 1024];
          quantizer.encodeInHeap(heap, 0, count, rowBytes, dst, misfits, scratch);
          const want = new Int8Array(codeBytes);
          for (let i = 0; i < count; i++) {
            want.fill(0x55);
            const fits = quantizer.encodeRow(data, i * dimension, want, 0);
            expect(Array.from(heap.i8.subarray(dst + i * codeBytes, dst + (i + 1) * codeBytes))).toEqual(Array.from(want));
            expect(heap.u8[misfits + i]).toBe(fits ? 0 : 1);
            if (data === rows) misfitsSeen.add(heap.u8[misfits + i]);
          }
          if (data === rows) expect(Array.from(heap.i8.subarray(dst + 2 * codeBytes, dst + 3 * codeBytes)).every((code) => code === 0)).toBe(true);
        }
      }
      // Both outcomes occurred, so the flags were checked both ways.
      expect([...misfitsSeen].sort()).toEqual([0, 1]);
    }
  });
});

describe('kernel selection', () => {
  it('binds the requested path', () => {
    expect(new KernelHeap({ kernels: 'plain' }).kernels.simd).toBe(false);
    expect(new KernelHeap({ kernels: 'simd', module: simdModule }).kernels.simd).toBe(true);
  });

  it('the assembled module exports every kernel the start-up check asks a build for, and both paths bind them', () => {
    const names = WebAssembly.Module.exports(simdModule).map((entry) => entry.name);
    for (const name of KERNEL_EXPORTS) {
      expect(names).toContain(name);
      for (const kernels of [new KernelHeap({ kernels: 'simd', module: simdModule }).kernels, new KernelHeap({ kernels: 'plain' }).kernels]) {
        expect(typeof kernels[name]).toBe('function');
      }
    }
  });

  it('refuses SIMD without a module instead of silently falling back', () => {
    expect(() => new KernelHeap({ kernels: 'simd', module: null })).toThrow(/SIMD kernels unavailable/);
    expect(new KernelHeap({ kernels: 'auto', module: null }).kernels.simd).toBe(false);
  });

  it.runIf(process.env.CI === 'true')('loads the built SIMD kernels at start in CI', () => {
    expect(kernelInfo()).toEqual({ simd: true });
  });

  it('plain kernels: a KernelHeap grows and its kernels see the new memory', () => {
    const heap = new KernelHeap({ kernels: 'plain' });
    const kernels: Kernels = heap.kernels;
    heap.growTo(4 << 20);
    const at = (3 << 20) >> 2;
    heap.f32.fill(1, at, at + 32);
    kernels.dotRows(at * 4, at * 4, 8, 16, at * 4 + 256);
    expect(Array.from(heap.f32.subarray(at + 64, at + 72))).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
  });
});
