// The two Redis connections a process uses for replication and training events (REDIS_URL): one
// that publishes and stores, one in subscriber mode. A process does not start without the Redis it
// was told to use, as it does not without its database.

import { Redis } from 'ioredis';
import { redisTimeoutOptions, type RedisTimeouts } from './redis-timeouts.js';

export const REDIS_START_TIMEOUT_MS = 10_000;

export interface ReplicaRedis {
  /** Publishes and stores; commands wait out outages (maxRetriesPerRequest: null) up to the command timeout. */
  publisher: Redis;
  /** In subscriber mode once a subscription is made. */
  subscriber: Redis;
}

/** Both connections, once both are ready; rejects (and disconnects) when Redis does not answer in time. */
export async function connectReplicaRedis(redisUrl: string, timeouts?: RedisTimeouts): Promise<ReplicaRedis> {
  const connect = (): Redis => {
    // Commands wait out a reconnection, but never longer than the command timeout each.
    const client = new Redis(redisUrl, { maxRetriesPerRequest: null, ...redisTimeoutOptions(timeouts) });
    // Reconnection is automatic; ioredis would print every failed attempt otherwise.
    client.on('error', () => {});
    return client;
  };
  const redis = { publisher: connect(), subscriber: connect() };
  try {
    await Promise.all([ready(redis.publisher), ready(redis.subscriber)]);
  } catch (error) {
    void closeReplicaRedis(redis, 'now');
    throw error;
  }
  return redis;
}

/** Quits both connections (after their pending commands), or drops them at once with 'now'. */
export async function closeReplicaRedis(redis: ReplicaRedis, how: 'gracefully' | 'now' = 'gracefully'): Promise<void> {
  if (how === 'now') {
    redis.publisher.disconnect();
    redis.subscriber.disconnect();
    return;
  }
  await Promise.allSettled([redis.publisher.quit(), redis.subscriber.quit()]);
}

async function ready(client: Redis): Promise<void> {
  if (client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      timer = setTimeout(() => reject(new Error(`Redis at REDIS_URL did not answer within ${REDIS_START_TIMEOUT_MS / 1000} s`)), REDIS_START_TIMEOUT_MS);
    });
  } finally {
    clearTimeout(timer);
  }
}
