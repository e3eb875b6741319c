// Key rotation: the data key is re-wrapped under the new index key and the one stored wrapping is
// replaced by compare-and-set, in one statement. Nothing else is re-encrypted (records are sealed
// under the data key, which does not change), so a rotation costs the same at any index size.
// Whatever fails, and wherever a crash lands, exactly one key opens the index: the store holds one
// wrapping; memory follows it after the commit, and forgets the index when the outcome of the
// write is unknown, so the next request asks the store. Other replicas learn of the new wrapping
// from the change notice and their periodic check (keyVersion), and stop accepting the old key.

import { KeyUnwrapError, unwrapDataKey, wrapDataKey } from '../../crypto/index.js';
import type { Store } from '../../storage/index.js';
import { IndexNotFoundError, InvalidIndexKeyError, ValidationError } from '../errors.js';
import { translatingErrors } from '../lower-layer-errors.js';
import type { IndexCache } from './index-cache.js';
import type { IndexCredential } from './index-credential.js';

/** `key` is the index key or an ADMIN grant (which keeps working: the data key does not change). */
export async function rotateKey(store: Store, cache: IndexCache, name: string, key: IndexCredential, newKey: Buffer): Promise<void> {
  const stored = await translatingErrors(name, () => store.getIndex(name));
  if (stored === null) throw new IndexNotFoundError(name);
  const dataKey = key.unwrap(stored);
  if (opens(newKey, stored.wrappedDataKey, name)) {
    dataKey.fill(0);
    throw new ValidationError('newKey', 'newKey must differ from key');
  }
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

/** True when `key` already opens the stored wrapping (it is the current index key). */
function opens(key: Buffer, wrapped: Buffer, name: string): boolean {
  try {
    unwrapDataKey(key, wrapped, name).fill(0);
    return true;
  } catch (error) {
    if (error instanceof KeyUnwrapError) return false;
    throw error;
  }
}
