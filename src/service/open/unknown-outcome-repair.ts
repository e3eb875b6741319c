// A write that failed because the store became unreachable while it was in flight has an unknown
// outcome: its commit may have landed and only the reply been lost. Memory here was left as it
// was, and on a shared store this replica skips its own writes when it catches up on the change
// log, so it could serve the old items until the index is reloaded. Instead, the items the write
// touched are read back from the store once it answers again (with backoff, under the write lock)
// and memory is set to what the store holds. Other replicas need nothing: they follow the log.

import type { Store } from '../../storage/index.js';
import type { OpenIndex } from './open-index.js';
import { refreshFromStore } from './store-refresh.js';

/** Waits before each attempt: about 3 minutes in all, after which a reload of the index is what corrects memory. */
const DELAYS_MS = [200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000, 60_000];

export function repairAfterUnknownOutcome(
  store: Store,
  open: OpenIndex,
  touched: ReadonlyArray<{ id: string; token: Buffer }>,
  delaysMs: readonly number[] = DELAYS_MS,
): void {
  const items = touched.map(({ id, token }) => ({ id, token }));
  const attempt = (n: number): void => {
    const timer = setTimeout(() => {
      if (open.closed) return;
      open.lock
        .run(async () => {
          if (!open.closed) await refreshFromStore(store, open, items);
        })
        .catch(() => {
          if (n + 1 < delaysMs.length) attempt(n + 1);
        });
    }, delaysMs[n]);
    timer.unref();
  };
  if (items.length > 0) attempt(0);
}
