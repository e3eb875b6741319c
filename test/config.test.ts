import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has secure, documented defaults', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.dbType).toBe('sqlite');
    expect(config.apiKeys).toEqual([]);
    expect(config.retrainThreshold).toBe(10_000);
    expect(config.autoTrainEnabled).toBe(true);
  });

  it('reads every documented variable', () => {
    const config = loadConfig({
      PORT: '5000',
      CIPHERDEX_API_KEY: 'a, b',
      CIPHERDEX_DB_TYPE: 'postgres',
      CIPHERDEX_CONNECTION_STRING: 'postgres://x',
      RETRAIN_THRESHOLD: '50',
      AUTO_TRAIN_DISABLED: 'true',
    });
    expect(config).toMatchObject({
      port: 5000,
      apiKeys: [
        { key: 'a', prefix: null },
        { key: 'b', prefix: null },
      ],
      dbType: 'postgres',
      retrainThreshold: 50,
      autoTrainEnabled: false,
    });
  });

  it('reads the vector cache (256 MiB by default, 0 turns it off) and the memory budget (none unless set)', () => {
    expect(loadConfig({})).toMatchObject({ vectorCacheBytes: 256 * 2 ** 20, memoryBudgetBytes: null });
    expect(loadConfig({ CIPHERDEX_VECTOR_CACHE_MB: '0', CIPHERDEX_MEMORY_BUDGET_MB: '2048' })).toMatchObject({ vectorCacheBytes: 0, memoryBudgetBytes: 2048 * 2 ** 20 });
    expect(() => loadConfig({ CIPHERDEX_MEMORY_BUDGET_MB: '0' })).toThrow(/CIPHERDEX_MEMORY_BUDGET_MB/);
    expect(() => loadConfig({ CIPHERDEX_VECTOR_CACHE_MB: '-1' })).toThrow(/CIPHERDEX_VECTOR_CACHE_MB/);
  });

  it('RETRAIN_THRESHOLD=-1 turns automatic training off; other values below 1 are refused', () => {
    expect(loadConfig({ RETRAIN_THRESHOLD: '-1' })).toMatchObject({ retrainThreshold: -1, autoTrainEnabled: false });
    expect(loadConfig({ RETRAIN_THRESHOLD: '1' })).toMatchObject({ retrainThreshold: 1, autoTrainEnabled: true });
    for (const bad of ['0', '-2', '-1.5', '1e400']) expect(() => loadConfig({ RETRAIN_THRESHOLD: bad })).toThrow(/RETRAIN_THRESHOLD must be an integer >= 1, or -1/);
  });

  it('reads the replica settings, with a 30 s training lease and a 500 ms check by default', () => {
    expect(loadConfig({})).toMatchObject({ trainingLeaseMs: 30_000, replicaPollMs: 500 });
    expect(loadConfig({ TRAINING_LEASE_MS: '2000', REPLICA_POLL_MS: '100' })).toMatchObject({ trainingLeaseMs: 2000, replicaPollMs: 100 });
    // A lease shorter than a database round trip under load would be lost by healthy replicas.
    expect(() => loadConfig({ TRAINING_LEASE_MS: '100' })).toThrow(/TRAINING_LEASE_MS/);
    expect(() => loadConfig({ REPLICA_POLL_MS: '0' })).toThrow(/REPLICA_POLL_MS/);
  });

  it('reads the network timeouts of PostgreSQL and Redis, with the documented defaults; the query timeout outlasts the statement timeout', () => {
    expect(loadConfig({})).toMatchObject({
      postgresTimeouts: { connectMs: 5000, statementMs: 15_000, queryMs: 20_000, idleInTransactionMs: 30_000, keepAliveMs: 10_000 },
      redisTimeouts: { connectMs: 5000, commandMs: 5000, keepAliveMs: 10_000 },
    });
    // Unset, the query timeout follows the statement timeout (5 s later).
    expect(loadConfig({ PG_STATEMENT_TIMEOUT_MS: '1000' }).postgresTimeouts).toMatchObject({ statementMs: 1000, queryMs: 6000 });
    expect(loadConfig({ PG_CONNECT_TIMEOUT_MS: '700', PG_QUERY_TIMEOUT_MS: '30000', PG_KEEPALIVE_MS: '0', REDIS_COMMAND_TIMEOUT_MS: '900' })).toMatchObject({
      postgresTimeouts: { connectMs: 700, queryMs: 30_000, keepAliveMs: 0 },
      redisTimeouts: { commandMs: 900 },
    });
    expect(() => loadConfig({ PG_STATEMENT_TIMEOUT_MS: '5000', PG_QUERY_TIMEOUT_MS: '5000' })).toThrow(/PG_QUERY_TIMEOUT_MS \(5000\) must be larger/);
    expect(() => loadConfig({ PG_CONNECT_TIMEOUT_MS: '0' })).toThrow(/PG_CONNECT_TIMEOUT_MS/);
  });

  it('rejects nonsense instead of guessing', () => {
    expect(() => loadConfig({ RETRAIN_THRESHOLD: 'ten' })).toThrow(/RETRAIN_THRESHOLD/);
    expect(() => loadConfig({ CIPHERDEX_DB_TYPE: 'postgres' })).toThrow(/CONNECTION_STRING/);
    expect(() => loadConfig({ AUTO_TRAIN_DISABLED: 'maybe' })).toThrow(/AUTO_TRAIN_DISABLED/);
  });

  it('reads tenant-bound API keys from CIPHERDEX_API_KEYS or CIPHERDEX_API_KEY, and refuses a metrics token that is a tenant key', () => {
    const entries = [
      { key: 'ops', prefix: null },
      { key: 't1', prefix: 'acme-' },
    ];
    expect(loadConfig({ CIPHERDEX_API_KEYS: 'ops, t1=acme-' }).apiKeys).toEqual(entries);
    expect(loadConfig({ CIPHERDEX_API_KEY: 'ops, t1=acme-' }).apiKeys).toEqual(entries);
    expect(loadConfig({ CIPHERDEX_API_KEYS: 'ops, t1=acme-', CIPHERDEX_API_KEY: 'ops, t1=acme-' }).apiKeys).toEqual(entries);
    // Two different lists: one would be silently ignored.
    expect(() => loadConfig({ CIPHERDEX_API_KEYS: 't1=acme-', CIPHERDEX_API_KEY: 'ops' })).toThrow(/both set and differ/);
    // Errors name the setting that holds the entry, never the entry.
    expect(() => loadConfig({ CIPHERDEX_API_KEYS: 'ops,=acme-' })).toThrow(/entry 2 of CIPHERDEX_API_KEYS/);
    expect(() => loadConfig({ CIPHERDEX_API_KEY: 'ops,=acme-' })).toThrow(/entry 2 of CIPHERDEX_API_KEY\b/);
    expect(() => loadConfig({ CIPHERDEX_API_KEY: 'ops,t1=acme-', CIPHERDEX_METRICS_TOKEN: 't1' })).toThrow(/CIPHERDEX_METRICS_TOKEN equals an API key bound to a prefix/);
    // An unbound key may double as the token: it reads /metrics anyway.
    expect(loadConfig({ CIPHERDEX_API_KEY: 'ops,t1=acme-', CIPHERDEX_METRICS_TOKEN: 'ops' }).metricsToken).toBe('ops');
  });
});
