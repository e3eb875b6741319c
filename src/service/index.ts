// The service layer's one entry point: the upper layers (graphql, server, cli) import from here only.
export type * from './types.js';
export { DEFAULT_INDEX_TYPE, FUSIONS, INDEX_TYPES, ITEM_FIELDS, METRICS, PERMISSIONS, TERMINAL_PHASES, TEXT_LANGUAGES, TRAINING_PHASES, TRAINING_TRIGGERS } from './enumerations.js';
export * from './errors.js';
export { createIndexService, defaultSealWorkers, type IndexServiceDeps } from './create-index-service.js';
export { CipherdexIndexService } from './index-service.js';
export { STORE_KINDS, type StoreKind } from '../storage/index.js';
export { DEFAULT_RERANK_MULT } from './input/input-validation.js';
export { generateIndexKey, GrantTokenFormatError, IndexKeyFormatError, looksLikeGrantToken, parseGrantToken, parseIndexKey } from '../crypto/index.js';
export { NO_SERVICE_METRICS, type SearchStageSeconds, type ServiceMetrics } from './service-metrics.js';
export { FILTER_OPERATORS, describeFilterOperators } from './input/metadata-filter.js';
export { DEFAULT_CLUSTER, redisNames, type RedisNames } from './replication/cluster-namespace.js';
export { NO_INDEX_NAMES, namePrefixScope, scopedIndexService, type IndexNameScope } from './access/scoped-index-service.js';
