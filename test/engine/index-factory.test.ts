// The factory builds each index type behind VectorIndex and refuses an unknown type.
import { describe, expect, it } from 'vitest';
import { EngineInputError } from '../../src/engine/errors.js';
import { ENGINE_INDEX_TYPES, createVectorIndex } from '../../src/engine/index-factory.js';
import { IvfFlatIndex } from '../../src/engine/ivf-flat-index.js';

describe('createVectorIndex', () => {
  it('builds an IVF_FLAT index with the given shape', () => {
    const index = createVectorIndex({ type: 'ivf_flat', dimension: 3, metric: 'cosine' });
    expect(index).toBeInstanceOf(IvfFlatIndex);
    expect(index).toMatchObject({ dimension: 3, metric: 'cosine', size: 0, isTrained: false });
    index.add(7, [1, 0, 0]);
    expect(Array.from(index.search([1, 0, 0], { topK: 1 }).ids)).toEqual([7]);
  });

  it('builds every listed type', () => {
    for (const type of ENGINE_INDEX_TYPES) expect(createVectorIndex({ type, dimension: 4, metric: 'euclidean' }).dimension).toBe(4);
  });

  it('refuses an unknown type with an engine input error', () => {
    expect(() => createVectorIndex({ type: 'hnsw' as never, dimension: 4, metric: 'euclidean' })).toThrow(EngineInputError);
    expect(() => createVectorIndex({ type: 'toString' as never, dimension: 4, metric: 'euclidean' })).toThrow(/type must be one of/);
  });
});
