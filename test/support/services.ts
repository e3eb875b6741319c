// Tells tests whether PostgreSQL and Redis are reachable. Outside CI a missing service skips the
// tests that need it, with a message saying why; with CI=true it is a failure, so CI can never
// pass by silently skipping the database tests.

import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';

export interface ServiceProbe {
  available: boolean;
  /** The URL that answered, or the first one tried. */
  url: string;
  /** Why the service is unavailable; null when it is available. */
  reason: string | null;
}

const IN_CI = process.env.CI === 'true';
const PROBE_TIMEOUT_MS = 3000;

/** Tried in order; the machine's PostgreSQL trusts both `postgres` and `root`. */
const POSTGRES_URLS = process.env.CIPHERDEX_TEST_POSTGRES_URL
  ? [process.env.CIPHERDEX_TEST_POSTGRES_URL]
  : ['postgres://postgres@127.0.0.1:5432/test', 'postgres://root@127.0.0.1:5432/test'];
const REDIS_URL = process.env.CIPHERDEX_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

function describeError(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

function settle(name: string, probe: ServiceProbe): ServiceProbe {
  if (probe.available) return probe;
  const message = `${name} is unreachable at ${probe.url}: ${probe.reason}`;
  if (IN_CI) throw new Error(`${message}. CI=true requires it, so the tests that need it fail instead of skipping.`);
  console.warn(`[skip] ${message}. Its tests are skipped (with CI=true they would fail).`);
  return probe;
}

let postgresProbe: Promise<ServiceProbe> | undefined;
let redisProbe: Promise<ServiceProbe> | undefined;

async function tryPostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return describeError(error);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Resolves whether PostgreSQL answers (once per test file); throws when it does not and CI=true.
 * Use at the top of a test file: `const postgres = await probePostgres();` then
 * `describe.skipIf(!postgres.available)(...)`.
 */
export function probePostgres(): Promise<ServiceProbe> {
  postgresProbe ??= (async () => {
    let reason = '';
    for (const url of POSTGRES_URLS) {
      const failure = await tryPostgres(url);
      if (failure === null) return { available: true, url, reason: null };
      reason ||= failure;
    }
    return settle('PostgreSQL', { available: false, url: POSTGRES_URLS[0], reason });
  })();
  return postgresProbe;
}

/** Like probePostgres, for Redis. */
export function probeRedis(): Promise<ServiceProbe> {
  redisProbe ??= (async () => {
    const redis = new Redis(REDIS_URL, {
      lazyConnect: true,
      connectTimeout: PROBE_TIMEOUT_MS,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => {});
    try {
      await redis.connect();
      const pong = await redis.ping();
      if (pong !== 'PONG') return settle('Redis', { available: false, url: REDIS_URL, reason: `PING answered ${pong}` });
      return { available: true, url: REDIS_URL, reason: null };
    } catch (error) {
      return settle('Redis', { available: false, url: REDIS_URL, reason: describeError(error) });
    } finally {
      redis.disconnect();
    }
  })();
  return redisProbe;
}

export interface PostgresTestSchema {
  /** A fresh schema name, unique to this call. */
  schema: string;
  /** The probed URL with `search_path` set to the schema: give it to openStore or PostgresStore. */
  connectionString: string;
  /** Runs one statement in the schema on a connection of its own (for tampering and set-up behind a store's back). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Drops the schema and everything in it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty schema of its own for one test file (or test), so parallel files never see
 * each other's tables. `label` goes into the name to make leftovers recognisable.
 */
export async function createPostgresTestSchema(label: string): Promise<PostgresTestSchema> {
  const probe = await probePostgres();
  if (!probe.available) throw new Error(`PostgreSQL is unavailable: ${probe.reason}`);
  const schema = `test_${label.toLowerCase().replace(/[^a-z0-9]+/g, '_').slice(0, 30)}_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new pg.Client({ connectionString: probe.url, connectionTimeoutMillis: PROBE_TIMEOUT_MS });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE SCHEMA ${schema}`);
  const url = new URL(probe.url);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const connectionString = url.toString();
  const query = async <R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  };
  return { schema, connectionString, query, drop: () => admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`) };
}
