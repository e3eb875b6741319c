// ProductQuantizer: each piece coded as its nearest codebook entry (of the vector itself, format 1,
// or of its residual from its list's centroid), the table scan plus the list's offset equal to the
// query's dot product with the decoded vector, parameters that round-trip, and shape checks.
import { describe, expect, it } from 'vitest';
import { trainKMeans } from '../../src/engine/chunked-kmeans.js';
import { EngineInputError } from '../../src/engine/errors.js';
import { KernelHeap } from '../../src/engine/kernel-heap.js';
import { assertPqShape, ProductQuantizer } from '../../src/engine/product-quantizer.js';
import { randomVectors } from './helpers.js';

const D = 24;
const N = 600;
const data = randomVectors(N, D, 401);
const rows = Array.from({ length: N }, (_, i) => i * D);

/** Format 1 ignores the lists. */
const noLists = new Uint32Array(N);

/** Row `at` of `codes` decoded: each piece's codebook entry, plus `centroid` when given (residual codes). */
function decode(codec: ProductQuantizer, codes: Int8Array, at: number, centroid?: Float32Array): Float32Array {
  const piece = codec.pieceDimension;
  const out = new Float32Array(codec.dimension);
  for (let m = 0; m < codec.subvectors; m++) {
    const entry = (m * codec.entries + (codes[at + m] & 0xff)) * piece;
    out.set(codec.codebooks.subarray(entry, entry + piece), m * piece);
  }
  if (centroid) for (let t = 0; t < out.length; t++) out[t] += centroid[t];
  return out;
}

/** `source`'s rows coded (bound for `lists`) and scanned for a random query as a search lays them out in a heap. */
function codedAndScanned(codec: ProductQuantizer, source: Float32Array, lists: ArrayLike<number>, seed: number) {
  const heap = new KernelHeap({ bytes: 1 << 20 });
  const codes = new Int8Array(N * codec.codeBytes);
  codec.encodeBatch(source, rows, codes, 0, lists);
  const codesAt = 4096;
  heap.i8.set(codes, codesAt);
  const query = randomVectors(1, D, seed);
  heap.f32.set(query, 0);
  const tableAt = 65536;
  const scale = codec.prepareQuery(heap, 0, tableAt);
  const outAt = tableAt + codec.queryBytes;
  codec.scan(heap, tableAt, codesAt, N, outAt);
  return { codes, query, scale, scores: heap.f32.slice(outAt >> 2, (outAt >> 2) + N) };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  for (let t = 0; t < D; t++) sum += a[t] * b[t];
  return sum;
}

describe('ProductQuantizer', () => {
  const pq = ProductQuantizer.train({ source: data, rows, dimension: D }, { subvectors: 6, bits: 5 }, 3);
  const piece = 4;

  it('has 2^bits entries per piece and one byte per piece', () => {
    expect(pq.entries).toBe(32);
    expect(pq.codeBytes).toBe(6);
    expect(pq.codebooks.length).toBe(6 * 32 * piece);
  });

  it('codes each piece as its nearest entry, in batches as one by one', () => {
    const codes = new Int8Array(N * 6);
    pq.encodeBatch(data, rows, codes, 0, noLists);
    const one = new Int8Array(6);
    for (let r = 0; r < N; r += 37) {
      pq.encode(data, r * D, one, 0, 0);
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
    const { codes, query, scale, scores } = codedAndScanned(pq, data, noLists, 402);
    expect(scale).toBe(1);
    expect(pq.queryConstant()).toBe(0);
    for (let r = 0; r < N; r++) expect(scores[r]).toBeCloseTo(dot(query, decode(pq, codes, r * 6)), 4);
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

describe('ProductQuantizer on residuals', () => {
  // Clustered rows, as embeddings are: 12 centres and a spread around each far smaller than theirs.
  const centres = randomVectors(12, D, 403);
  const noise = randomVectors(N, D, 404);
  const clustered = new Float32Array(N * D);
  for (let i = 0; i < N * D; i++) clustered[i] = centres[(Math.floor(i / D) % 12) * D + (i % D)] * 4 + noise[i];
  const { centroids, lists } = trainKMeans(clustered, D, 'squared_euclidean', { nLists: 12, batchSize: N, maxIters: 30, tolerance: 0, seed: 2 });
  const shape = { subvectors: 6, bits: 4 };
  const residual = ProductQuantizer.train({ source: clustered, rows, dimension: D }, shape, 3, centroids);
  const direct = ProductQuantizer.train({ source: clustered, rows, dimension: D }, shape, 3);
  const piece = 4;
  const centroidOf = (list: number): Float32Array => centroids.subarray(list * D, (list + 1) * D);

  function meanError(codec: ProductQuantizer, withLists: boolean): number {
    const codes = new Int8Array(N * 6);
    codec.encodeBatch(clustered, rows, codes, 0, lists);
    let sum = 0;
    for (let r = 0; r < N; r++) {
      const decoded = decode(codec, codes, r * 6, withLists ? centroidOf(lists[r]) : undefined);
      for (let t = 0; t < D; t++) sum += (clustered[r * D + t] - decoded[t]) ** 2;
    }
    return sum / N;
  }

  it('codes each piece of x - c(list) as its nearest entry, in batches as one by one', () => {
    const codes = new Int8Array(N * 6);
    residual.encodeBatch(clustered, rows, codes, 0, lists);
    const one = new Int8Array(6);
    for (let r = 0; r < N; r += 29) {
      residual.encode(clustered, r * D, one, 0, lists[r]);
      expect(Array.from(one)).toEqual(Array.from(codes.subarray(r * 6, r * 6 + 6)));
      for (let m = 0; m < 6; m++) {
        const distances = Array.from({ length: residual.entries }, (_, e) => {
          let sum = 0;
          for (let t = 0; t < piece; t++) {
            const at = m * piece + t;
            sum += (clustered[r * D + at] - centroids[lists[r] * D + at] - residual.codebooks[(m * residual.entries + e) * piece + t]) ** 2;
          }
          return sum;
        });
        expect(distances[codes[r * 6 + m] & 0xff]).toBeLessThanOrEqual(Math.min(...distances) + 1e-5);
      }
    }
  });

  it('reconstructs clustered rows far better than coding the rows themselves', () => {
    const residualError = meanError(residual, true);
    const directError = meanError(direct, false);
    expect(residualError).toBeLessThan(directError / 2);
  });

  it("scans to q . decoded(x) once the list's offset q . c(list) is added", () => {
    const { codes, query, scale, scores } = codedAndScanned(residual, clustered, lists, 405);
    expect(scale).toBe(1);
    for (let r = 0; r < N; r += 7) {
      expect(scores[r] + residual.listOffset(query, 0, lists[r])).toBeCloseTo(dot(query, decode(residual, codes, r * 6, centroidOf(lists[r]))), 4);
    }
    expect(direct.listOffset(query, 0, 3)).toBe(0);
  });

  it('round-trips as format 2, which needs the centroids; format 1 loads without them', () => {
    const bytes = residual.toBytes();
    expect(bytes[0]).toBe(2);
    expect(() => ProductQuantizer.fromBytes(bytes, D)).toThrow(/centroids/);
    const copy = ProductQuantizer.fromBytes(bytes, D, centroids);
    expect(Array.from(copy.codebooks)).toEqual(Array.from(residual.codebooks));
    expect(Array.from(copy.centroids ?? [])).toEqual(Array.from(centroids));
    const old = direct.toBytes();
    expect(old[0]).toBe(1);
    expect(ProductQuantizer.fromBytes(old, D, centroids).centroids).toBeNull();
  });
});
