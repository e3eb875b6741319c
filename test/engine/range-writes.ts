// Writes beyond (and within) a trained index's ranges, and removals, for the tests of the rows an
// index scores apart from its codes (exact-rows.test.ts, edge-codes.test.ts): random ones for the
// property tests, the outliers themselves, and the removal-and-replacement scenario both run.
import fc from 'fast-check';
import { expect } from 'vitest';
import { row } from './helpers.js';

/** Write row `at` of the data times `scale`, plus `spike` in dimension id % dimension; or remove `id`. */
export type RangeOp = { kind: 'write'; id: number; scale: number; spike: number; at: number } | { kind: 'remove'; id: number };

/** Ops over the ids 0 to `rows` + 40 (the data's rows and some new ones). */
export function rangeOps(rows: number): fc.Arbitrary<RangeOp> {
  return fc.oneof(
    fc.record({
      kind: fc.constant('write' as const),
      id: fc.integer({ min: 0, max: rows + 40 }),
      scale: fc.double({ min: 0.5, max: 200, noNaN: true }),
      spike: fc.double({ min: -500, max: 500, noNaN: true }),
      at: fc.nat(rows - 1),
    }),
    fc.record({ kind: fc.constant('remove' as const), id: fc.integer({ min: 0, max: rows + 40 }) }),
  );
}

/**
 * Applies `ops` to `index` and to `vectors` (what the index should hold, by id), checking each
 * removal's answer and the size at the end. Returns the ids written, without repeats.
 */
export function applyRangeOps(
  index: { add(id: number, vector: Float32Array): void; remove(id: number): boolean; readonly size: number },
  vectors: Map<number, Float32Array>,
  ops: RangeOp[],
  data: Float32Array,
  dimension: number,
): number[] {
  for (const o of ops) {
    if (o.kind === 'remove') {
      expect(index.remove(o.id)).toBe(vectors.delete(o.id));
      continue;
    }
    const v = row(data, dimension, o.at).map((x) => x * o.scale);
    v[o.id % dimension] += o.spike;
    vectors.set(o.id, v);
    index.add(o.id, v);
  }
  expect(index.size).toBe(vectors.size);
  return [...new Set(ops.flatMap((o) => (o.kind === 'write' ? [o.id] : [])))];
}

/**
 * Vectors far outside what an index trained on `data` holds: `scale` times a data row, plus a
 * spike in one dimension large enough that even its unit-length (cosine) form leaves the ranges.
 */
export function outliersOf(data: Float32Array, dimension: number): (seed: number, scale?: number) => Float32Array {
  const rows = data.length / dimension;
  return (seed, scale = 40) => {
    const v = row(data, dimension, seed % rows).map((x) => x * scale);
    v[seed % dimension] += scale * 20;
    return v;
  };
}

/**
 * The removals and replacements both suites check: twelve outliers written (ids 9000-9011, the
 * `i`th `outlier(7i + 1)`), `afterWrites` called, three of them removed (9003, 9000, 9011; each
 * removal answered true, then `afterRemove`), 9005 written again as `inRange`, and item 4
 * replaced by `outlier(99)`. `vectors` follows. Returns the twelve ids and the items removed.
 */
export function churnOutliers(
  index: { add(id: number, vector: Float32Array): void; remove(id: number): boolean },
  vectors: Map<number, Float32Array>,
  outlier: (seed: number) => Float32Array,
  inRange: Float32Array,
  checks: { afterWrites(): void; afterRemove?(id: number): void },
): { added: number[]; removed: Array<{ id: number; vector: Float32Array }> } {
  const added = Array.from({ length: 12 }, (_, i) => 9000 + i);
  for (const [i, id] of added.entries()) {
    vectors.set(id, outlier(i * 7 + 1));
    index.add(id, vectors.get(id)!);
  }
  checks.afterWrites();
  const removed = [9003, 9000, 9011].map((id) => ({ id, vector: vectors.get(id)! }));
  for (const { id } of removed) {
    expect(index.remove(id)).toBe(true);
    vectors.delete(id);
    checks.afterRemove?.(id);
  }
  vectors.set(9005, inRange);
  index.add(9005, inRange);
  vectors.set(4, outlier(99));
  index.add(4, vectors.get(4)!);
  return { added, removed };
}
