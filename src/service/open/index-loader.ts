// Opens an index from the store: decrypts its configuration, every item record and its trained
// model, and builds the in-memory index from them. Any record that fails authentication stops
// the load with an IntegrityError naming the record kind; nothing half-loaded is kept.

import { IndexCipher } from '../../crypto/index.js';
import type { Store, StoredIndex } from '../../storage/index.js';
import { AcceptedKeys } from './accepted-keys.js';
import { itemAad } from '../records/associated-data.js';
import { openIndexConfig } from '../records/index-config-record.js';
import { decodeItem } from '../records/item-codec.js';
import { toDomainError } from '../lower-layer-errors.js';
import type { IndexCredential } from './index-credential.js';
import { OpenIndex } from './open-index.js';
import type { SealWorkers } from '../sealing/seal-workers.js';
import { openModel } from '../records/trained-model-record.js';
import type { StoredItems } from '../records/stored-items.js';

/** Records decrypted per store page; also the engine's insertion batch while loading. */
const LOAD_PAGE_SIZE = 2000;

/**
 * `dataKey` was just unwrapped with `key` (so `key` is proven, and the open index accepts it); the
 * data key is consumed: wiped once the cipher has derived its own keys.
 */
export async function loadOpenIndex(
  store: Store,
  stored: StoredIndex,
  dataKey: Buffer,
  key: IndexCredential,
  workers: SealWorkers | null = null,
  recordBucket = 0,
  storedItems: StoredItems | null = null,
): Promise<OpenIndex> {
  const name = stored.name;
  const cipher = new IndexCipher(dataKey);
  const sealer = workers === null ? null : { workers, handle: workers.register(name, dataKey) };
  dataKey.fill(0);
  let stage = `configuration record of index "${name}"`;
  let open: OpenIndex | null = null;
  try {
    const config = openIndexConfig(cipher, name, stored.sealedConfig);
    const keys = new AcceptedKeys(name, stored.wrappedDataKey);
    key.rememberIn(keys);
    open = new OpenIndex(name, config, stored.createdAt, cipher, keys, sealer, recordBucket, storedItems);
    stage = `item record of index "${name}"`;
    for await (const page of store.scanItems(name, LOAD_PAGE_SIZE)) {
      open.applyUpserts(page.map((item) => OpenIndex.recordOf(decodeItem(cipher.open(item.sealed, itemAad(name, item.token))), item.token)));
    }
    // The term index buffers what it is given; its postings are written here, as part of the open.
    open.text?.flush();
    if (stored.sealedModel !== null) {
      stage = `training model of index "${name}"`;
      await open.applyStoredModel(openModel(cipher, name, stored.sealedModel));
    }
    return open;
  } catch (error) {
    if (open !== null) {
      open.close();
    } else {
      cipher.destroy();
      if (sealer !== null) sealer.workers.unregister(sealer.handle);
    }
    throw toDomainError(error, name, stage);
  }
}
