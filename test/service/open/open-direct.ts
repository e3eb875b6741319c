// Opens an index outside any service, on its own store connection, as a restart would: the tests
// of opens, segment sets and rollback protection inspect the OpenIndex this gives directly.
import { unwrapDataKey } from '../../../src/crypto/index.js';
import { IndexKeyCredential } from '../../../src/service/access/credentials.js';
import { loadOpenIndex } from '../../../src/service/open/index-loader.js';
import type { OpenIndex } from '../../../src/service/open/open-index.js';
import { StoredItems } from '../../../src/service/records/stored-items.js';
import { VectorCache } from '../../../src/service/records/vector-cache.js';
import type { SealWorkers } from '../../../src/service/sealing/seal-workers.js';
import type { Store } from '../../../src/storage/index.js';
import type { ServiceStoreHarness } from '../service-harness.js';

export interface DirectOpen {
  store: Store;
  open: OpenIndex;
  /** Closes the index and its store connection. */
  close(): Promise<void>;
}

/** Opens `index` with its index `key` (base64), through `workers` when given. */
export async function openDirect(harness: ServiceStoreHarness, index: string, key: string, workers: SealWorkers | null = null): Promise<DirectOpen> {
  const store = await harness.openStore();
  const stored = (await store.getIndex(index))!;
  const keyBytes = Buffer.from(key, 'base64');
  const reads = new StoredItems(store, new VectorCache(1 << 20));
  const open = await loadOpenIndex(store, stored, unwrapDataKey(keyBytes, stored.wrappedDataKey, index), new IndexKeyCredential(keyBytes), workers, 0, reads);
  return {
    store,
    open,
    close: async () => {
      open.close();
      await store.close();
    },
  };
}
