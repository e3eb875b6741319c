// Random writes beyond (and within) a trained index's ranges, and removals, for the property tests
// of the rows an index scores apart from its codes (exact-rows.test.ts, edge-codes.test.ts).
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
