// The failed-authentication limit shared through a real Redis: two replicas' limiters on one
// cluster namespace spend one budget (a spread of guesses gets the limit plus one, not twice the
// limit), another namespace keeps its own, and an unreachable Redis leaves each replica its own limit.
// Over real HTTP, two servers on one Redis and one cluster refuse an address that spread its
// wrong keys over both once the shared budget is spent.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createAuthFailureLimiter } from '../../src/server/auth-failure-limiter.js';
import { createSharedAuthFailureLimiter, type SharedAuthFailureLimiter } from '../../src/server/shared-auth-failure-limiter.js';
import { redisNames } from '../../src/service/index.js';
import { probeRedis } from '../support/services.js';
import { startTestServer, type TestServer } from './harness.js';

const redis = await probeRedis();
const LIMIT = 3;
const WINDOW_MS = 600_000;

describe.skipIf(!redis.available)(`shared failed-auth limit over Redis${redis.available ? '' : ` (skipped: ${redis.reason})`}`, () => {
  const opened: SharedAuthFailureLimiter[] = [];
  const prefixes: string[] = [];

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((limiter) => limiter.close()));
    const admin = new Redis(redis.url);
    for (const prefix of prefixes.splice(0)) {
      const keys = await admin.keys(`${prefix}*`);
      if (keys.length > 0) await admin.del(...keys);
    }
    await admin.quit();
  });

  async function replica(cluster: string, redisUrl = redis.url): Promise<SharedAuthFailureLimiter> {
    const keyPrefix = redisNames(cluster).authFailurePrefix;
    prefixes.push(keyPrefix);
    const limiter = createSharedAuthFailureLimiter({
      local: createAuthFailureLimiter({ maxFailures: LIMIT, windowMs: WINDOW_MS }),
      redisUrl,
      keyPrefix,
      maxFailures: LIMIT,
      windowMs: WINDOW_MS,
    });
    opened.push(limiter);
    return limiter;
  }

  /** Guesses from `address` on each replica in turn until every replica refuses; how many were compared. */
  async function spreadGuesses(replicas: SharedAuthFailureLimiter[], address: string): Promise<number> {
    let compared = 0;
    for (let turn = 0; turn < 100; turn++) {
      const limiter = replicas[turn % replicas.length];
      if (replicas.every((r) => r.retryAfterMs(address) > 0)) return compared;
      if (limiter.retryAfterMs(address) > 0) continue;
      compared += 1;
      limiter.recordFailure(address);
      await limiter.flush();
    }
    throw new Error('the replicas never refused');
  }

  async function sharedCount(keyPrefix: string, address: string): Promise<number> {
    const admin = new Redis(redis.url);
    const value = await admin.get(keyPrefix + address);
    await admin.quit();
    return Number(value ?? 0);
  }

  /** A count sent before the limiter's connection is ready is dropped (no offline queue): wait until one lands. */
  async function connected(limiter: SharedAuthFailureLimiter, keyPrefix: string): Promise<void> {
    const address = `ready-${randomUUID()}`;
    for (let i = 0; i < 200; i++) {
      limiter.recordFailure(address);
      await limiter.flush();
      if ((await sharedCount(keyPrefix, address)) > 0) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error('the limiter never reached Redis');
  }

  it('spends one budget across two replicas of a cluster, and none of another cluster', async () => {
    const cluster = `limit-${randomUUID()}`;
    const prefix = redisNames(cluster).authFailurePrefix;
    const [a, b] = [await replica(cluster), await replica(cluster)];
    await Promise.all([connected(a, prefix), connected(b, prefix)]);
    const address = `198.51.100.${Math.floor(Math.random() * 200)}-${randomUUID()}`;

    // Alone, each replica would compare LIMIT guesses (2 x LIMIT in all); shared, the second
    // replica learns the total with its first counted failure after the limit.
    expect(await spreadGuesses([a, b], address)).toBe(LIMIT + 1);
    expect(await sharedCount(prefix, address)).toBe(LIMIT + 1);
    const wait = a.retryAfterMs(address);
    expect(wait).toBeGreaterThan(WINDOW_MS - 60_000);
    expect(wait).toBeLessThanOrEqual(WINDOW_MS);

    // Another cluster on the same Redis counts the same address from zero.
    const otherCluster = `other-${randomUUID()}`;
    const other = await replica(otherCluster);
    await connected(other, redisNames(otherCluster).authFailurePrefix);
    expect(other.retryAfterMs(address)).toBe(0);
    other.recordFailure(address);
    await other.flush();
    expect(await sharedCount(redisNames(otherCluster).authFailurePrefix, address)).toBe(1);
    expect(other.retryAfterMs(address)).toBe(0);
  });

  it('keeps each replica to its own limit while Redis is unreachable', async () => {
    const limiter = await replica(`down-${randomUUID()}`, 'redis://127.0.0.1:1');
    const address = `203.0.113.9-${randomUUID()}`;
    for (let i = 0; i < LIMIT; i++) {
      expect(limiter.retryAfterMs(address)).toBe(0);
      limiter.recordFailure(address);
    }
    await limiter.flush();
    expect(limiter.retryAfterMs(address)).toBeGreaterThan(0);
  });
});

describe.skipIf(!redis.available)(`shared failed-auth limit on two real servers${redis.available ? '' : ` (skipped: ${redis.reason})`}`, () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  it('refuses on both servers once wrong keys spread over them spent the one budget', async () => {
    const cluster = `http-${randomUUID()}`;
    const env = { CIPHERDEX_CLUSTER: cluster, REDIS_URL: redis.url, AUTO_TRAIN_DISABLED: 'true', AUTH_FAILURE_LIMIT: String(LIMIT), AUTH_FAILURE_WINDOW_SECONDS: '300' };
    servers.push(await startTestServer({ env }), await startTestServer({ env }));
    const admin = new Redis(redis.url);
    const key = `${redisNames(cluster).authFailurePrefix}127.0.0.1`;
    try {
      const statuses: number[] = [];
      for (let turn = 0; turn < 4 * LIMIT; turn++) {
        const server = servers[turn % 2];
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': `wrong-${turn}` },
          body: JSON.stringify({ query: '{ indexes }' }),
        });
        statuses.push(response.status);
        // Each failure reaches Redis before the next guess (the count is sent after the answer).
        const failures = statuses.filter((status) => status === 401).length;
        for (let i = 0; i < 200 && Number(await admin.get(key)) < failures; i++) await new Promise((resolve) => setTimeout(resolve, 5));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      // Unshared, each server would answer LIMIT guesses (2 x LIMIT 401s); shared, LIMIT + 1 at most.
      expect(statuses.filter((status) => status === 401).length).toBe(LIMIT + 1);
      expect(statuses.slice(-2)).toEqual([429, 429]);
      expect(Number(await admin.get(key))).toBe(LIMIT + 1);
    } finally {
      await admin.del(key);
      await admin.quit();
    }
  });
});
