// Recognises the drivers' errors that mean "the store itself is unavailable" (disk full, read-only
// files, database unreachable, locked, I/O failure) as opposed to a bug or a bad request, so the
// layers above can answer with a clear, retryable fault instead of an unexplained one.

export type StoreFaultKind = 'disk-full' | 'read-only' | 'unreachable' | 'busy' | 'io-error';

/** better-sqlite3's SqliteError codes (extended codes start with the primary one, e.g. SQLITE_IOERR_WRITE). */
const SQLITE_FAULTS: ReadonlyArray<[prefix: string, kind: StoreFaultKind]> = [
  ['SQLITE_FULL', 'disk-full'],
  ['SQLITE_READONLY', 'read-only'],
  ['SQLITE_BUSY', 'busy'],
  ['SQLITE_LOCKED', 'busy'],
  ['SQLITE_IOERR', 'io-error'],
  ['SQLITE_CANTOPEN', 'io-error'],
];

/** PostgreSQL SQLSTATEs: class 08 (connection exception) and the shutdown / resource ones. */
const POSTGRES_FAULTS: ReadonlyMap<string, StoreFaultKind> = new Map<string, StoreFaultKind>([
  ['53100', 'disk-full'],
  ['25006', 'read-only'],
  ['57P01', 'unreachable'],
  ['57P02', 'unreachable'],
  ['57P03', 'unreachable'],
  ['53300', 'busy'],
  ['58030', 'io-error'],
]);

/** Node's socket and file-system error codes. */
const SYSTEM_FAULTS: ReadonlyMap<string, StoreFaultKind> = new Map<string, StoreFaultKind>([
  ['ENOSPC', 'disk-full'],
  ['EDQUOT', 'disk-full'],
  ['EROFS', 'read-only'],
  ['ECONNREFUSED', 'unreachable'],
  ['ECONNRESET', 'unreachable'],
  ['ETIMEDOUT', 'unreachable'],
  ['EPIPE', 'unreachable'],
  ['EHOSTUNREACH', 'unreachable'],
  ['ENETUNREACH', 'unreachable'],
  ['ENOTFOUND', 'unreachable'],
  ['EAI_AGAIN', 'unreachable'],
  ['EIO', 'io-error'],
]);

/** pg reports a lost or unusable connection with these messages and no code. */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

/** The kind of store fault `error` is, or null when it is something else (a bug, a bad request). */
export function storeFaultOf(error: unknown): StoreFaultKind | null {
  if (!(error instanceof Error)) return null;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    for (const [prefix, kind] of SQLITE_FAULTS) if (code.startsWith(prefix)) return kind;
    const kind = POSTGRES_FAULTS.get(code) ?? SYSTEM_FAULTS.get(code) ?? (/^08[0-9A-Z]{3}$/.test(code) ? 'unreachable' : undefined);
    if (kind !== undefined) return kind;
  }
  if (PG_CONNECTION_MESSAGES.some((message) => error.message.includes(message))) return 'unreachable';
  // Connecting to several addresses fails as an AggregateError of socket errors.
  if (error instanceof AggregateError && error.errors.length > 0 && error.errors.every((inner) => storeFaultOf(inner) === 'unreachable')) return 'unreachable';
  return null;
}
