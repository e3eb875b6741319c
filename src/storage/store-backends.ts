// The store backends by kind (CIPHERDEX_DB_TYPE): how each opens from the settings and which of its
// driver's errors are store faults. Adding a backend: its name in store-kinds.ts, its Store, its
// backend file (open, describe, faultOf) and its line here.

import type { Config } from '../config.js';
import { postgresBackend } from './postgres-backend.js';
import { sqliteBackend } from './sqlite-backend.js';
import type { Store } from './store.js';
import { systemFaultOf, type StoreFaultKind } from './store-fault.js';
import type { StoreKind } from './store-kinds.js';

export type StoreSettings = Pick<Config, 'dataDir' | 'connectionString'> & Partial<Pick<Config, 'postgresTimeouts'>>;

export interface StoreBackend {
  /** Opens (and migrates) the store the settings name; throws what went wrong as is. */
  open(settings: StoreSettings): Promise<Store>;
  /** Where the store is, for messages: names the setting, never a value that may hold a password. */
  describe(settings: StoreSettings): string;
  /** The fault a failed open means when the error alone does not say (e.g. an unwritable directory). */
  openFault?(settings: StoreSettings, error: unknown): Promise<StoreFaultKind | null>;
  /** The fault this backend's driver reports with `error`, or null (Node's own codes are systemFaultOf's). */
  faultOf(error: Error): StoreFaultKind | null;
}

export const STORE_BACKENDS: Readonly<Record<StoreKind, StoreBackend>> = {
  sqlite: sqliteBackend,
  postgres: postgresBackend,
};

/** The kind of store fault `error` is (from any backend's driver or from Node), or null when it is something else (a bug, a bad request). */
export function storeFaultOf(error: unknown): StoreFaultKind | null {
  if (!(error instanceof Error)) return null;
  for (const backend of Object.values(STORE_BACKENDS)) {
    const fault = backend.faultOf(error);
    if (fault !== null) return fault;
  }
  // Connecting to several addresses fails as an AggregateError of socket errors.
  if (error instanceof AggregateError && error.errors.length > 0 && error.errors.every((inner) => storeFaultOf(inner) === 'unreachable')) return 'unreachable';
  return systemFaultOf(error);
}
