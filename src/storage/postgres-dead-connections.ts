// Once one pooled connection is found dead (no reply within the query timeout, or broken), the
// pool's idle connections went over the same network and are most likely dead too: they are
// discarded at once, so that after the network returns the next requests open fresh connections
// instead of each losing another query timeout on a stale one.

import type pg from 'pg';
import { isLostConnection } from './postgres-timeouts.js';

export function discardIdleConnectionsOnLoss(pool: pg.Pool): void {
  const idle = new Set<pg.PoolClient>();
  pool.on('acquire', (client) => idle.delete(client));
  pool.on('remove', (client) => idle.delete(client));
  // pg-pool emits 'release' with the error a client was released with (pool.query passes the
  // query's error; inTransaction and scanItems pass a lost connection's).
  pool.on('release', (error: Error | undefined, client) => {
    if (!error) {
      idle.add(client);
      return;
    }
    idle.delete(client);
    if (!isLostConnection(error)) return;
    const stale = [...idle];
    idle.clear();
    // An idle client's 'error' is how pg-pool learns that it died: it removes and ends it.
    for (const client of stale) client.emit('error', new Error('Connection terminated: discarded after another connection was lost'));
  });
}
