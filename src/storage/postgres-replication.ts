// The change log and the training leases on PostgreSQL (see replication-store.ts). The log itself
// is written by PostgresStore's putItems and deleteItems, in the same statement as the write.
// Lease times are computed with the database's clock, so replicas' clocks need not agree.

import type pg from 'pg';
import { inTransaction } from './postgres-transaction.js';
import { LeaseContendedError, type IndexChange, type IndexHead, type LeaseClaim, type ReplicationStore, type TrainingLease } from './replication-store.js';

interface HeadRow {
  name: string;
  change_seq: string;
  model_version: number;
  key_version: number;
  created_at: Date;
}

interface ChangeRow extends HeadRow {
  seq: string | null;
  origin: string | null;
  tokens: Buffer | null;
  token_lengths: number[] | null;
}

interface LeaseRow {
  index_name: string;
  run_id: string;
  owner: string;
  run_trigger: string;
}

function toHead(row: HeadRow): IndexHead {
  // BIGINT arrives as a string; a count of writes stays far below 2^53.
  return { name: row.name, changeSeq: Number(row.change_seq), modelVersion: row.model_version, keyVersion: row.key_version, createdAt: row.created_at };
}

function toLease(row: LeaseRow): TrainingLease {
  return { index: row.index_name, runId: row.run_id, owner: row.owner, trigger: row.run_trigger };
}

/** The log keeps a write's tokens as one concatenation plus their lengths (the write's own parameters). */
export function splitTokens(concatenated: Buffer, lengths: readonly number[]): Buffer[] {
  const tokens: Buffer[] = [];
  let offset = 0;
  for (const length of lengths) {
    tokens.push(concatenated.subarray(offset, offset + length));
    offset += length;
  }
  return tokens;
}

/** How many times a claim is retried when the lease it collided with vanished before it was read. */
const CLAIM_ATTEMPTS = 3;

export class PostgresReplication implements ReplicationStore {
  readonly #pool: pg.Pool;
  readonly origin: string;

  constructor(pool: pg.Pool, origin: string) {
    this.#pool = pool;
    this.origin = origin;
  }

  async databaseIdentity(): Promise<string> {
    // The system identifier tells apart servers (and restored copies) that reuse database names;
    // the schema tells apart deployments sharing one database. A role that may not read the
    // control data gets the server's address and port in its place.
    const names = `current_database(), current_schema()`;
    const query = async (server: string): Promise<string> =>
      (await this.#pool.query<{ id: string }>(`SELECT concat_ws('/', ${server}, ${names}) AS id`)).rows[0].id;
    try {
      return await query(`(SELECT system_identifier::text FROM pg_control_system())`);
    } catch {
      return query(`inet_server_addr()::text, inet_server_port()::text`);
    }
  }

  async heads(names: readonly string[]): Promise<IndexHead[]> {
    if (names.length === 0) return [];
    const { rows } = await this.#pool.query<HeadRow>(
      'SELECT name, change_seq, model_version, key_version, created_at FROM indexes WHERE name = ANY($1::text[])',
      [names],
    );
    return rows.map(toHead);
  }

  async changesSince(index: string, afterSeq: number): Promise<{ head: IndexHead; changes: IndexChange[] } | null> {
    // One statement, so the head and the changes come from the same snapshot.
    const { rows } = await this.#pool.query<ChangeRow>(
      `SELECT i.name, i.change_seq, i.model_version, i.key_version, i.created_at, c.seq, c.origin, c.tokens, c.token_lengths
       FROM indexes i LEFT JOIN index_changes c ON c.index_id = i.id AND c.seq > $2
       WHERE i.name = $1 ORDER BY c.seq`,
      [index, afterSeq],
    );
    if (rows.length === 0) return null;
    const changes: IndexChange[] = [];
    for (const row of rows) {
      if (row.seq === null) continue;
      changes.push({ seq: Number(row.seq), origin: row.origin!, tokens: splitTokens(row.tokens!, row.token_lengths!) });
    }
    return { head: toHead(rows[0]), changes };
  }

  async pruneChanges(olderThanMs: number): Promise<number> {
    const result = await this.#pool.query("DELETE FROM index_changes WHERE changed_at < now() - $1 * interval '1 millisecond'", [olderThanMs]);
    return result.rowCount ?? 0;
  }

  async claimLease(lease: { index: string; runId: string; trigger: string }, ttlMs: number): Promise<LeaseClaim> {
    for (let attempt = 1; ; attempt++) {
      const inserted = await this.#pool.query(
        `INSERT INTO training_leases (index_name, run_id, owner, run_trigger, expires_at)
         VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')
         ON CONFLICT (index_name) DO NOTHING`,
        [lease.index, lease.runId, this.origin, lease.trigger, ttlMs],
      );
      if (inserted.rowCount === 1) return { claimed: true };
      const { rows } = await this.#pool.query<LeaseRow & { expired: boolean }>(
        'SELECT index_name, run_id, owner, run_trigger, expires_at < now() AS expired FROM training_leases WHERE index_name = $1',
        [lease.index],
      );
      if (rows.length === 1) return { claimed: false, holder: toLease(rows[0]), expired: rows[0].expired };
      // Released between our insert and our read: try again.
      if (attempt === CLAIM_ATTEMPTS) throw new LeaseContendedError(lease.index);
    }
  }

  async renewLease(index: string, runId: string, ttlMs: number): Promise<boolean> {
    const result = await this.#pool.query(
      "UPDATE training_leases SET expires_at = now() + $3 * interval '1 millisecond' WHERE index_name = $1 AND run_id = $2",
      [index, runId, ttlMs],
    );
    return result.rowCount === 1;
  }

  async releaseLease(index: string, runId: string): Promise<void> {
    await this.#pool.query('DELETE FROM training_leases WHERE index_name = $1 AND run_id = $2', [index, runId]);
  }

  async reapExpiredLeases(announce: (lease: TrainingLease) => Promise<void>, keep: readonly string[] = []): Promise<TrainingLease[]> {
    return inTransaction(this.#pool, async (client) => {
      // SKIP LOCKED: replicas sweeping at the same moment split the expired leases between them.
      const { rows } = await client.query<LeaseRow>(
        `SELECT index_name, run_id, owner, run_trigger FROM training_leases
         WHERE expires_at < now() AND NOT (run_id = ANY($1::text[])) FOR UPDATE SKIP LOCKED`,
        [keep],
      );
      const reaped = rows.map(toLease);
      for (const lease of reaped) {
        await announce(lease);
        await client.query('DELETE FROM training_leases WHERE index_name = $1 AND run_id = $2', [lease.index, lease.runId]);
      }
      return reaped;
    });
  }
}
