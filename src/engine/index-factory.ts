// Builds the engine index for an index type: the one place that maps a type to its implementation,
// so adding a type touches this table and not the service.
import { EngineInputError } from './errors.js';
import { IvfFlatIndex } from './ivf-flat-index.js';
import type { Metric } from './metric.js';
import type { VectorIndex } from './vector-index.js';

/** The index types the engine builds (the service's IndexType values, upper-cased in GraphQL). */
export const ENGINE_INDEX_TYPES = ['ivf_flat'] as const;
export type EngineIndexType = (typeof ENGINE_INDEX_TYPES)[number];

export interface VectorIndexOptions {
  type: EngineIndexType;
  dimension: number;
  metric: Metric;
}

const builders: Record<EngineIndexType, (options: VectorIndexOptions) => VectorIndex> = {
  ivf_flat: ({ dimension, metric }) => new IvfFlatIndex({ dimension, metric }),
};

export function createVectorIndex(options: VectorIndexOptions): VectorIndex {
  const build = Object.hasOwn(builders, options?.type) ? builders[options.type] : undefined;
  if (build === undefined) throw new EngineInputError(`type must be one of ${ENGINE_INDEX_TYPES.join(', ')}, got ${String(options?.type)}`);
  return build(options);
}
