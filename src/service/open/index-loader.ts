// Opens an index from the store: decrypts its configuration, every item record and its trained
// model, and builds the in-memory index from them. Any record that fails authentication stops
// the load with an IntegrityError naming the record kind; nothing half-loaded is kept. The item
// records read must be exactly the set the index commitment binds (records/index-commitment.ts):
// an older version of an item, a deleted one put back, one dropped or one added is an
// IntegrityError too. An index from before commitments gets its first one here (the upgrade).

import { IndexCipher } from '../../crypto/index.js';
import type { Store, StoredIndex } from '../../storage/index.js';
import { AcceptedKeys } from './accepted-keys.js';
import { openIndexConfig, sealIndexConfig } from '../records/index-config-record.js';
import { applyItemPages } from './item-page-loading.js';
import { toDomainError } from '../lower-layer-errors.js';
import type { IndexCredential } from './index-credential.js';
import { OpenIndex } from './open-index.js';
import type { SealWorkers } from '../sealing/seal-workers.js';
import { openModel } from '../records/trained-model-record.js';
import type { StoredItems } from '../records/stored-items.js';
import { IndexNotFoundError, IntegrityError, StoreUnavailableError } from '../errors.js';
import { sealCommitment, sealTagOf } from '../records/index-commitment.js';
import { storedCommitment } from './commitment-writes.js';
import { loadFromSegments } from './segment-loader.js';
import { OpenLaps } from './open-laps.js';

/** Records decrypted per store page; also the engine's insertion batch while loading. */
const LOAD_PAGE_SIZE = 2000;
/** Loads started again because other replicas kept writing to the index meanwhile. */
const MAX_LOAD_ATTEMPTS = 5;

/** Another process wrote to the index while it was read: the records read may be of two states. */
class ChangedWhileLoading extends Error {}

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
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        return await loadOnce(store, stored, dataKey, key, workers, recordBucket, storedItems);
      } catch (error) {
        if (!(error instanceof ChangedWhileLoading)) throw error;
        if (attempt === MAX_LOAD_ATTEMPTS) throw new StoreUnavailableError('busy');
        const now = await store.getIndex(stored.name).catch((cause: unknown) => {
          throw toDomainError(cause, stored.name);
        });
        if (now === null || now.createdAt.getTime() !== stored.createdAt.getTime()) throw new IndexNotFoundError(stored.name);
        stored = now;
      }
    }
  } finally {
    dataKey.fill(0);
  }
}

async function loadOnce(
  store: Store,
  stored: StoredIndex,
  dataKey: Buffer,
  key: IndexCredential,
  workers: SealWorkers | null,
  recordBucket: number,
  storedItems: StoredItems | null,
): Promise<OpenIndex> {
  const name = stored.name;
  const laps = new OpenLaps(`load of "${name}"`);
  const cipher = new IndexCipher(dataKey);
  const sealer = workers === null ? null : { workers, handle: workers.register(name, dataKey) };
  let stage = `configuration record of index "${name}"`;
  let open: OpenIndex | null = null;
  try {
    const config = openIndexConfig(cipher, name, stored.sealedConfig);
    const keys = new AcceptedKeys(name, stored.wrappedDataKey);
    key.rememberIn(keys);
    open = new OpenIndex(name, config, stored.createdAt, cipher, keys, sealer, recordBucket, storedItems);
    stage = `training model of index "${name}"`;
    const model = stored.sealedModel === null ? null : openModel(cipher, name, stored.sealedModel);
    // A sealed segment set (when there is a current one) and the records written since; else every record.
    stage = `segment or item record of index "${name}"`;
    laps.lap('config and model');
    const fromSegments = await loadFromSegments(store, stored, open, model, sealer, () => new ChangedWhileLoading());
    if (!fromSegments) {
      stage = `item record of index "${name}"`;
      await applyItemPages(open, store.scanItems(name, LOAD_PAGE_SIZE), sealer, expectedItems(open, stored));
    }
    laps.lap(fromSegments ? 'from segments' : 'from records');
    // The term index buffers what it is given; its postings are written here, as part of the open.
    open.text?.flush();
    await checkCommitment(store, stored, open);
    laps.lap('commitment check');
    if (!fromSegments && model !== null) {
      stage = `training model of index "${name}"`;
      await open.applyStoredModel(model);
      open.modelSealTag = sealTagOf(stored.sealedModel!);
      // No current segment set: every item is tail, so the segment keeper writes one soon.
      open.changesSinceSegments = open.size;
      laps.lap('apply model');
    }
    laps.done();
    return open;
  } catch (error) {
    if (open !== null) {
      open.close();
    } else {
      cipher.destroy();
      if (sealer !== null) sealer.workers.unregister(sealer.handle);
    }
    if (error instanceof ChangedWhileLoading) throw error;
    throw toDomainError(error, name, stage);
  }
}

/** The item count the stored commitment names, as a size hint for the load (0 when unreadable: checkCommitment then reports it, after the scan as before). */
function expectedItems(open: OpenIndex, stored: StoredIndex): number {
  try {
    return storedCommitment(open, stored.sealedCommitment, stored.commitmentSeq).count;
  } catch {
    return 0;
  }
}

/**
 * Compares the records loaded with the stored commitment. When its counter moved during the scan
 * (another replica wrote), the load starts again rather than compare two different states.
 */
async function checkCommitment(store: Store, stored: StoredIndex, open: OpenIndex): Promise<void> {
  const name = stored.name;
  const now = await store.readCommitment(name, []);
  if (now === null) throw new IndexNotFoundError(name);
  if (now.seq !== stored.commitmentSeq) throw new ChangedWhileLoading();
  if (stored.sealedCommitment === null && !open.config.committed) {
    // Upgrade: an index created before commitments has none yet. Its records as they are now
    // become the committed set (trust on first use, see docs/security.md), and its configuration
    // is sealed again saying it has one, in the same statement.
    const state = { seq: stored.commitmentSeq + 1, count: open.size, sum: Uint32Array.from(open.commitment.sum) };
    const sealedConfig = sealIndexConfig(open.cipher, name, { ...open.config, committed: true });
    const established = await store.establishCommitment(name, { expectedSeq: stored.commitmentSeq, sealed: sealCommitment(open.cipher, name, state) }, sealedConfig);
    if (!established) throw new ChangedWhileLoading();
    open.commitment.seq = state.seq;
    return;
  }
  const committed = storedCommitment(open, stored.sealedCommitment, stored.commitmentSeq);
  if (!open.commitment.matches(committed, open.size)) {
    throw new IntegrityError(`item records of index "${name}" (they are not the set its commitment binds: a record rolled back, put back after deletion, dropped or added)`);
  }
  open.commitment.seq = committed.seq;
}
