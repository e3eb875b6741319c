// The SQLite backend: one file in CIPHERDEX_DATA_DIR, written from a thread of its own
// (SqliteWorkerStore), and the SqliteError codes that mean a fault.

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { SqliteWorkerStore } from './sqlite-worker-store.js';
import type { StoreBackend } from './store-backends.js';
import { errorCode, type StoreFaultKind } from './store-fault.js';

export const SQLITE_FILE_NAME = 'cipherdex.db';

/** better-sqlite3's SqliteError codes (extended codes start with the primary one, e.g. SQLITE_IOERR_WRITE). */
const SQLITE_FAULTS: ReadonlyArray<[prefix: string, kind: StoreFaultKind]> = [
  ['SQLITE_FULL', 'disk-full'],
  ['SQLITE_READONLY', 'read-only'],
  ['SQLITE_BUSY', 'busy'],
  ['SQLITE_LOCKED', 'busy'],
  ['SQLITE_IOERR', 'io-error'],
  ['SQLITE_CANTOPEN', 'io-error'],
];

export const sqliteBackend: StoreBackend = {
  open: ({ dataDir }) => SqliteWorkerStore.open(join(dataDir, SQLITE_FILE_NAME)),
  describe: ({ dataDir }) => `SQLite store in CIPHERDEX_DATA_DIR "${dataDir}"`,
  // SQLite says only "unable to open database file" when it cannot write the directory.
  openFault: ({ dataDir }) => directoryFault(dataDir),
  faultOf(error) {
    const code = errorCode(error);
    if (code === null) return null;
    return SQLITE_FAULTS.find(([prefix]) => code.startsWith(prefix))?.[1] ?? null;
  },
};

/** 'read-only' when the data directory exists but cannot be written, else null. */
async function directoryFault(dir: string): Promise<StoreFaultKind | null> {
  try {
    await access(dir, constants.W_OK);
    return null;
  } catch (error) {
    const code = error instanceof Error ? errorCode(error) : null;
    return code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? 'read-only' : null;
  }
}
