// Runtime settings, read once from the environment. Every setting docs/operations.md documents is here.

import { hostname } from 'node:os';
import { type ApiKeyEntry, parseApiKeyEntries } from './api-key-entries.js';
import { STORE_KINDS, type StoreKind } from './storage/store-kinds.js';
import type { PostgresTimeouts } from './storage/postgres-timeouts.js';
import type { RedisTimeouts } from './service/replication/redis-timeouts.js';

export interface Config {
  port: number;
  host: string;
  /**
   * CIPHERDEX_API_KEY: comma-separated API keys, each optionally bound to an index-name prefix
   * (key=prefix, api-key-entries.ts); empty means "generate one (unbound) on first start and keep its hash".
   */
  apiKeys: ApiKeyEntry[];
  dataDir: string;
  dbType: StoreKind;
  connectionString: string | null;
  redisUrl: string | null;
  /**
   * Namespace of every Redis channel and key (CIPHERDEX_CLUSTER); null derives it from the
   * PostgreSQL database's identity (replicas of one database agree), or 'default' without one.
   */
  cluster: string | null;
  /**
   * This process's name among the replicas (CIPHERDEX_REPLICA_NAME), shown with each run in
   * trainingQueue and trainingStatus; defaults to the host name and process id.
   */
  replicaName: string;
  /** Vectors at which an untrained index is queued for training; -1 (RETRAIN_THRESHOLD=-1) turns automatic training off. */
  retrainThreshold: number;
  /** False with AUTO_TRAIN_DISABLED=true or RETRAIN_THRESHOLD=-1. */
  autoTrainEnabled: boolean;
  /** A trained index is retrained once it holds this many times the vectors it was trained on. */
  retrainGrowthFactor: number;
  maxConcurrentTrainings: number;
  /** Memory a training job may use, in bytes. */
  trainingMemoryBudget: number;
  /** Decrypted vectors read back from the store (re-rank of IVF_SQ8 / IVF_PQ, items with their vector) kept for re-use, in bytes, shared by all indexes; 0 turns the cache off. */
  vectorCacheBytes: number;
  /**
   * Bytes all open indexes (and the vector cache) may hold together (CIPHERDEX_MEMORY_BUDGET_MB);
   * null (unset) for no budget. Past it, idle indexes are evicted, then opens and upserts refused.
   */
  memoryBudgetBytes: number | null;
  /** Decrypted indexes are dropped from memory after this many ms without a request. */
  idleEvictMs: number;
  /**
   * Replicas on PostgreSQL: a training run's lease on its index lasts this long without renewal;
   * a replica that dies mid-run has its run reported FAILED within about this time.
   */
  trainingLeaseMs: number;
  /** Replicas on PostgreSQL: how often the open indexes are checked for other replicas' writes, in ms. */
  replicaPollMs: number;
  /** How long the PostgreSQL store waits on the network before a request answers STORE_UNAVAILABLE (postgres-timeouts.ts). */
  postgresTimeouts: PostgresTimeouts;
  /** How long a Redis connection or command may take before it fails (a black-holed Redis must not hang anything). */
  redisTimeouts: RedisTimeouts;
  /** How long a write's idempotency key is remembered (IDEMPOTENCY_RETENTION_HOURS): a retry within it is answered from the record. */
  idempotencyRetentionMs: number;
  /** Hard caps that protect the server; all are configurable. */
  limits: {
    maxBatchItems: number;
    maxQueriesPerBatch: number;
    maxTopK: number;
    maxDimension: number;
    maxIdBytes: number;
    maxContentsBytes: number;
    maxMetadataBytes: number;
    maxRequestBytes: number;
    /** GraphQL document limits (graphql-armor). */
    maxDepth: number;
    maxAliases: number;
    maxTokens: number;
    maxCost: number;
    maxDirectives: number;
  };
  introspection: boolean;
  graphiql: boolean;
  /** Failed authentications (a wrong API key) per client address and window before it is refused (429, or close 4429); 0 turns the limit off. */
  authFailureLimit: number;
  authFailureWindowMs: number;
  /**
   * Reverse proxies whose X-Forwarded-For is believed (addresses, CIDR ranges, or loopback,
   * linklocal, uniquelocal); empty means the client address is the socket's peer.
   */
  trustedProxies: string[];
  /** Pad sealed item records to 64-byte buckets, so the store sees rounded lengths (CIPHERDEX_PAD_RECORDS, default on). */
  padRecords: boolean;
  /** Keep sealed segment sets of trained indexes, so an open reads a few large records instead of every item (CIPHERDEX_SEGMENTS, default on). */
  segments: boolean;
  /** Origins whose browser pages may call the API (CIPHERDEX_CORS_ORIGINS, comma-separated); empty: none. */
  corsOrigins: string[];
  /** graphql-ws: a socket that sends no connection_init within this many ms is closed with 4408. */
  connectionInitTimeoutMs: number;
  /** Server log level (LOG_LEVEL): fatal, error, warn, info, debug, trace or silent. */
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Serve /metrics and measure for it (METRICS_ENABLED=false turns both off). */
  metricsEnabled: boolean;
  /** A bearer token that opens /metrics besides the API keys (for a scraper that should not hold an API key). */
  metricsToken: string | null;
  /** Label per-index metrics with index names (one series set per index; names are visible to whoever scrapes). */
  metricsIndexLabels: boolean;
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  return value;
}

