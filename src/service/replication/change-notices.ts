// Tells the other replicas that an index changed, right after this replica's write is durable,
// over one Redis channel. A notice only says "look": the store's change log says what changed, so
// a lost notice (a crash between commit and publish, a Redis outage) costs latency until the next
// periodic check, never correctness.

import type { ReplicaRedis } from './replica-redis.js';

export const CHANGE_NOTICE_CHANNEL = 'cipherdex:index-changes';

export interface ChangeNotices {
  announce(index: string): void;
}

/**
 * Subscribes before resolving; `onNotice` hears the index named by each notice of another
 * replica (`origin` tells ours apart).
 */
export async function createRedisChangeNotices(redis: ReplicaRedis, origin: string, onNotice: (index: string) => void): Promise<ChangeNotices> {
  redis.subscriber.on('message', (channel: string, message: string) => {
    if (channel !== CHANGE_NOTICE_CHANNEL) return;
    const notice = parseNotice(message);
    if (notice !== null && notice.origin !== origin) onNotice(notice.index);
  });
  await redis.subscriber.subscribe(CHANGE_NOTICE_CHANNEL);
  return {
    announce(index) {
      void redis.publisher.publish(CHANGE_NOTICE_CHANNEL, JSON.stringify({ origin, index })).catch(() => {});
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
