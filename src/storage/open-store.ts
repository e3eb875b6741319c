// Chooses and opens the configured store; migrations run as part of opening. A store that cannot
// be opened stops the start with a message that names the setting to fix and the reason (a
// read-only or full data directory, an unreachable database), not a bare driver error.

import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { PostgresStore } from './postgres-store.js';
import { SqliteWorkerStore } from './sqlite-worker-store.js';
import type { Store } from './store.js';
import { storeFaultOf, type StoreFaultKind } from './store-fault.js';

export const SQLITE_FILE_NAME = 'cipherdex.db';

/** The configured store could not be opened; the message says which setting and why. */
export class StoreOpenError extends Error {
  constructor(
    message: string,
    readonly fault: StoreFaultKind | null,
    options: { cause: unknown },
  ) {
    super(message, options);
    this.name = 'StoreOpenError';
  }
}

const REASONS: Readonly<Record<StoreFaultKind, string>> = {
  'disk-full': 'the disk is full',
  'read-only': 'the directory is read-only',
  unreachable: 'the database cannot be reached',
  busy: 'another process holds a lock on it',
  'io-error': 'an I/O error occurred',
};

export async function openStore(config: Pick<Config, 'dbType' | 'dataDir' | 'connectionString'>): Promise<Store> {
  if (config.dbType === 'postgres') {
    if (!config.connectionString) throw new Error('CIPHERDEX_DB_TYPE=postgres needs CIPHERDEX_CONNECTION_STRING');
    try {
      return await PostgresStore.open(config.connectionString);
    } catch (error) {
      // The connection string may hold a password: the message names the setting, never its value.
      const fault = storeFaultOf(error);
      const reason = fault === null ? describe(error) : `${REASONS[fault]} (${describe(error)})`;
      throw new StoreOpenError(`Cannot open the PostgreSQL store of CIPHERDEX_CONNECTION_STRING: ${reason}`, fault, { cause: error });
    }
  }
  try {
    return await SqliteWorkerStore.open(join(config.dataDir, SQLITE_FILE_NAME));
  } catch (error) {
    // SQLite says only "unable to open database file" when it cannot write the directory.
    const fault = (await directoryFault(config.dataDir)) ?? storeFaultOf(error);
    const reason = fault === null ? describe(error) : `${REASONS[fault]} (${describe(error)})`;
    throw new StoreOpenError(`Cannot open the SQLite store in CIPHERDEX_DATA_DIR "${config.dataDir}": ${reason}`, fault, { cause: error });
  }
}

/** 'read-only' when the data directory exists but cannot be written, else null. */
async function directoryFault(dir: string): Promise<StoreFaultKind | null> {
  try {
    await access(dir, constants.W_OK);
    return null;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? 'read-only' : null;
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
