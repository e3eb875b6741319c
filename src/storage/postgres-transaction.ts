// Runs work inside one PostgreSQL transaction on a pooled connection: committed when the work
// resolves, rolled back when it throws, and a connection left in an unknown state is discarded.

import type pg from 'pg';
import { isLostConnection } from './postgres-timeouts.js';

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // No reply came (or the connection broke): drop it rather than wait out a ROLLBACK too; the
    // server rolls the transaction back when the session ends.
    if (isLostConnection(error)) {
      client.release(error as Error);
      throw error;
    }
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackError) {
      client.release(rollbackError instanceof Error ? rollbackError : true);
    }
    throw error;
  }
}
