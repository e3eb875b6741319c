// Opens the configured store through its backend (store-backends.ts); migrations run as part of
// opening. A store that cannot be opened stops the start with a message that names the setting to
// fix and the reason (a read-only or full data directory, an unreachable database), not a bare
// driver error.

import type { Config } from '../config.js';
import type { Store } from './store.js';
import { STORE_BACKENDS, storeFaultOf } from './store-backends.js';
import { errorCode, type StoreFaultKind } from './store-fault.js';

export { SQLITE_FILE_NAME } from './sqlite-backend.js';

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

export async function openStore(config: Pick<Config, 'dbType' | 'dataDir' | 'connectionString'> & Partial<Pick<Config, 'postgresTimeouts'>>): Promise<Store> {
  const backend = STORE_BACKENDS[config.dbType];
  try {
    return await backend.open(config);
  } catch (error) {
    const fault = (await backend.openFault?.(config, error)) ?? storeFaultOf(error);
    const reason = fault === null ? describe(error) : `${REASONS[fault]} (${describe(error)})`;
    throw new StoreOpenError(`Cannot open the ${backend.describe(config)}: ${reason}`, fault, { cause: error });
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = errorCode(error);
  return code !== null && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
}
