// The index types and what each one needs of its list codec: the names, the options (PQ's shape)
// with their defaults and checks, and how a type's codec is trained and loaded. IVF_FLAT keeps
// float32 rows (its int8 pre-scan is refitted on them at every model swap, never persisted);
// IVF_SQ8 and IVF_PQ keep only codes, trained with the centroids and persisted in the model.
import { EngineInputError } from './errors.js';
import type { FitRows, ListCodec } from './list-codec.js';
import { assertPqShape, ProductQuantizer, type PqShape } from './product-quantizer.js';
import { ScalarQuantizer } from './scalar-quantizer.js';

export const INDEX_TYPES = ['ivf_flat', 'ivf_sq8', 'ivf_pq'] as const;
export type IndexTypeName = (typeof INDEX_TYPES)[number];

export const DEFAULT_PQ_BITS = 8;

/** A type as callers name it: PQ's shape may be left to the defaults. */
export interface IndexTypeOptions {
  type: IndexTypeName;
  pqSubvectors?: number;
  pqBits?: number;
}

/** A type with every option decided. */
export type IndexTypeSpec = { type: 'ivf_flat' } | { type: 'ivf_sq8' } | { type: 'ivf_pq'; pq: PqShape };

/** Pieces of at most 8 dimensions: the fewest subvectors dividing the dimension that get there. */
export function defaultPqSubvectors(dimension: number): number {
  for (let m = Math.ceil(dimension / 8); m <= dimension; m++) if (dimension % m === 0) return m;
  return dimension;
}

/** Checks a type and its options for vectors of `dimension`; throws EngineInputError naming what is wrong. */
export function resolveIndexType(options: IndexTypeOptions, dimension: number): IndexTypeSpec {
  const type = options?.type;
  if (!INDEX_TYPES.includes(type)) throw new EngineInputError(`type must be one of ${INDEX_TYPES.join(', ')}, got ${String(type)}`);
  if (type !== 'ivf_pq') {
    if (options.pqSubvectors !== undefined || options.pqBits !== undefined) {
      throw new EngineInputError(`pqSubvectors and pqBits apply to ivf_pq only, not to ${type}`);
    }
    return { type };
  }
  const pq = { subvectors: options.pqSubvectors ?? defaultPqSubvectors(dimension), bits: options.pqBits ?? DEFAULT_PQ_BITS };
  assertPqShape(pq, dimension);
  return { type, pq };
}

/**
 * Trains the codec a type persists with its model, on `fit`'s rows; null for IVF_FLAT. PQ codes
 * residuals from the model's `centroids` (nLists x dimension).
 */
export function trainListCodec(spec: IndexTypeSpec, fit: FitRows, centroids: Float32Array, seed?: number): Uint8Array | null {
  if (spec.type === 'ivf_sq8') return ScalarQuantizer.fit(fit.source, fit.rows, fit.dimension).toBytes();
  if (spec.type === 'ivf_pq') return ProductQuantizer.train(fit, spec.pq, seed, centroids).toBytes();
  return null;
}

/**
 * The codec a model (its centroids and codec parameters) describes; throws EngineInputError when
 * the parameters are missing or do not fit.
 */
export function loadListCodec(spec: IndexTypeSpec, model: { centroids: Float32Array; codec?: Uint8Array }, dimension: number): ListCodec {
  const bytes = model.codec;
  if (spec.type === 'ivf_flat') throw new EngineInputError('ivf_flat has no persisted list codec');
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new EngineInputError(`a ${spec.type} model needs its codec parameters`);
  if (spec.type === 'ivf_sq8') return ScalarQuantizer.fromBytes(bytes, dimension);
  const codec = ProductQuantizer.fromBytes(bytes, dimension, model.centroids);
  if (codec.subvectors !== spec.pq.subvectors || codec.bits !== spec.pq.bits) {
    throw new EngineInputError(`the model's product quantizer (${codec.subvectors} x ${codec.bits} bits) is not the index's (${spec.pq.subvectors} x ${spec.pq.bits} bits)`);
  }
  return codec;
}
