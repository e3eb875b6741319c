// What a replica needs to share a PostgreSQL store with other replicas, assembled from the
// configuration: the store wrapped so its writes are announced, the sync that applies other
// replicas' writes to the indexes open here, training leases, and, with REDIS_URL, the Redis
// connections that carry change notices and training events (with every run's latest status).
// Without Redis the replicas still converge (the periodic check) and train one at a time, but
// trainingStatus only shows runs of the replica it is asked.

import type { Config } from '../../config.js';
import type { ReplicationStore, Store } from '../../storage/index.js';
import { AnnouncingStore } from './announcing-store.js';
import { createRedisChangeNotices, type ChangeNotices } from './change-notices.js';
import type { RedisNames } from './cluster-namespace.js';
import { ReplicaSync } from './replica-sync.js';
import { closeReplicaRedis, connectReplicaRedis, type ReplicaRedis } from './replica-redis.js';
import { createReplicaTrainingEvents, type ReplicaTrainingEvents } from './replica-training-events.js';
import type { TrainingEventBus } from '../training/training-events.js';
import { TrainingLeases } from './training-lease.js';
import type { TrainingScheduler } from '../training/training-scheduler.js';
import { startReplicaTrainingControl, type ReplicaTrainingControl } from './replica-training-control.js';

export interface Replication {
  /** The store the service writes through. */
  store: Store;
  sync: ReplicaSync;
  /** Training events over Redis with every replica's latest statuses; null without REDIS_URL. */
  training: ReplicaTrainingEvents | null;
  /** Created once the service has chosen its event bus (FAILED for abandoned runs goes there). */
  leases(events: TrainingEventBus): TrainingLeases;
  /** Answers other replicas' forwarded training requests for `scheduler`'s runs and forwards ours; null without REDIS_URL. */
  control(scheduler: TrainingScheduler): Promise<ReplicaTrainingControl | null>;
  /** Stops syncing, releases held leases and closes the Redis connections (the store stays open). */
  close(): Promise<void>;
}

export async function startReplication(
  config: Pick<Config, 'redisUrl' | 'replicaPollMs' | 'trainingLeaseMs'> & Partial<Pick<Config, 'redisTimeouts'>>,
  store: Store,
  replication: ReplicationStore,
  /** The cluster's Redis names (cluster-namespace.ts); used with REDIS_URL. */
  names: RedisNames,
): Promise<Replication> {
  const sync = new ReplicaSync({ store, replication, pollMs: config.replicaPollMs });
  let redis: ReplicaRedis | null = null;
  let training: ReplicaTrainingEvents | null = null;
  let notices: ChangeNotices | null = null;
  if (config.redisUrl !== null) {
    redis = await connectReplicaRedis(config.redisUrl, config.redisTimeouts);
    try {
      training = await createReplicaTrainingEvents(redis, names);
      notices = await createRedisChangeNotices(redis, names, replication.origin, (index, revokedGrant) =>
        revokedGrant === null ? sync.notify(index) : sync.forgetGrant(index, revokedGrant),
      );
    } catch (error) {
      void closeReplicaRedis(redis, 'now');
      throw error;
    }
  }
  const announced = new AnnouncingStore(store, {
    changed: (index) => notices?.announce(index),
    revokedGrant: (index, grantId) => notices?.announce(index, grantId),
    savedModel: (index, version) => sync.savedModel(index, version),
  });
  let leases: TrainingLeases | null = null;
  let control: ReplicaTrainingControl | null = null;
  return {
    store: announced,
    sync,
    training,
    leases(events) {
      leases ??= new TrainingLeases({ store: replication, leaseMs: config.trainingLeaseMs, events, runs: training?.runs ?? null, flush: training?.flush });
      return leases;
    },
    async control(scheduler) {
      if (redis === null) return null;
      control ??= await startReplicaTrainingControl(redis, names, scheduler);
      return control;
    },
    async close() {
      control?.close();
      await sync.close();
      await leases?.close();
      if (redis !== null) await closeReplicaRedis(redis);
    },
  };
}
