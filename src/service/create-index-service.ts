// Builds the index service from the configuration: opens the configured store and the training
// event bus (Redis-backed when REDIS_URL is set, so every replica sees every run) unless given.
// On a store several replicas can share (PostgreSQL), it also follows the other replicas' writes
// and trains under database leases (replication.ts).

import { RECORD_BUCKET_BYTES } from './records/item-codec.js';
import { availableParallelism } from 'node:os';
import type { Config } from '../config.js';
import { openStore, type Store } from '../storage/index.js';
import { IndexCache } from './open/index-cache.js';
import { resolveRedisNames } from './replication/cluster-namespace.js';
import { CipherdexIndexService } from './index-service.js';
import { SealWorkers } from './sealing/seal-workers.js';
import { createLocalTrainingEvents, type TrainingEventBus } from './training/training-events.js';
import { TrainingRuns } from './training/training-runs.js';
import { measuredStore } from './measured-store.js';
import { recordTrainingRun } from './training/run-history.js';
import type { ServiceMetrics } from './service-metrics.js';
import { TrainingScheduler } from './training/training-scheduler.js';
import { SegmentKeeper } from './segments/segment-keeper.js';

/** Sealing workers beside the main thread: one fewer than the cores, at most 3 (0 on one core). */
export function defaultSealWorkers(): number {
  return Math.min(3, availableParallelism() - 1);
}

export interface IndexServiceDeps {
  /** Used as is and left open by close(); opened from `config` (and closed by close()) when absent. */
  store?: Store;
  /** Likewise: created from `config.redisUrl` (or in-process) when absent. */
  events?: TrainingEventBus;
  /** Worker threads that share the sealing of large upserts; defaultSealWorkers() when absent, 0 for none. */
  sealWorkers?: number;
  /** Told of searches, upserts, finished runs and every store call; nothing is measured when absent. */
  metrics?: ServiceMetrics;
}

export async function createIndexService(config: Config, deps: IndexServiceDeps = {}): Promise<CipherdexIndexService> {
  const opened = deps.store ?? (await openStore(config));
  let replication;
  let names;
  try {
    names = await resolveRedisNames(config, opened.replication ?? null);
    // Replication and Redis load only when configured: the embedded default starts without them.
    replication = opened.replication ? await (await import('./replication/replication.js')).startReplication(config, opened, opened.replication, names) : null;
  } catch (error) {
    if (deps.store === undefined) await opened.close();
    throw error;
  }
  const unmeasured = replication?.store ?? opened;
  const store = deps.metrics ? measuredStore(unmeasured, deps.metrics) : unmeasured;
  let events: TrainingEventBus;
  try {
    events = deps.events ?? replication?.training?.events ?? (config.redisUrl ? await (await import('./replication/replica-training-events.js')).openRedisTrainingEvents(config.redisUrl, names, config.redisTimeouts) : createLocalTrainingEvents());
  } catch (error) {
    await replication?.close();
    if (deps.store === undefined) await opened.close();
    throw error;
  }
  const cache = new IndexCache({
    store,
    idleEvictMs: config.idleEvictMs,
    recordBucket: config.padRecords ? RECORD_BUCKET_BYTES : 0,
    vectorCacheBytes: config.vectorCacheBytes,
    memoryBudgetBytes: config.memoryBudgetBytes,
    sealWorkers: new SealWorkers(deps.sealWorkers ?? defaultSealWorkers()),
    onOpen: replication ? (open, at) => replication.sync.track(open, at) : undefined,
    segments: config.segments ? new SegmentKeeper({ store }) : null,
  });
  replication?.sync.start(cache);
  const scheduler = new TrainingScheduler({ maxConcurrent: config.maxConcurrentTrainings, events, remote: replication?.training?.runs, replica: config.replicaName });
  let control;
  try {
    control = replication ? await replication.control(scheduler) : null;
  } catch (error) {
    await scheduler.close();
    await replication?.close();
    if (deps.events === undefined) await events.close();
    if (deps.store === undefined) await opened.close();
    throw error;
  }
  return new CipherdexIndexService({
    config,
    store,
    events,
    cache,
    scheduler,
    control,
    training: new TrainingRuns({
      config,
      store,
      scheduler,
      leases: replication ? replication.leases(events) : null,
      onRunEnded: deps.metrics && ((run) => deps.metrics?.trainingEnded(run)),
      recordRun: (open, run) => recordTrainingRun(store, open, run),
    }),
    owned: { store: deps.store === undefined, events: deps.events === undefined },
    replication: replication && { close: () => replication.close() },
    metrics: deps.metrics,
    redisNames: names,
  });
}
