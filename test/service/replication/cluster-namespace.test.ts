// Cluster namespaces on one real Redis: two clusters, each of two replicas, use the same index
// name; change notices and training events (and the stored latest statuses) stay inside their
// cluster. On real PostgreSQL, replicas of one schema derive the same namespace without
// configuration, another schema derives another, and CIPHERDEX_CLUSTER overrides the derivation.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import { createRedisChangeNotices } from '../../../src/service/replication/change-notices.js';
import { DEFAULT_CLUSTER, redisNames, type RedisNames } from '../../../src/service/replication/cluster-namespace.js';
import type { ReplicaRedis } from '../../../src/service/replication/replica-redis.js';
import { createReplicaTrainingEvents, type ReplicaTrainingEvents } from '../../../src/service/replication/replica-training-events.js';
import { queuedRun } from '../../../src/service/training/training-status.js';
import type { TrainingStatus } from '../../../src/service/types.js';
import { createPostgresTestSchema, probePostgres, probeRedis, type PostgresTestSchema } from '../../support/services.js';

const redis = await probeRedis();
const postgres = await probePostgres();

describe('cluster names', () => {
  it('puts every Redis name under the cluster and refuses names that could collide or glob', () => {
    const names = redisNames('prod-1');
    expect(Object.entries(names).filter(([field]) => field !== 'cluster').every(([, name]) => name.startsWith('cipherdex:prod-1:'))).toBe(true);
    for (const bad of ['', 'a:b', 'a*', 'a?', '[a]', 'x'.repeat(65)]) expect(() => redisNames(bad)).toThrow(RangeError);
    expect(() => loadConfig({ CIPHERDEX_CLUSTER: 'staging:eu' })).toThrow(/CIPHERDEX_CLUSTER/);
    expect(loadConfig({ CIPHERDEX_CLUSTER: ' staging ' }).cluster).toBe('staging');
    expect(loadConfig({}).cluster).toBeNull();
  });
});

interface ClusterReplica {
  connections: ReplicaRedis;
  training: ReplicaTrainingEvents;
  notices: { announce(index: string): void };
  heardNotices: string[];
  heardStatuses: TrainingStatus[];
}

