// The fenced model save through the service: a replica whose run passed its last lease check and
// then lost the lease before its save reached the database (the lease reaped and another replica's
// run trained and saved meanwhile) has its save refused by the database, its run ends FAILED with
// TRAINING_LEASE_FENCED's reason, and both replicas keep serving the newer model. The moment
// between the check and the save is held open with a store whose saveModel waits for the test.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Config } from '../../../src/config.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import type { CipherdexIndexService } from '../../../src/service/index-service.js';
import { PostgresStore } from '../../../src/storage/postgres-store.js';
import type { Store } from '../../../src/storage/index.js';
import { probePostgres, probeRedis, type PostgresTestSchema } from '../../support/services.js';
import { seededVectors } from '../reference-search.js';
import { newKey } from '../service-harness.js';
import { eventually } from '../../support/eventually.js';
import { useReplicaCluster } from './replica-cluster.js';

const postgres = await probePostgres();
const redis = await probeRedis();
const DIM = 8;

/** The store, with saveModel held at its start until release() (reached() says it got there). */
function heldSaves(store: Store): { store: Store; reached: Promise<void>; release: () => void } {
  let reachedResolve!: () => void;
  const reached = new Promise<void>((resolve) => (reachedResolve = resolve));
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const held = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (property === 'saveModel') {
        return async (...args: Parameters<Store['saveModel']>) => {
          reachedResolve();
          await gate;
          return target.saveModel(...args);
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: held, reached, release };
}

describe.skipIf(!postgres.available || !redis.available)('fenced model saves across replicas', () => {
  const stores: Store[] = [];
  // Registered first, so it runs after the cluster's own clean-up has closed the services.
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
  });
  const cluster = useReplicaCluster('fenced_save', redis.url, { REPLICA_POLL_MS: '100' });
  const { services } = cluster;
  const key = newKey();
  let schema: PostgresTestSchema;
  let config: Config;
  let name: string;
  beforeEach(() => void ({ schema, config, name } = cluster));

  it("refuses a stale trainer's save after another replica trained, reports its run FAILED, and keeps the newer model everywhere", async () => {
    const opened = await PostgresStore.open(schema.connectionString);
    stores.push(opened);
    const held = heldSaves(opened);
    const a = await createIndexService(config, { store: held.store, sealWorkers: 0 });
    services.push(a);
    const b = await createIndexService(config, { sealWorkers: 0 });
    services.push(b);
    await a.createIndex(name, key, { dimension: DIM });
    await a.upsert(name, key, seededVectors(600, DIM, 1).map((vector, i) => ({ id: `v${i}`, vector })));
    await eventually(() => b.describeIndex(name, key), (info) => info.vectorCount === 600, 'B to catch up');

    const stale = await a.train(name, key, { nLists: 8 });
    await held.reached; // A passed its last check before the save: only the database can stop it now
    // A's lease is lost as a paused replica's would be: gone from the database (expired and reaped).
    await schema.query('DELETE FROM training_leases WHERE run_id = $1', [stale.runId]);
    const newer = await b.train(name, key, { nLists: 4, wait: true });
    expect(newer.phase).toBe('COMPLETED');

    held.release();
    const ended = await a.waitForRun(stale.runId);
    expect(ended.phase).toBe('FAILED');
    expect(ended.message).toMatch(/lost the training lease .* the save was refused/);
    expect((await opened.getIndex(name))!.modelVersion).toBe(1);
    for (const replica of [a, b]) {
      await eventually(() => replica.describeIndex(name, key), (info) => info.isTrained && info.nLists === 4, 'the newer model on every replica');
    }
    const query = seededVectors(1, DIM, 7)[0];
    const [onA] = await a.search(name, key, [query], { topK: 5, nProbes: 4 });
    const [onB] = await b.search(name, key, [query], { topK: 5, nProbes: 4 });
    expect(onA.hits).toEqual(onB.hits);
  });
});
