// Idempotency records on PostgreSQL (idempotency-store.ts): claimed at the start of the write's
// transaction, completed with the write's count before it commits. Replicas share them: a second
// claim of a key waits on the first one's uncommitted row (the primary key), then finds it
// committed and answers from it, or finds it rolled back and claims the key itself.

import type pg from 'pg';
import type { IdempotencyClaim, IdempotentOutcome } from './idempotency-store.js';
import { StoreIndexNotFoundError } from './store.js';

interface RecordRow {
  request_hash: Buffer;
  result_count: number | null;
  expired: boolean;
}

/** How many times a claim is retried when the record it collided with was swept before it was read. */
const CLAIM_ATTEMPTS = 3;

/**
 * Claims the key inside the caller's transaction: null when this write is to be done (the row is
 * now this transaction's), or the earlier write's outcome. Throws StoreIndexNotFoundError.
 */
export async function claimIdempotencyKey(client: pg.PoolClient, index: string, claim: IdempotencyClaim): Promise<IdempotentOutcome | null> {
  for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
    const inserted = await client.query(
      `INSERT INTO idempotency_records (index_id, key_hash, request_hash)
       SELECT id, $2, $3 FROM indexes WHERE name = $1
       ON CONFLICT (index_id, key_hash) DO NOTHING`,
      [index, claim.keyHash, claim.requestHash],
    );
    if (inserted.rowCount === 1) return null;
    const { rows } = await client.query<RecordRow>(
      `SELECT r.request_hash, r.result_count, r.created_at < now() - $3 * interval '1 millisecond' AS expired
       FROM idempotency_records r JOIN indexes i ON r.index_id = i.id
       WHERE i.name = $1 AND r.key_hash = $2 FOR UPDATE OF r`,
      [index, claim.keyHash, claim.retentionMs],
    );
    if (rows.length === 0) {
      const { rowCount } = await client.query('SELECT 1 FROM indexes WHERE name = $1', [index]);
      if (rowCount === 0) throw new StoreIndexNotFoundError(index);
      continue; // swept between the insert and the read: claim again
    }
    const [record] = rows;
    if (record.expired) {
      // Past its retention the key is free again: this write takes the row over.
      await client.query(
        `UPDATE idempotency_records r SET request_hash = $3, result_count = NULL, created_at = now()
         FROM indexes i WHERE r.index_id = i.id AND i.name = $1 AND r.key_hash = $2`,
        [index, claim.keyHash, claim.requestHash],
      );
      return null;
    }
    if (!record.request_hash.equals(claim.requestHash)) return { kind: 'mismatch' };
    if (record.result_count === null) throw new Error('An idempotency record was committed without its result.');
    return { kind: 'replayed', count: record.result_count };
  }
  throw new Error(`The idempotency record kept vanishing while it was claimed (index "${index}").`);
}

/** Completes a claimed record with the write's count, in the same transaction as the write. */
export async function completeIdempotencyKey(client: pg.PoolClient, index: string, claim: IdempotencyClaim, count: number): Promise<void> {
  await client.query(
    `UPDATE idempotency_records r SET result_count = $3
     FROM indexes i WHERE r.index_id = i.id AND i.name = $1 AND r.key_hash = $2`,
    [index, claim.keyHash, count],
  );
}

export async function pruneIdempotencyRecords(pool: pg.Pool, olderThanMs: number): Promise<number> {
  const result = await pool.query("DELETE FROM idempotency_records WHERE created_at < now() - $1 * interval '1 millisecond'", [olderThanMs]);
  return result.rowCount ?? 0;
}
