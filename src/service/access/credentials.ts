// The two credentials that open an index: its key (all-powerful) and a grant token (its wrap of the
// data key, checked against the index itself, so a wrap planted in the database opens nothing).

import { createHash } from 'node:crypto';
import { IndexCipher, KeyUnwrapError, constantTimeEqual, unwrapDataKey, unwrapDataKeyForGrant } from '../../crypto/index.js';
import type { StoredGrant, StoredIndex } from '../../storage/index.js';
import { InvalidIndexKeyError } from '../errors.js';
import type { AcceptedKeys } from '../open/accepted-keys.js';
import type { IndexCredential } from '../open/index-credential.js';
import type { OpenIndex } from '../open/open-index.js';
import { openIndexConfig } from '../records/index-config-record.js';
import { grantBinding } from './grant-record.js';

export class IndexKeyCredential implements IndexCredential {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    this.#key = key;
  }

  unwrap(stored: StoredIndex): Buffer {
    try {
      return unwrapDataKey(this.#key, stored.wrappedDataKey, stored.name);
    } catch (error) {
      if (error instanceof KeyUnwrapError) throw new InvalidIndexKeyError(stored.name);
      throw error;
    }
  }

  acceptedBy(open: OpenIndex): boolean {
    return open.keys.accepts(this.#key);
  }

  rememberIn(keys: AcceptedKeys): void {
    keys.remember(this.#key);
  }

  wipe(): void {
    this.#key.fill(0);
  }
}

/** Same data key, same token: derived keys are compared, never data keys. */
const SAME_INDEX_DOMAIN = 'grant-proof';

export class GrantCredential implements IndexCredential {
  readonly #grant: StoredGrant;
  readonly #secret: Buffer;
  readonly #binding: string;
  /** The token's verifier with what the grant allows, as one digest the open index remembers. */
  readonly #fingerprint: Buffer;

  /** `grant` is the stored row whose verifier the token's secret already matched. */
  constructor(grant: StoredGrant, secret: Buffer) {
    this.#grant = grant;
    this.#secret = secret;
    this.#binding = grantBinding(grant);
    this.#fingerprint = createHash('sha256').update(grant.verifier).update(this.#binding).digest();
  }

  get grantId(): string {
    return this.#grant.id;
  }

  unwrap(stored: StoredIndex): Buffer {
    const dataKey = this.#unwrapOrNull();
    if (dataKey === null) throw new InvalidIndexKeyError(stored.name);
    const cipher = new IndexCipher(dataKey);
    try {
      openIndexConfig(cipher, stored.name, stored.sealedConfig);
      return dataKey;
    } catch {
      dataKey.fill(0);
      throw new InvalidIndexKeyError(stored.name);
    } finally {
      cipher.destroy();
    }
  }

  acceptedBy(open: OpenIndex): boolean {
    if (open.keys.knowsGrant(this.#grant.id, this.#fingerprint)) return true;
    const dataKey = this.#unwrapOrNull();
    if (dataKey === null) return false;
    const probe = new IndexCipher(dataKey);
    dataKey.fill(0);
    const same = constantTimeEqual(probe.token(SAME_INDEX_DOMAIN, this.#grant.id), open.cipher.token(SAME_INDEX_DOMAIN, this.#grant.id));
    probe.destroy();
    if (same) this.rememberIn(open.keys);
    return same;
  }

  rememberIn(keys: AcceptedKeys): void {
    keys.rememberGrant(this.#grant.id, this.#fingerprint);
  }

  wipe(): void {
    this.#secret.fill(0);
  }

  #unwrapOrNull(): Buffer | null {
    try {
      return unwrapDataKeyForGrant(this.#secret, this.#grant.wrappedDataKey, this.#binding);
    } catch (error) {
      if (error instanceof KeyUnwrapError) return null;
      throw error;
    }
  }
}