/** RETRAIN_THRESHOLD: a count of vectors, or -1 for "never train on its own" (CyborgDB's convention). */
function retrainThreshold(env: Env): number {
  const raw = env.RETRAIN_THRESHOLD?.trim();
  if (raw === undefined || raw === '') return 10_000;
  const value = Number(raw);
  if (value === -1 || (Number.isInteger(value) && value >= 1)) return value;
  throw new Error(`RETRAIN_THRESHOLD must be an integer >= 1, or -1 to turn automatic training off, got "${env.RETRAIN_THRESHOLD}"`);
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new Error(`${name} must be true or false, got "${env[name]}"`);
}

/** A comma list of origins, each scheme://host[:port] exactly as a browser sends it in Origin. */
function origins(env: Env, name: string): string[] {
  const list = (env[name] ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of list) {
    let parsed: URL | null = null;
    try {
      parsed = new URL(origin);
    } catch {
      // reported below
    }
    if (parsed === null || parsed.origin !== origin) throw new Error(`${name} lists origins as scheme://host[:port] with no path, got "${origin}"`);
  }
  return list;
}

/** What CIPHERDEX_CLUSTER may be: no ':' (Redis names stay unambiguous) and no glob characters (PSUBSCRIBE patterns). */
export const CLUSTER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

function cluster(env: Env): string | null {
  const raw = env.CIPHERDEX_CLUSTER?.trim();
  if (raw === undefined || raw === '') return null;
  if (!CLUSTER_NAME.test(raw)) throw new Error(`CIPHERDEX_CLUSTER must be 1 to 64 letters, digits, '.', '_' or '-', got "${env.CIPHERDEX_CLUSTER}"`);
  return raw;
}

/** What CIPHERDEX_REPLICA_NAME may be: a host name and a port or process id fit. */
export const REPLICA_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;

