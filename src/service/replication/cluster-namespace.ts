// The cluster namespace: every Redis channel and key of one deployment carries it, so deployments
// sharing a Redis (staging and production, two tenants) never hear each other's change notices,
// training events or failed-auth counts. Pub/sub channels ignore Redis database numbers, so a
// separate SELECT would not do. Replicas of one PostgreSQL database derive the same namespace
// from the database's identity, with no configuration; CIPHERDEX_CLUSTER overrides it.

import { createHash } from 'node:crypto';
import { CLUSTER_NAME, type Config } from '../../config.js';
import type { ReplicationStore } from '../../storage/index.js';

/** The namespace without PostgreSQL (SQLite with REDIS_URL): there is no shared database to tell deployments apart. */
export const DEFAULT_CLUSTER = 'default';

export interface RedisNames {
  cluster: string;
  /** Pub/sub channel of change notices (change-notices.ts). */
  changeNotices: string;
  /** Pub/sub channels of training events: this prefix and the index name. */
  trainingTopicPrefix: string;
  /** Hash of index name -> last training status published for it. */
  trainingStatus: string;
  /** Keys of failed-authentication counters: this prefix and the client address. */
  authFailurePrefix: string;
  /** Pub/sub channel of training requests forwarded between replicas (cancel) and their answers. */
  trainingControl: string;
}

export function redisNames(cluster: string): RedisNames {
  if (!CLUSTER_NAME.test(cluster)) throw new RangeError(`a cluster name must match ${CLUSTER_NAME}, got "${cluster}"`);
  const base = `cipherdex:${cluster}:`;
  return {
    cluster,
    changeNotices: `${base}index-changes`,
    trainingTopicPrefix: `${base}training:`,
    trainingStatus: `${base}training-status`,
    authFailurePrefix: `${base}auth-failures:`,
    trainingControl: `${base}training-control`,
  };
}

/**
 * The namespace for a database identity (ReplicationStore.databaseIdentity): a short hash, so the
 * identity itself (system identifier, database and schema names) never appears in Redis.
 */
export function clusterFromDatabaseIdentity(identity: string): string {
  return `pg-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
}

/** The configured namespace, else the one derived from the shared database, else DEFAULT_CLUSTER. */
export async function resolveRedisNames(config: Pick<Config, 'cluster'>, replication: Pick<ReplicationStore, 'databaseIdentity'> | null): Promise<RedisNames> {
  if (config.cluster !== null) return redisNames(config.cluster);
  if (replication === null) return redisNames(DEFAULT_CLUSTER);
  return redisNames(clusterFromDatabaseIdentity(await replication.databaseIdentity()));
}
