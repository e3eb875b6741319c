// How long the PostgreSQL store waits on the network and on the server, so that a database that
// is gone silently (a dropped route, a black-holed connection: no RST, no reply) fails a request
// with STORE_UNAVAILABLE within a bound instead of hanging it, and the pool recovers by itself
// once the network returns (a connection that timed out is discarded, never reused).

import type pg from 'pg';

export interface PostgresTimeouts {
  /** Opening a connection, or waiting for a free one in the pool (pg's connectionTimeoutMillis). */
  connectMs: number;
  /** Server side: a statement running longer is cancelled by PostgreSQL (statement_timeout). */
  statementMs: number;
  /**
   * Client side: no reply to a query within this long and the connection is given up (pg's
   * query_timeout). Larger than statementMs, so that a merely slow statement is cancelled by the
   * server first and its connection stays usable; this one fires when the server cannot answer.
   */
  queryMs: number;
  /**
   * Server side: a session idle inside a transaction this long is ended (its locks released), so a
   * replica cut off mid-transaction does not block the others' writes to the index it held.
   */
  idleInTransactionMs: number;
  /** TCP keep-alive on every connection, starting after this much idleness; 0 turns it off. */
  keepAliveMs: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: Readonly<PostgresTimeouts> = {
  connectMs: 5000,
  statementMs: 15_000,
  queryMs: 20_000,
  idleInTransactionMs: 30_000,
  keepAliveMs: 10_000,
};

/** What pg reports when query_timeout fires (no code). */
export const QUERY_TIMEOUT_MESSAGE = 'Query read timeout';

/** The pg pool settings for these timeouts. */
export function poolTimeoutOptions(timeouts: PostgresTimeouts): pg.PoolConfig {
  return {
    connectionTimeoutMillis: timeouts.connectMs,
    query_timeout: timeouts.queryMs,
    statement_timeout: timeouts.statementMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    keepAlive: timeouts.keepAliveMs > 0,
    keepAliveInitialDelayMillis: timeouts.keepAliveMs,
  };
}

/**
 * True when the connection `error` came from cannot be trusted any more (its reply never came, or
 * it broke): it must be discarded at once, without a ROLLBACK that would wait out another timeout
 * (the server rolls back on its own when the session ends).
 */
export function isLostConnection(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.message === QUERY_TIMEOUT_MESSAGE || error.message.includes('Connection terminated') || error.message.includes('not queryable');
}
