// Replicas of one cluster for a test: index services on a fresh PostgreSQL schema of their own
// and the shared Redis. Each test gets its own schema and index name (Redis is shared by every
// test run), and its services are closed, and the training statuses they left in Redis removed,
// after it.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach } from 'vitest';
import { loadConfig, type Config } from '../../../src/config.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import { createPostgresTestSchema, type PostgresTestSchema } from '../../support/services.js';

export interface ReplicaCluster {
  /** This test's schema. */
  schema: PostgresTestSchema;
  /** Settings for a replica of this test's cluster. */
  config: Config;
  /** An index name unique to this test. */
  name: string;
  /** Services to close after the test: push every replica started. */
  readonly services: CipherdexIndexService[];
}

/** Registers the hooks; the returned object is filled in before each test. */
export function useReplicaCluster(label: string, redisUrl: string, env: Record<string, string>): ReplicaCluster {
  const cluster = { services: [] as CipherdexIndexService[] } as ReplicaCluster;
  beforeEach(async () => {
    cluster.schema = await createPostgresTestSchema(label);
    cluster.name = `${label}-${randomUUID()}`;
    cluster.config = loadConfig({
      CIPHERDEX_DB_TYPE: 'postgres',
      CIPHERDEX_CONNECTION_STRING: cluster.schema.connectionString,
      REDIS_URL: redisUrl,
      AUTO_TRAIN_DISABLED: 'true',
      ...env,
    });
  });
  afterEach(async () => {
    // Each test's schema is a cluster of its own (derived from the database identity).
    const statusKeys = [...new Set(cluster.services.map((service) => service.redisNames.trainingStatus))];
    await Promise.all(cluster.services.splice(0).map((service) => service.close()));
    if (statusKeys.length > 0) {
      const admin = new Redis(redisUrl);
      await admin.del(...statusKeys);
      await admin.quit();
    }
    await cluster.schema.drop();
  });
  return cluster;
}
