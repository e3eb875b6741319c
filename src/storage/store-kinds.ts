// The store backends by name (CIPHERDEX_DB_TYPE): the settings, the Store contract and the health
// report all take their names from this one list; store-backends.ts has a backend for each.

export const STORE_KINDS = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];
