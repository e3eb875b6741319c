// The one place where a request's `key` argument becomes a credential and the permissions it holds
// are checked: an index key may do everything; a grant token is looked up in the store on every
// request (so revocation and expiry take effect at once, on every replica), matched against its
// verifier in constant time, and refused with PermissionDeniedError for what it does not allow.

import { GrantTokenFormatError, constantTimeEqual, grantVerifier, looksLikeGrantToken, parseGrantToken } from '../../crypto/index.js';
import type { Store } from '../../storage/index.js';
import { IndexNotFoundError, InvalidIndexKeyError, PermissionDeniedError, ValidationError } from '../errors.js';
import { parseKeyArgument } from '../input/input-validation.js';
import { translatingErrors } from '../lower-layer-errors.js';
import type { IndexCredential } from '../open/index-credential.js';
import type { IndexKeyInput } from '../types.js';
import { GrantCredential, IndexKeyCredential } from './credentials.js';
import { parsePermissions } from './grant-record.js';
import { allows, permissionsFor, type IndexOperation } from './permissions.js';

/** A grant's last use is written at most this often per process: it is a hint, not an audit log. */
const LAST_USE_RESOLUTION_MS = 60_000;

export interface ProvenCaller {
  credential: IndexCredential;
  /** Null for an index key. */
  grantId: string | null;
  /** Wipes the credential's secret (the request is over). */
  wipe(): void;
}

export class KeyProof {
  readonly #store: Store;
  readonly #now: () => number;
  readonly #lastTouched = new Map<string, number>();

  constructor(store: Store, now: () => number = Date.now) {
    this.#store = store;
    this.#now = now;
  }

  /**
   * The caller's credential for `operation` on index `name` (whose name is well-formed). Throws
   * ValidationError (malformed key), IndexNotFoundError, InvalidIndexKeyError (unknown, revoked or
   * expired grant) or PermissionDeniedError. The credential itself is proven when it is used.
   */
  async prove(name: string, key: IndexKeyInput, operation: IndexOperation): Promise<ProvenCaller> {
    if (!looksLikeGrantToken(key)) {
      const credential = new IndexKeyCredential(parseKeyArgument(key));
      return { credential, grantId: null, wipe: () => credential.wipe() };
    }
    let token;
    try {
      token = parseGrantToken(key);
    } catch (error) {
      if (error instanceof GrantTokenFormatError) throw new ValidationError('key', error.message);
      throw error;
    }
    try {
      const grant = await translatingErrors(name, () => this.#store.getGrant(name, token.id));
      if (grant === null) {
        // Unknown index and unknown grant answer as a wrong key would for each.
        if ((await translatingErrors(name, () => this.#store.getIndex(name))) === null) throw new IndexNotFoundError(name);
        throw new InvalidIndexKeyError(name);
      }
      const verifier = grantVerifier(token.secret);
      const matches = constantTimeEqual(verifier, grant.verifier);
      verifier.fill(0);
      if (!matches || (grant.expiresAt !== null && grant.expiresAt.getTime() <= this.#now())) throw new InvalidIndexKeyError(name);
      if (!allows(parsePermissions(grant.permissions), operation)) throw new PermissionDeniedError(name, permissionsFor(operation));
      await this.#touch(name, grant.id);
      const credential = new GrantCredential(grant, token.secret);
      return { credential, grantId: grant.id, wipe: () => credential.wipe() };
    } catch (error) {
      token.secret.fill(0);
      throw error;
    }
  }

  /** Forgets when a revoked grant was last touched here. */
  forget(grantId: string): void {
    this.#lastTouched.delete(grantId);
  }

  async #touch(name: string, grantId: string): Promise<void> {
    const now = this.#now();
    const last = this.#lastTouched.get(grantId);
    if (last !== undefined && now - last < LAST_USE_RESOLUTION_MS) return;
    this.#lastTouched.set(grantId, now);
    // Best effort: a store fault here must not fail the request it describes.
    await this.#store.touchGrant(name, grantId, new Date(now)).catch(() => {});
  }
}
