// The failed-authentication limit shared by every replica on one Redis (REDIS_URL), so N replicas
// do not allow N times the guesses. Each replica keeps its own exact, synchronous limiter
// (auth-failure-limiter.ts: its check-compare-count without yielding is what stops a burst of
// concurrent guesses), and counts every failure in Redis too, under the cluster namespace, in one
// window per address. Redis answers each count with the cluster-wide total and the window's end,
// which the replica remembers: an address refused anywhere is refused here once this replica has
// counted one failure of it, so a spread of guesses over N replicas gets at most N - 1 beyond the
// limit (plus those in flight at once). The check itself never waits for Redis; with Redis
// unreachable, each replica still enforces its own limit.

import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { redisTimeoutOptions, type RedisTimeouts } from '../service/replication/redis-timeouts.js';
import type { AuthFailureLimiter } from './auth-failure-limiter.js';

export interface SharedAuthFailureLimiterOptions {
  /** This process's limiter (same limit and window); it decides alone while Redis is unreachable. */
  local: AuthFailureLimiter;
  redisUrl: string;
  /** Connect and command timeouts; the defaults when absent. */
  redisTimeouts?: RedisTimeouts;
  /** Prefix of the counters' keys: the cluster's RedisNames.authFailurePrefix. */
  keyPrefix: string;
  maxFailures: number;
  windowMs: number;
  /** Addresses whose cluster-wide count is remembered at once. */
  maxTrackedAddresses?: number;
  now?: () => number;
}

export interface SharedAuthFailureLimiter extends AuthFailureLimiter {
  /** Resolves once every failure counted so far has been answered by Redis (or failed). */
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** INCR that starts the window on the first failure; answers the count and the ms left in the window. */
const COUNT_FAILURE = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local left = redis.call('PTTL', KEYS[1])
if left < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); left = tonumber(ARGV[1]) end
return {count, left}
`;

interface SharedWindow {
  failures: number;
  endsAt: number;
}

export function createSharedAuthFailureLimiter(options: SharedAuthFailureLimiterOptions): SharedAuthFailureLimiter {
  const { local, keyPrefix, maxFailures, windowMs, maxTrackedAddresses = 100_000, now = Date.now } = options;
  // No offline queue and one retry: a count that cannot reach Redis now is dropped, never
  // delivered late into a later window, and nothing waits on an outage.
  // Required here, not imported: a server without REDIS_URL never loads ioredis (a faster start).
  const { Redis: RedisClient } = createRequire(import.meta.url)('ioredis') as typeof import('ioredis');
  const redis: Redis = new RedisClient(options.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, ...redisTimeoutOptions(options.redisTimeouts) });
  redis.on('error', () => {});
  const shared = new LRUCache<string, SharedWindow>({ max: maxTrackedAddresses });
  const pending = new Set<Promise<void>>();

  const sharedRetryAfterMs = (address: string, at: number): number => {
    const window = shared.get(address);
    if (window === undefined) return 0;
    if (window.endsAt <= at) {
      shared.delete(address);
      return 0;
    }
    return window.failures >= maxFailures ? window.endsAt - at : 0;
  };

  const count = (address: string): void => {
    const sent = redis
      .eval(COUNT_FAILURE, 1, keyPrefix + address, windowMs)
      .then((reply) => {
        const [failures, left] = reply as [number, number];
        const known = shared.get(address);
        // Replies to concurrent counts may arrive out of order: the highest count is the latest.
        if (known === undefined || known.failures < failures || known.endsAt <= now()) shared.set(address, { failures, endsAt: now() + left });
      })
      .catch(() => {})
      .finally(() => pending.delete(sent));
    pending.add(sent);
  };

  return {
    retryAfterMs(address) {
      if (maxFailures === 0) return 0;
      return Math.max(local.retryAfterMs(address), sharedRetryAfterMs(address, now()));
    },
    recordFailure(address) {
      if (maxFailures === 0) return;
      local.recordFailure(address);
      count(address);
    },
    get trackedAddresses() {
      return local.trackedAddresses;
    },
    async flush() {
      await Promise.all([...pending]);
    },
    async close() {
      await Promise.all([...pending]);
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
