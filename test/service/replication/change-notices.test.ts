// Change notices over real Redis: a notice from another replica names the index, one's own
// notices and anything else on the channel are ignored.

import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createRedisChangeNotices } from '../../../src/service/replication/change-notices.js';
import { redisNames } from '../../../src/service/replication/cluster-namespace.js';
import type { ReplicaRedis } from '../../../src/service/replication/replica-redis.js';
import { probeRedis } from '../../support/services.js';

const redis = await probeRedis();

describe.skipIf(!redis.available)(`change notices over Redis${redis.available ? '' : ` (skipped: ${redis.reason})`}`, () => {
  const connections: ReplicaRedis[] = [];

  afterEach(async () => {
    await Promise.all(connections.splice(0).flatMap((c) => [c.publisher.quit(), c.subscriber.quit()]));
  });

  function connect(): ReplicaRedis {
    const made = { publisher: new Redis(redis.url), subscriber: new Redis(redis.url) };
    connections.push(made);
    return made;
  }

  it("hears other replicas' notices only", async () => {
    const heardByA: string[] = [];
    const heardByB: string[] = [];
    const index = `notices-${randomUUID()}`;
    const names = redisNames(`test-${randomUUID()}`);
    const CHANGE_NOTICE_CHANNEL = names.changeNotices;
    const a = await createRedisChangeNotices(connect(), names, 'replica-a', (name) => heardByA.push(name));
    const b = await createRedisChangeNotices(connect(), names, 'replica-b', (name) => heardByB.push(name));
    const stranger = connect().publisher;
    await stranger.publish(CHANGE_NOTICE_CHANNEL, 'not json');
    await stranger.publish(CHANGE_NOTICE_CHANNEL, JSON.stringify({ origin: 7, index }));
    a.announce(index);
    b.announce(`${index}-b`);
    // A marker from a third origin: once both have heard it, everything before it was delivered.
    await stranger.publish(CHANGE_NOTICE_CHANNEL, JSON.stringify({ origin: 'replica-c', index: 'marker' }));
    const deadline = Date.now() + 10_000;
    while (!(heardByA.includes('marker') && heardByB.includes('marker')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    // Other test runs may share this Redis: only this test's index names count.
    expect(heardByA.filter((name) => name.startsWith(index))).toEqual([`${index}-b`]);
    expect(heardByB.filter((name) => name.startsWith(index))).toEqual([index]);
  });
});
