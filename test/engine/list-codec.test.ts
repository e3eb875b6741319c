// Both list codecs through the ListCodec interface, on lists in a real heap: encode each row, scan
// one prepared query and a block of them, and check scale x scan = q.x (exactly for the float32
// rows, within the quantization error up to a per-query constant for int8 codes).
import { describe, expect, it } from 'vitest';
import { BlockArena } from '../../src/engine/block-arena.js';
import { FlatCodec } from '../../src/engine/flat-codec.js';
import { InvertedLists } from '../../src/engine/inverted-lists.js';
import { KernelHeap } from '../../src/engine/kernel-heap.js';
import type { ListCodec } from '../../src/engine/list-codec.js';
import { rowStride } from '../../src/engine/metric.js';
import { ScalarQuantizer } from '../../src/engine/scalar-quantizer.js';
import { randomVectors } from './helpers.js';

const D = 24;
const STRIDE = rowStride(D);
const N = 40;
const data = randomVectors(N, D, 81);
const queries = randomVectors(4, D, 82);

interface Case {
  name: string;
  codec: ListCodec;
  /** Largest |scale x scan - q.x - constant| allowed for query q. */
  tolerance: (q: number) => number;
  /** The constant the codec drops for query q (q . offsets for the int8 codes). */
  constant: (q: number) => number;
}

function padded(vectors: Float32Array, count: number): { f32: Float32Array; rows: number[] } {
  const f32 = new Float32Array(count * STRIDE);
  for (let r = 0; r < count; r++) f32.set(vectors.subarray(r * D, (r + 1) * D), r * STRIDE);
  return { f32, rows: Array.from({ length: count }, (_, r) => r * STRIDE) };
}

const fitted = padded(data, N);
const quantizer = ScalarQuantizer.fit(fitted.f32, fitted.rows, D);
const cases: Case[] = [
  { name: 'float32 rows', codec: new FlatCodec(STRIDE), tolerance: () => 1e-5, constant: () => 0 },
  {
    name: 'int8 scalar quantizer',
    codec: quantizer,
    tolerance: (q) => {
      let bound = 0;
      for (let d = 0; d < D; d++) bound += Math.abs(queries[q * D + d]) * quantizer.steps[d];
      return bound;
    },
    constant: (q) => {
      let sum = 0;
      for (let d = 0; d < D; d++) sum += queries[q * D + d] * quantizer.offsets[d];
      return sum;
    },
  },
];

function dot(a: Float32Array, ai: number, b: Float32Array, bi: number): number {
  let sum = 0;
  for (let d = 0; d < D; d++) sum += a[ai + d] * b[bi + d];
  return sum;
}

describe.each(cases)('ListCodec: $name', ({ codec, tolerance, constant }) => {
  const heap = new KernelHeap();
  const arena = new BlockArena(heap);
  const lists = new InvertedLists(arena, STRIDE, 1, [N], codec.codeBytes > 0 ? codec : null);
  const source = arena.alloc(STRIDE * 4);
  for (let r = 0; r < N; r++) {
    heap.f32.set(data.subarray(r * D, (r + 1) * D), source.offset >> 2);
    lists.append(0, r, source, 0, 0, 0);
  }
  const work = arena.alloc(4 * (STRIDE * 4 + codec.queryBytes + 4 * 64 * 4));

  it('stores codes beside the rows only when it has any, and scans one query', () => {
    expect(lists.codeBytes).toBe(codec.codeBytes);
    for (let q = 0; q < 4; q++) {
      const queryAt = work.offset;
      const preparedAt = queryAt + STRIDE * 4;
      const outAt = preparedAt + codec.queryBytes;
      heap.f32.fill(0, queryAt >> 2, (queryAt >> 2) + STRIDE);
      heap.f32.set(queries.subarray(q * D, (q + 1) * D), queryAt >> 2);
      const scale = codec.prepareQuery(heap, queryAt >> 2, preparedAt);
      codec.scan(heap, preparedAt, codec.entriesAt(lists, 0), N, outAt);
      for (let r = 0; r < N; r++) {
        const id = lists.ids(0)[r];
        const exact = dot(queries, q * D, data, id * D);
        expect(Math.abs(constant(q) + scale * heap.f32[(outAt >> 2) + r] - exact)).toBeLessThanOrEqual(tolerance(q));
      }
    }
  });

  it('scans a block of queries to the same values as one at a time', () => {
    const m = 4;
    const queryAt = work.offset;
    const preparedAt = queryAt + STRIDE * 4;
    const blockAt = preparedAt + codec.queryBytes;
    const singleAt = blockAt + m * N * 4;
    const ldo = N;
    const preparedBlock = arena.alloc(m * codec.queryBytes);
    const scales: number[] = [];
    for (let q = 0; q < m; q++) {
      heap.f32.fill(0, queryAt >> 2, (queryAt >> 2) + STRIDE);
      heap.f32.set(queries.subarray(q * D, (q + 1) * D), queryAt >> 2);
      scales.push(codec.prepareQuery(heap, queryAt >> 2, preparedBlock.offset + q * codec.queryBytes));
    }
    codec.scanBlock(heap, preparedBlock.offset, m, codec.entriesAt(lists, 0), N, blockAt, ldo);
    for (let q = 0; q < m; q++) {
      codec.scan(heap, preparedBlock.offset + q * codec.queryBytes, codec.entriesAt(lists, 0), N, singleAt);
      for (let r = 0; r < N; r++) expect(heap.f32[(blockAt >> 2) + q * ldo + r]).toBeCloseTo(heap.f32[(singleAt >> 2) + r], 4);
      expect(scales[q]).toBeGreaterThan(0);
    }
  });
});
