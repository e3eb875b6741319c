// The kinds of "the store itself is unavailable" (disk full, read-only files, database unreachable,
// locked, I/O failure) as opposed to a bug or a bad request, so the layers above can answer with a
// clear, retryable fault instead of an unexplained one. Each backend recognises its driver's errors
// (store-backends.ts); Node's socket and file-system codes are common to all and recognised here.

export type StoreFaultKind = 'disk-full' | 'read-only' | 'unreachable' | 'busy' | 'io-error';

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

/** The `code` an error carries, if it is a string (drivers and Node both use the property). */
export function errorCode(error: Error): string | null {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : null;
}

/** The fault a Node system error means, or null. */
export function systemFaultOf(error: Error): StoreFaultKind | null {
  const code = errorCode(error);
  return code === null ? null : (SYSTEM_FAULTS.get(code) ?? null);
}
