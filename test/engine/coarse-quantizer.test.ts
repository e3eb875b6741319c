// CoarseQuantizer against brute force: a row's nearest centroid, a query's probes in order, the
// blocked probes of many queries, and batch assignment, including a count that is not a tile.
import { describe, expect, it } from 'vitest';
import { BlockArena } from '../../src/engine/block-arena.js';
import { CoarseQuantizer } from '../../src/engine/coarse-quantizer.js';
import { KernelHeap } from '../../src/engine/kernel-heap.js';
import { NEAREST_BLOCK, tile } from '../../src/engine/kernels.js';
import { rowStride } from '../../src/engine/metric.js';
import { randomVectors } from './helpers.js';

const D = 10;
const STRIDE = rowStride(D);
const K = 13;
const centroids = randomVectors(K, D, 91);
const points = randomVectors(21, D, 92);

function byDistance(p: number): number[] {
  const d = (c: number): number => {
    let sum = 0;
    for (let t = 0; t < D; t++) sum += (points[p * D + t] - centroids[c * D + t]) ** 2;
    return sum;
  };
  return Array.from({ length: K }, (_, c) => c).sort((a, b) => d(a) - d(b) || a - b);
}

describe.each(['auto', 'plain'] as const)('CoarseQuantizer (%s kernels)', (kernels) => {
  const heap = new KernelHeap({ kernels });
  const arena = new BlockArena(heap);
  const coarse = new CoarseQuantizer(arena, centroids, K, D, STRIDE);
  const n = points.length / D;
  const rows = arena.alloc(tile(n) * STRIDE * 4);
  heap.f32.fill(0, rows.offset >> 2, (rows.offset >> 2) + tile(n) * STRIDE);
  for (let p = 0; p < n; p++) heap.f32.set(points.subarray(p * D, (p + 1) * D), (rows.offset >> 2) + p * STRIDE);
  const work = arena.alloc((tile(n) * coarse.paddedLists + NEAREST_BLOCK * coarse.paddedLists + 2 * tile(n)) * 4);

  it('pads the lists to a tile', () => {
    expect(coarse.nLists).toBe(K);
    expect(coarse.paddedLists).toBe(16);
  });

  it('finds the nearest list and the probes of a query in distance order', () => {
    for (let p = 0; p < n; p++) {
      const order = byDistance(p);
      expect(coarse.nearest(heap, rows.offset + p * STRIDE * 4, work.offset)).toBe(order[0]);
      expect(Array.from(coarse.probe(heap, rows.offset + p * STRIDE * 4, work.offset, 4))).toEqual(order.slice(0, 4));
    }
  });

  it('probes a block of queries as it probes each one', () => {
    const probes = coarse.probeBlock(heap, rows.offset, n, tile(n, 4), work.offset, 3);
    for (let p = 0; p < n; p++) expect(Array.from(probes.subarray(p * 3, p * 3 + 3))).toEqual(byDistance(p).slice(0, 3));
  });

  it('probes a block by the nearestProbes kernel as by a heap per query, on both kernel paths, ties to the lower list', () => {
    const want = coarse.probeBlock(heap, rows.offset, n, tile(n, 4), work.offset, 5);
    const spare = arena.alloc(Math.max(CoarseQuantizer.probeBlockBytes(n, K), 4096) + 1024);
    const probesAt = spare.offset;
    expect(Array.from(coarse.probeBlock(heap, rows.offset, n, tile(n, 4), work.offset, 5, probesAt))).toEqual(Array.from(want));
    for (const p of [1, K]) {
      expect(Array.from(coarse.probeBlock(heap, rows.offset, n, tile(n, 4), work.offset, p, probesAt)))
        .toEqual(Array.from(coarse.probeBlock(heap, rows.offset, n, tile(n, 4), work.offset, p)));
    }
    // Equal scores: lists of equal centroids (and a query's scores all equal) come lowest first.
    const kernels = [heap.kernels, new KernelHeap({ kernels: 'plain', memory: heap.memory }).kernels];
    const at = probesAt;
    heap.f32.set([1, 1, 0.5, 1, 1, 1], at >> 2); // norms
    heap.f32.set([0.5, 0.5, 0, 0.5, 0.5, 0.5, 0, 0, 0, 0, 0, 0], (at >> 2) + 8); // two queries' dots
    for (const k of kernels) {
      k.nearestProbes(at + 32, at, 2, 6, 6, 4, at + 256, at + 512);
      expect(Array.from(heap.u32.subarray((at + 256) >> 2, ((at + 256) >> 2) + 8))).toEqual([0, 1, 3, 4, 2, 0, 1, 3]);
    }
  });

  it('assigns a batch of rows to their nearest lists', () => {
    const labelsAt = work.offset;
    const bestAt = labelsAt + tile(n) * 4;
    const scratchAt = bestAt + tile(n) * 4;
    coarse.assign(heap, rows.offset, n, labelsAt, bestAt, scratchAt);
    for (let p = 0; p < n; p++) expect(heap.u32[(labelsAt >> 2) + p]).toBe(byDistance(p)[0]);
  });
});
