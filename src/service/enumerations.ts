// The domain's closed sets of names, each spelled once: the TypeScript types (types.ts), the input
// validation and the GraphQL enums all derive from these arrays. Metrics are the engine's (it is
// what implements them); index types are those of the engine's that the service offers.

import { METRICS, type IndexTypeName, type Metric } from '../engine/index.js';

export { METRICS, type Metric };

export const INDEX_TYPES = ['ivf_flat', 'ivf_sq8', 'ivf_pq'] as const satisfies readonly IndexTypeName[];
export type IndexType = (typeof INDEX_TYPES)[number];

/**
 * The type of an index created without one: IVF_SQ8 meets issue #12's recall target (re-ranked
 * recall equal to IVF_FLAT's at 1 M x 768) in a fifth of the memory, keeps the rows its codes
 * cannot hold exact until the next training (engine/exact-rows.ts), and reads its re-rank vectors
 * on a connection of its own that never waits for the writes (storage/sqlite-item-reader.ts).
 */
export const DEFAULT_INDEX_TYPE: IndexType = 'ivf_sq8';

/** The payload fields of an item a read can return (its id always comes back). */
export const ITEM_FIELDS = ['vector', 'contents', 'metadata'] as const;
export type ItemField = (typeof ITEM_FIELDS)[number];

export const TRAINING_PHASES = ['IDLE', 'QUEUED', 'INITIALIZING', 'ITERATING', 'ASSIGNING', 'PERSISTING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type TrainingPhase = (typeof TRAINING_PHASES)[number];

/** A run in one of these phases is over: no further event of that run follows. */
export const TERMINAL_PHASES = ['COMPLETED', 'FAILED', 'CANCELLED'] as const satisfies readonly TrainingPhase[];

export const TRAINING_TRIGGERS = ['MANUAL', 'AUTOMATIC'] as const;
export type TrainingTrigger = (typeof TRAINING_TRIGGERS)[number];

/** Languages of keyword search: a Snowball stemmer and a stop-word list exist for each. */
export const TEXT_LANGUAGES = [
  'arabic', 'armenian', 'basque', 'catalan', 'czech', 'danish', 'dutch', 'english', 'finnish', 'french', 'german',
  'hungarian', 'irish', 'italian', 'norwegian', 'portuguese', 'romanian', 'russian', 'slovene', 'spanish', 'swedish', 'turkish',
] as const;
export type TextLanguage = (typeof TEXT_LANGUAGES)[number];

/** How a hybrid search merges its vector and keyword rankings (Weaviate's two methods). */
export const FUSIONS = ['rrf', 'relative_score'] as const;
export type Fusion = (typeof FUSIONS)[number];

/** What an index grant may do (access/permissions.ts maps each to the operations it opens). */
export const PERMISSIONS = ['READ', 'WRITE', 'TRAIN', 'OBSERVE', 'ADMIN'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** True when `value` is one of `names` (narrowing an unknown input to the set's type). */
export function isOneOf<T extends string>(names: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (names as readonly string[]).includes(value);
}
