// Tells the other replicas that an index changed, right after this replica's write is durable,
// over one Redis channel. A notice only says "look": the store's change log says what changed, so
// a lost notice (a crash between commit and publish, a Redis outage) costs latency until the next
// periodic check, never correctness.

import type { RedisNames } from './cluster-namespace.js';
import type { ReplicaRedis } from './replica-redis.js';

export interface ChangeNotices {
  announce(index: string): void;
}

/**
 * Subscribes before resolving; `onNotice` hears the index named by each notice of another
 * replica of the cluster `names` belongs to (`origin` tells ours apart).
 */
export async function createRedisChangeNotices(
  redis: ReplicaRedis,
  names: Pick<RedisNames, 'changeNotices'>,
  origin: string,
  onNotice: (index: string) => void,
): Promise<ChangeNotices> {
  const channel = names.changeNotices;
  redis.subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    const notice = parseNotice(message);
    if (notice !== null && notice.origin !== origin) onNotice(notice.index);
  });
  await redis.subscriber.subscribe(channel);
  return {
    announce(index) {
      void redis.publisher.publish(channel, JSON.stringify({ origin, index })).catch(() => {});
    },
  };
}

function parseNotice(message: string): { origin: string; index: string } | null {
  try {
    const value: unknown = JSON.parse(message);
    if (typeof value !== 'object' || value === null) return null;
    const { origin, index } = value as Record<string, unknown>;
    return typeof origin === 'string' && typeof index === 'string' ? { origin, index } : null;
  } catch {
    return null;
  }
}