describe.skipIf(!redis.available)(`two clusters on one Redis${redis.available ? '' : ` (skipped: ${redis.reason})`}`, () => {
  const opened: { replica: ClusterReplica; iterator: AsyncIterableIterator<TrainingStatus> }[] = [];
  const statusKeys: string[] = [];

  afterEach(async () => {
    for (const { replica, iterator } of opened.splice(0)) {
      await iterator.return?.();
      await replica.training.events.close();
      await Promise.all([replica.connections.publisher.quit(), replica.connections.subscriber.quit()]);
    }
    const admin = new Redis(redis.url);
    if (statusKeys.length > 0) await admin.del(...statusKeys.splice(0));
    await admin.quit();
  });

  async function replica(names: RedisNames, origin: string, index: string): Promise<ClusterReplica> {
    const connections = {
      publisher: new Redis(redis.url, { maxRetriesPerRequest: null }),
      subscriber: new Redis(redis.url, { maxRetriesPerRequest: null }),
    };
    const heardNotices: string[] = [];
    const heardStatuses: TrainingStatus[] = [];
    const training = await createReplicaTrainingEvents(connections, names);
    const notices = await createRedisChangeNotices(connections, names, origin, (name) => heardNotices.push(name));
    const iterator = training.events.subscribe(index);
    const made = { connections, training, notices, heardNotices, heardStatuses };
    opened.push({ replica: made, iterator });
    void (async () => {
      for await (const status of iterator) heardStatuses.push(status);
    })();
    return made;
  }

  async function until(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  it('keeps change notices, training events and latest statuses inside each cluster', async () => {
    const index = `shared-name-${randomUUID()}`;
    const staging = redisNames(`staging-${randomUUID()}`);
    const production = redisNames(`production-${randomUUID()}`);
    statusKeys.push(staging.trainingStatus, production.trainingStatus);
    const [s1, s2] = [await replica(staging, 's1', index), await replica(staging, 's2', index)];
    const [p1, p2] = [await replica(production, 'p1', index), await replica(production, 'p2', index)];

    const stagingRun = queuedRun({ runId: 'staging-run', index, trigger: 'MANUAL', params: { nLists: 4, batchSize: 64, maxIters: 10, tolerance: 1e-4 }, vectorCount: 100 });
    s1.notices.announce(index);
    s1.training.events.publish(index, stagingRun);
    await s1.connections.publisher.ping();
    await s1.training.flush();
    await until(() => s2.heardNotices.includes(index) && s2.heardStatuses.length === 1, "staging's notice and event on its other replica");
    expect(s2.training.runs.latest(index)?.runId).toBe('staging-run');

    // Production's own traffic, published after staging's had reached Redis: once production's
    // replicas have heard it, anything of staging's that crossed would have arrived before it.
    const productionRun = { ...stagingRun, runId: 'production-run' };
    p2.notices.announce(index);
    p2.training.events.publish(index, productionRun);
    await p2.training.flush();
    await until(() => p1.heardNotices.includes(index) && p1.heardStatuses.length === 1 && p2.heardStatuses.length === 1, "production's marker");
    expect(p1.heardNotices).toEqual([index]);
    expect(p1.heardStatuses.map((status) => status.runId)).toEqual(['production-run']);
    expect(p2.heardNotices).toEqual([]);
    expect(p2.heardStatuses.map((status) => status.runId)).toEqual(['production-run']);
    expect(p1.training.runs.latest(index)?.runId).toBe('production-run');
    // And staging heard none of production's.
    await s1.connections.publisher.ping();
    expect(s1.heardNotices).toEqual([]);
    expect(s2.heardStatuses.map((status) => status.runId)).toEqual(['staging-run']);
    expect(s2.training.runs.latest(index)?.runId).toBe('staging-run');

    // A replica joining each cluster later loads only its own cluster's stored status.
    expect((await replica(staging, 's3', index)).training.runs.latest(index)?.runId).toBe('staging-run');
    expect((await replica(production, 'p3', index)).training.runs.latest(index)?.runId).toBe('production-run');
  });
});

describe.skipIf(!postgres.available)(`namespaces derived from PostgreSQL${postgres.available ? '' : ` (skipped: ${postgres.reason})`}`, () => {
  const services: CipherdexIndexService[] = [];
  const schemas: PostgresTestSchema[] = [];

  afterEach(async () => {
    await Promise.all(services.splice(0).map((service) => service.close()));
    await Promise.all(schemas.splice(0).map((schema) => schema.drop()));
  });

  async function serviceOn(schema: PostgresTestSchema, env: Record<string, string> = {}): Promise<CipherdexIndexService> {
    const config = loadConfig({ CIPHERDEX_DB_TYPE: 'postgres', CIPHERDEX_CONNECTION_STRING: schema.connectionString, AUTO_TRAIN_DISABLED: 'true', ...env });
    const service = await createIndexService(config, { sealWorkers: 0 });
    services.push(service);
    return service;
  }

  it('agrees across replicas of one schema, differs for another schema, and yields to CIPHERDEX_CLUSTER', async () => {
    const [first, second] = [await createPostgresTestSchema('cluster-a'), await createPostgresTestSchema('cluster-b')];
    schemas.push(first, second);
    const [a1, a2, b] = [await serviceOn(first), await serviceOn(first), await serviceOn(second)];
    expect(a1.redisNames.cluster).toMatch(/^pg-[0-9a-f]{16}$/);
    expect(a2.redisNames).toEqual(a1.redisNames);
    expect(b.redisNames.cluster).not.toBe(a1.redisNames.cluster);
    expect(b.redisNames.cluster).not.toBe(DEFAULT_CLUSTER);
    expect((await serviceOn(first, { CIPHERDEX_CLUSTER: 'pinned' })).redisNames.cluster).toBe('pinned');
  });
});
