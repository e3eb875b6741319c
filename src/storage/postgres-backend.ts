// The PostgreSQL backend: the database of CIPHERDEX_CONNECTION_STRING, and the SQLSTATEs and pg
// messages that mean a fault.

import type { StoreBackend } from './store-backends.js';
import { errorCode, type StoreFaultKind } from './store-fault.js';
import { QUERY_TIMEOUT_MESSAGE } from './postgres-timeouts.js';

/** SQLSTATEs: the shutdown and resource ones (class 08, connection exception, is 'unreachable' too). */
const POSTGRES_FAULTS: ReadonlyMap<string, StoreFaultKind> = new Map<string, StoreFaultKind>([
  ['53100', 'disk-full'],
  ['25006', 'read-only'],
  ['57P01', 'unreachable'],
  ['57P02', 'unreachable'],
  ['57P03', 'unreachable'],
  ['53300', 'busy'],
  // statement_timeout (or a cancel) ended a statement that waited too long: locks or load.
  ['57014', 'busy'],
  ['55P03', 'busy'],
  // idle_in_transaction_session_timeout ended the session.
  ['25P03', 'unreachable'],
  ['58030', 'io-error'],
]);
const CONNECTION_EXCEPTION = /^08[0-9A-Z]{3}$/;

/** pg reports a lost or unusable connection with these messages and no code. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  // query_timeout: no reply from the server in time (a silent network, a hung server).
  QUERY_TIMEOUT_MESSAGE,
];

export const postgresBackend: StoreBackend = {
  open: async ({ connectionString, postgresTimeouts }) => {
    if (!connectionString) throw new Error('CIPHERDEX_DB_TYPE=postgres needs CIPHERDEX_CONNECTION_STRING');
    // Loaded when opened: a server on SQLite never loads pg.
    const { PostgresStore } = await import('./postgres-store.js');
    return PostgresStore.open(connectionString, { timeouts: postgresTimeouts });
  },
  describe: () => 'PostgreSQL store of CIPHERDEX_CONNECTION_STRING',
  faultOf(error) {
    const code = errorCode(error);
    if (code !== null) {
      const kind = POSTGRES_FAULTS.get(code) ?? (CONNECTION_EXCEPTION.test(code) ? 'unreachable' : undefined);
      if (kind !== undefined) return kind;
    }
    return PG_CONNECTION_MESSAGES.some((message) => error.message.includes(message)) ? 'unreachable' : null;
  },
};
