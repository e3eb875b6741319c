// How long a Redis connection or command may take, so a Redis that is gone silently (black-holed:
// no RST, no reply) fails commands within a bound instead of holding them (and anything awaiting
// them) forever; ioredis reconnects by itself once the network returns.

import type { RedisOptions } from 'ioredis';

export interface RedisTimeouts {
  /** Opening a connection (ioredis connectTimeout); a connection that takes longer is retried. */
  connectMs: number;
  /** A command without a reply in this long fails (ioredis commandTimeout). */
  commandMs: number;
  /** TCP keep-alive, starting after this much idleness; 0 turns it off. */
  keepAliveMs: number;
}

export const DEFAULT_REDIS_TIMEOUTS: Readonly<RedisTimeouts> = { connectMs: 5000, commandMs: 5000, keepAliveMs: 10_000 };

/** The ioredis options for these timeouts. */
export function redisTimeoutOptions(timeouts: RedisTimeouts = DEFAULT_REDIS_TIMEOUTS): RedisOptions {
  return { connectTimeout: timeouts.connectMs, commandTimeout: timeouts.commandMs, keepAlive: timeouts.keepAliveMs };
}
