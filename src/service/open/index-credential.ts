// What opens an index: an index key or an index grant (service/access builds both). The cache only
// asks a credential to unwrap the data key or to show that an open index already accepts it, so
// one loading path serves both.

import type { StoredIndex } from '../../storage/index.js';
import type { AcceptedKeys } from './accepted-keys.js';
import type { OpenIndex } from './open-index.js';

export interface IndexCredential {
  /** The data key of `stored`, fresh (the caller wipes it); InvalidIndexKeyError when this does not open it. */
  unwrap(stored: StoredIndex): Buffer;
  /** True when `open` accepts this credential (proving it now, and remembering that, if needed). */
  acceptedBy(open: OpenIndex): boolean;
  /** Seeds the accepted keys of an index this credential has just opened. */
  rememberIn(keys: AcceptedKeys): void;
}
