// Builds the index service from the configuration: opens the configured store and the training
// event bus (Redis-backed when REDIS_URL is set, so every replica sees every run) unless given.

import type { Config } from '../config.js';
import { openStore, type Store } from '../storage/index.js';
import { IndexCache } from './index-cache.js';
import { CipherdexIndexService } from './index-service.js';
import { createLocalTrainingEvents, createRedisTrainingEvents, type TrainingEventBus } from './training-events.js';
import { TrainingScheduler } from './training-scheduler.js';

export interface IndexServiceDeps {
  /** Used as is and left open by close(); opened from `config` (and closed by close()) when absent. */
  store?: Store;
  /** Likewise: created from `config.redisUrl` (or in-process) when absent. */
  events?: TrainingEventBus;
}

export async function createIndexService(config: Config, deps: IndexServiceDeps = {}): Promise<CipherdexIndexService> {
  const store = deps.store ?? (await openStore(config));
  const events = deps.events ?? (config.redisUrl ? createRedisTrainingEvents(config.redisUrl) : createLocalTrainingEvents());
  return new CipherdexIndexService({
    config,
    store,
    events,
    cache: new IndexCache({ store, idleEvictMs: config.idleEvictMs }),
    scheduler: new TrainingScheduler({ maxConcurrent: config.maxConcurrentTrainings, events }),
    owned: { store: deps.store === undefined, events: deps.events === undefined },
  });
}
