// Builds the engine index for an index type: the one place that maps a type and its options to an
// implementation, so adding a type touches index-types.ts and this file, not the service.
import { resolveIndexType, type IndexTypeOptions } from './index-types.js';
import { IvfIndex } from './ivf-index.js';
import type { Metric } from './metric.js';
import type { VectorIndex } from './vector-index.js';

export interface VectorIndexOptions extends IndexTypeOptions {
  dimension: number;
  metric: Metric;
  /**
   * Internal: list bytes one WebAssembly memory holds before lists go to another (tests force
   * many small memories with it); default DEFAULT_LIST_MEMORY_BYTES (list-memories.ts).
   */
  listMemoryBytes?: number;
  /** Internal: row bytes one chunk of a training snapshot holds (tests force several); default ROW_CHUNK_BYTES (shared-rows.ts). */
  snapshotChunkBytes?: number;
}

/** Throws EngineInputError when the type or its options do not fit the dimension. */
export function createVectorIndex(options: VectorIndexOptions): VectorIndex {
  const { dimension, metric, listMemoryBytes, snapshotChunkBytes } = options;
  return new IvfIndex({
    dimension, metric, spec: resolveIndexType(options, dimension),
    ...(listMemoryBytes === undefined ? {} : { listMemoryBytes }),
    ...(snapshotChunkBytes === undefined ? {} : { snapshotChunkBytes }),
  });
}
