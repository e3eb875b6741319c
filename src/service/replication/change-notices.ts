// Tells the other replicas that an index changed, right after this replica's write is durable,
// over one Redis channel. A notice only says "look": the store's change log says what changed, so
// a lost notice (a crash between commit and publish, a Redis outage) costs latency until the next
// periodic check, never correctness.

import type { RedisNames } from './cluster-namespace.js';
import type { ReplicaRedis } from './replica-redis.js';

export interface ChangeNotices {
  /** With `revokedGrant`, the notice says that grant of the index was revoked (replicas forget it). */
  announce(index: string, revokedGrant?: string): void;
}

/**
 * Subscribes before resolving; `onNotice` hears the index named by each notice of another
 * replica of the cluster `names` belongs to (`origin` tells ours apart).
 */
export async function createRedisChangeNotices(
  redis: ReplicaRedis,
  names: Pick<RedisNames, 'changeNotices'>,
  origin: string,
  onNotice: (index: string, revokedGrant: string | null) => void,
): Promise<ChangeNotices> {
  const channel = names.changeNotices;
  redis.subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return;
    const notice = parseNotice(message);
    if (notice !== null && notice.origin !== origin) onNotice(notice.index, notice.grant);
  });
  await redis.subscriber.subscribe(channel);
  return {
    announce(index, revokedGrant) {
      const notice = revokedGrant === undefined ? { origin, index } : { origin, index, grant: revokedGrant };
      void redis.publisher.publish(channel, JSON.stringify(notice)).catch(() => {});
    },
  };
}

function parseNotice(message: string): { origin: string; index: string; grant: string | null } | null {
  try {
    const value: unknown = JSON.parse(message);
    if (typeof value !== 'object' || value === null) return null;
    const { origin, index, grant } = value as Record<string, unknown>;
    if (typeof origin !== 'string' || typeof index !== 'string') return null;
    return { origin, index, grant: typeof grant === 'string' ? grant : null };
  } catch {
    return null;
  }
}
