// What the store keeps so that a write retried with the same idempotency key is done once: per
// index, a keyed hash of the key, a keyed hash of the request, and the write's count, written in
// the same transaction as the write itself (a commit whose reply was lost still has its record).
// The hashes are HMACs under a key derived from the index's data key, made by the service
// (service/records/idempotency-record.ts): the store can neither read the key nor the request.
// The count is what the store computed or saw anyway (rows written or deleted).

/** A write's claim on an idempotency key. */
export interface IdempotencyClaim {
  /** Keyed hash of the client's idempotency key (32 bytes). */
  keyHash: Buffer;
  /** Keyed hash of the request (operation and arguments, 32 bytes). */
  requestHash: Buffer;
  /** A record older than this (ms) is forgotten: the key may be used afresh. */
  retentionMs: number;
}

/**
 * What an idempotent write did: 'done', the write and its record committed together; 'replayed',
 * an earlier write under the key committed (nothing written now), with its count; 'mismatch', the
 * key was used for another request (nothing written).
 */
export type IdempotentOutcome = { kind: 'done'; count: number } | { kind: 'replayed'; count: number } | { kind: 'mismatch' };
