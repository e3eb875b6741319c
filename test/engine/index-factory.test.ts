// The factory builds each index type behind VectorIndex, with PQ's shape checked, and refuses an
// unknown type or a shape that does not fit.
import { describe, expect, it } from 'vitest';
import { EngineInputError } from '../../src/engine/errors.js';
import { createVectorIndex } from '../../src/engine/index-factory.js';
import { INDEX_TYPES, defaultPqSubvectors, resolveIndexType } from '../../src/engine/index-types.js';
import { IvfIndex } from '../../src/engine/ivf-index.js';

describe('createVectorIndex', () => {
  it('builds an IVF_FLAT index with the given shape', () => {
    const index = createVectorIndex({ type: 'ivf_flat', dimension: 3, metric: 'cosine' });
    expect(index).toBeInstanceOf(IvfIndex);
    expect(index).toMatchObject({ dimension: 3, metric: 'cosine', type: 'ivf_flat', size: 0, isTrained: false, approximate: false });
    index.add(7, [1, 0, 0]);
    expect(Array.from(index.search([1, 0, 0], { topK: 1 }).ids)).toEqual([7]);
  });

  it('builds every listed type', () => {
    for (const type of INDEX_TYPES) expect(createVectorIndex({ type, dimension: 16, metric: 'euclidean' }).type).toBe(type);
  });

  it('refuses an unknown type with an engine input error', () => {
    expect(() => createVectorIndex({ type: 'hnsw' as never, dimension: 4, metric: 'euclidean' })).toThrow(EngineInputError);
    expect(() => createVectorIndex({ type: 'toString' as never, dimension: 4, metric: 'euclidean' })).toThrow(/type must be one of/);
  });

  it('defaults PQ to pieces of at most 8 dimensions and 8 bits, and checks the shape', () => {
    expect(defaultPqSubvectors(768)).toBe(96);
    expect(defaultPqSubvectors(100)).toBe(20);
    expect(defaultPqSubvectors(7)).toBe(1);
    expect(resolveIndexType({ type: 'ivf_pq' }, 128)).toEqual({ type: 'ivf_pq', pq: { subvectors: 16, bits: 8 } });
    expect(resolveIndexType({ type: 'ivf_pq', pqSubvectors: 32, pqBits: 4 }, 128)).toEqual({ type: 'ivf_pq', pq: { subvectors: 32, bits: 4 } });
    expect(() => resolveIndexType({ type: 'ivf_pq', pqSubvectors: 3 }, 128)).toThrow(/pqSubvectors must divide the dimension 128/);
    expect(() => resolveIndexType({ type: 'ivf_pq', pqSubvectors: 0 }, 128)).toThrow(EngineInputError);
    expect(() => resolveIndexType({ type: 'ivf_pq', pqBits: 9 }, 128)).toThrow(/pqBits must be an integer from 1 to 8/);
    expect(() => resolveIndexType({ type: 'ivf_sq8', pqBits: 8 }, 128)).toThrow(/apply to ivf_pq only/);
  });
});
