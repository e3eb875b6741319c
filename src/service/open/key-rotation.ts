// Key rotation: the data key is re-wrapped under the new index key and the one stored wrapping is
// replaced by compare-and-set, in one statement. Nothing else is re-encrypted (records are sealed
// under the data key, which does not change), so a rotation costs the same at any index size.
// Whatever fails, and wherever a crash lands, exactly one key opens the index: the store holds one
// wrapping; memory follows it after the commit, and forgets the index when the outcome of the
// write is unknown, so the next request asks the store. Other replicas learn of the new wrapping
// from the change notice and their periodic check (keyVersion), and stop accepting the old key.

import { constantTimeEqual, wrapDataKey } from '../../crypto/index.js';
import type { Store } from '../../storage/index.js';
import { IndexNotFoundError, InvalidIndexKeyError, ValidationError } from '../errors.js';
import { translatingErrors } from '../lower-layer-errors.js';
import { type IndexCache, unwrapOrThrow } from './index-cache.js';

export async function rotateKey(store: Store, cache: IndexCache, name: string, key: Buffer, newKey: Buffer): Promise<void> {
  if (constantTimeEqual(key, newKey)) throw new ValidationError('newKey', 'newKey must differ from key');
  const stored = await translatingErrors(name, () => store.getIndex(name));
  if (stored === null) throw new IndexNotFoundError(name);
  const dataKey = unwrapOrThrow(key, stored.wrappedDataKey, name);
  let replacement: Buffer;
  try {
    replacement = wrapDataKey(newKey, dataKey, name);
  } finally {
    dataKey.fill(0);
  }
  let version: number | null;
  try {
    version = await translatingErrors(name, () => store.replaceWrappedDataKey(name, stored.wrappedDataKey, replacement));
  } catch (error) {
    // The write may or may not have committed: memory must not keep accepting the old key.
    cache.drop(name);
    throw error;
  }
  // Another rotation (or a delete) got there first: this key no longer opens the index.
  if (version === null) throw new InvalidIndexKeyError(name);
  cache.rewrapped(name, replacement);
}
