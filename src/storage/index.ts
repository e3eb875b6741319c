// The storage layer's public surface: the Store contract, its two implementations, their backends and openStore.

export {
  DEFAULT_SCAN_PAGE_SIZE,
  StoreCommitmentConflictError,
  StoreConflictError,
  StoreIndexNotFoundError,
  type CommitmentBase,
  type CommitmentRule,
  type CommitmentUpdate,
  type Store,
  type StoredGrant,
  type StoredIndex,
  type StoredItem,
  type StoredItemTags,
  type StoredTrainingRun,
} from './store.js';
export { SqliteStore, type SqliteStoreOptions } from './sqlite-store.js';
export { SqliteWorkerStore } from './sqlite-worker-store.js';
// A type here: its backend loads it (and pg) only when a PostgreSQL store is opened.
export type { PostgresStore, PostgresStoreOptions } from './postgres-store.js';
export { LeaseContendedError, type IndexChange, type IndexHead, type LeaseClaim, type ReplicationStore, type TrainingLease } from './replication-store.js';
export { ModelFencedError, type ModelFence } from './model-fence.js';
export type { IdempotencyClaim, IdempotentOutcome } from './idempotency-store.js';
export { SQLITE_FILE_NAME, StoreOpenError, openStore } from './open-store.js';
export type { StoreFaultKind } from './store-fault.js';
export { STORE_BACKENDS, storeFaultOf, type StoreBackend, type StoreSettings } from './store-backends.js';
export { STORE_KINDS, type StoreKind } from './store-kinds.js';