function replicaName(env: Env): string {
  const raw = env.CIPHERDEX_REPLICA_NAME?.trim();
  if (raw === undefined || raw === '') return `${hostname()}:${process.pid}`.replace(/[^A-Za-z0-9_.:-]/g, '-').slice(0, 100);
  if (!REPLICA_NAME.test(raw)) throw new Error(`CIPHERDEX_REPLICA_NAME must be 1 to 100 letters, digits, '.', '_', ':' or '-', got "${env.CIPHERDEX_REPLICA_NAME}"`);
  return raw;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function logLevel(env: Env): Config['logLevel'] {
  const raw = (env.LOG_LEVEL ?? '').trim().toLowerCase();
  if (raw === '') return 'info';
  const level = LOG_LEVELS.find((name) => name === raw);
  if (level === undefined) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  return level;
}

/** The statement timeout is the server's; the query timeout (the client's) is later, so a slow statement is cancelled cleanly first. */
function postgresTimeouts(env: Env): PostgresTimeouts {
  const statementMs = int(env, 'PG_STATEMENT_TIMEOUT_MS', 15_000, 1);
  const queryMs = int(env, 'PG_QUERY_TIMEOUT_MS', statementMs + 5000, 1);
  if (queryMs <= statementMs) throw new Error(`PG_QUERY_TIMEOUT_MS (${queryMs}) must be larger than PG_STATEMENT_TIMEOUT_MS (${statementMs})`);
  return {
    connectMs: int(env, 'PG_CONNECT_TIMEOUT_MS', 5000, 1),
    statementMs,
    queryMs,
    idleInTransactionMs: int(env, 'PG_IDLE_IN_TRANSACTION_TIMEOUT_MS', 30_000, 1),
    keepAliveMs: int(env, 'PG_KEEPALIVE_MS', 10_000, 0),
  };
}

export function loadConfig(env: Env = process.env): Config {
  const dbType = STORE_KINDS.find((kind) => kind === (env.CIPHERDEX_DB_TYPE ?? 'sqlite').toLowerCase());
  if (dbType === undefined) throw new Error(`CIPHERDEX_DB_TYPE must be ${STORE_KINDS.join(' or ')}`);
  const connectionString = env.CIPHERDEX_CONNECTION_STRING || null;
  if (dbType === 'postgres' && !connectionString) throw new Error('CIPHERDEX_DB_TYPE=postgres needs CIPHERDEX_CONNECTION_STRING');
  const production = env.NODE_ENV === 'production';
  const threshold = retrainThreshold(env);
  // CIPHERDEX_API_KEYS is the list's name; CIPHERDEX_API_KEY, its name before prefixes existed, still
  // works. Two different lists would leave one silently ignored, so that stops the start.
  if (env.CIPHERDEX_API_KEYS !== undefined && env.CIPHERDEX_API_KEY !== undefined && env.CIPHERDEX_API_KEYS !== env.CIPHERDEX_API_KEY) {
    throw new Error('CIPHERDEX_API_KEYS and CIPHERDEX_API_KEY are both set and differ: set one (CIPHERDEX_API_KEYS: key or key=prefix, comma-separated).');
  }
  const apiKeys =
    env.CIPHERDEX_API_KEYS !== undefined ? parseApiKeyEntries(env.CIPHERDEX_API_KEYS) : parseApiKeyEntries(env.CIPHERDEX_API_KEY, 'CIPHERDEX_API_KEY');
  const metricsToken = env.CIPHERDEX_METRICS_TOKEN?.trim() || null;
  // The metrics token opens every tenant's metrics: a tenant's key must not double as it.
  if (metricsToken !== null && apiKeys.some((entry) => entry.prefix !== null && entry.key === metricsToken)) {
    throw new Error('CIPHERDEX_METRICS_TOKEN equals an API key bound to a prefix; give /metrics a token of its own.');
  }
  return {
    port: int(env, 'PORT', 4000),
    host: env.HOST || '127.0.0.1',
    apiKeys,
    dataDir: env.CIPHERDEX_DATA_DIR || './data',
    dbType,
    connectionString,
    redisUrl: env.REDIS_URL || null,
    cluster: cluster(env),
    replicaName: replicaName(env),
    retrainThreshold: threshold,
    autoTrainEnabled: threshold !== -1 && !bool(env, 'AUTO_TRAIN_DISABLED', false),
    retrainGrowthFactor: int(env, 'RETRAIN_GROWTH_FACTOR', 4, 2),
    maxConcurrentTrainings: int(env, 'MAX_CONCURRENT_TRAININGS', 1, 1),
    trainingMemoryBudget: int(env, 'TRAINING_MEMORY_BUDGET_MB', 4096, 1) * 2 ** 20,
    vectorCacheBytes: int(env, 'CIPHERDEX_VECTOR_CACHE_MB', 256, 0) * 2 ** 20,
    memoryBudgetBytes: env.CIPHERDEX_MEMORY_BUDGET_MB === undefined || env.CIPHERDEX_MEMORY_BUDGET_MB === '' ? null : int(env, 'CIPHERDEX_MEMORY_BUDGET_MB', 0, 1) * 2 ** 20,
    idleEvictMs: int(env, 'CIPHERDEX_IDLE_EVICT_MS', 15 * 60_000, 1000),
    trainingLeaseMs: int(env, 'TRAINING_LEASE_MS', 30_000, 500),
    replicaPollMs: int(env, 'REPLICA_POLL_MS', 500, 10),
    postgresTimeouts: postgresTimeouts(env),
    idempotencyRetentionMs: int(env, 'IDEMPOTENCY_RETENTION_HOURS', 24, 1) * 3_600_000,
    redisTimeouts: {
      connectMs: int(env, 'REDIS_CONNECT_TIMEOUT_MS', 5000, 1),
      commandMs: int(env, 'REDIS_COMMAND_TIMEOUT_MS', 5000, 1),
      keepAliveMs: int(env, 'REDIS_KEEPALIVE_MS', 10_000, 0),
    },
    limits: {
      maxBatchItems: int(env, 'MAX_BATCH_ITEMS', 10_000, 1),
      maxQueriesPerBatch: int(env, 'MAX_QUERIES_PER_BATCH', 1_000, 1),
      maxTopK: int(env, 'MAX_TOP_K', 1_000, 1),
      maxDimension: int(env, 'MAX_DIMENSION', 4_096, 1),
      maxIdBytes: int(env, 'MAX_ID_BYTES', 512, 1),
      maxContentsBytes: int(env, 'MAX_CONTENTS_BYTES', 1 << 20, 1),
      maxMetadataBytes: int(env, 'MAX_METADATA_BYTES', 64 << 10, 1),
      maxRequestBytes: int(env, 'MAX_REQUEST_BYTES', 64 << 20, 1024),
      maxDepth: int(env, 'MAX_QUERY_DEPTH', 8, 1),
      maxAliases: int(env, 'MAX_ALIASES', 15, 0),
      maxTokens: int(env, 'MAX_QUERY_TOKENS', 2000, 10),
      maxCost: int(env, 'MAX_QUERY_COST', 5000, 1),
      maxDirectives: int(env, 'MAX_DIRECTIVES', 20, 0),
    },
    introspection: bool(env, 'GRAPHQL_INTROSPECTION', !production),
    // On in development, off in production unless asked for (GRAPHIQL is the older name).
    graphiql: bool(env, 'CIPHERDEX_GRAPHIQL', bool(env, 'GRAPHIQL', !production)),
    authFailureLimit: int(env, 'AUTH_FAILURE_LIMIT', 10, 0),
    authFailureWindowMs: int(env, 'AUTH_FAILURE_WINDOW_SECONDS', 300, 1) * 1000,
    trustedProxies: (env.TRUSTED_PROXIES ?? '').split(',').map((p) => p.trim()).filter(Boolean),
    connectionInitTimeoutMs: int(env, 'WS_CONNECTION_INIT_TIMEOUT_MS', 3000, 1),
    logLevel: logLevel(env),
    metricsEnabled: bool(env, 'METRICS_ENABLED', true),
    metricsToken,
    metricsIndexLabels: bool(env, 'METRICS_INDEX_LABELS', false),
    corsOrigins: origins(env, 'CIPHERDEX_CORS_ORIGINS'),
    padRecords: bool(env, 'CIPHERDEX_PAD_RECORDS', true),
    segments: bool(env, 'CIPHERDEX_SEGMENTS', true),
  };
}
