// Chooses and opens the configured store; migrations run as part of opening.

import { join } from 'node:path';
import type { Config } from '../config.js';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

export const SQLITE_FILE_NAME = 'cipherdex.db';

export async function openStore(config: Pick<Config, 'dbType' | 'dataDir' | 'connectionString'>): Promise<Store> {
  if (config.dbType === 'postgres') {
    if (!config.connectionString) throw new Error('CIPHERDEX_DB_TYPE=postgres needs CIPHERDEX_CONNECTION_STRING');
    return PostgresStore.open(config.connectionString);
  }
  return SqliteStore.open(join(config.dataDir, SQLITE_FILE_NAME));
}
