// Shared rows: in-place use of rows already in kernel memory, copies (padded, normalised) otherwise.
import { describe, expect, it } from 'vitest';
import { EngineInputError } from '../../src/engine/errors.js';
import { allocateSharedRows, placeRows, sharedRowsHome } from '../../src/engine/shared-rows.js';
import { randomVectors } from './helpers.js';

describe('shared rows', () => {
  it('reads rows in place when they already live in a shared kernel memory', () => {
    const rows = allocateSharedRows(10, 8, false);
    rows.set(randomVectors(10, 8, 61));
    expect(sharedRowsHome(rows, 8)).toBeDefined();
    const placed = placeRows(rows, 8, 'euclidean');
    expect(placed.heap.memory.buffer.byteLength).toBeGreaterThanOrEqual(rows.buffer.byteLength);
    expect(placed.ptr).toBe(rows.byteOffset);
    placed.heap.f32[0] = 42; // same memory: the write shows through the caller's view
    expect(rows[0]).toBe(42);
  });

  it('copies rows that are elsewhere, or that need normalising first', () => {
    const plain = randomVectors(10, 8, 62);
    const placed = placeRows(plain, 8, 'euclidean');
    placed.heap.f32[0] = 42;
    expect(plain[0]).not.toBe(42);
    const unnormalised = allocateSharedRows(10, 8, false);
    unnormalised.set(plain);
    expect(placeRows(unnormalised, 8, 'cosine').ptr).toBe(0);
    expect(placeRows(unnormalised, 8, 'cosine').heap.memory.buffer).not.toBe(unnormalised.buffer);
  });

  it('pads odd dimensions when it copies', () => {
    const placed = placeRows(new Float32Array([1, 2, 3, 4, 5, 6]), 3, 'squared_euclidean');
    expect(Array.from(placed.heap.f32.subarray(0, 8))).toEqual([1, 2, 3, 0, 4, 5, 6, 0]);
  });

  it('rejects a ragged or empty matrix', () => {
    expect(() => placeRows(new Float32Array(7), 2, 'euclidean')).toThrow(EngineInputError);
    expect(() => placeRows(new Float32Array(0), 2, 'euclidean')).toThrow(EngineInputError);
  });
});
