// What a write under an idempotency key tells the store (storage/idempotency-store.ts): keyed
// hashes of the key and of the request, under the index's token key (so the store learns neither,
// and cannot test guesses of them), and the retention window. The request hash covers the
// operation and every validated argument, so a retry must be the same request to be answered from
// the record; the same key with another request is refused.

import { createHash } from 'node:crypto';
import type { IndexCipher } from '../../crypto/index.js';
import type { IdempotencyClaim, Store } from '../../storage/index.js';
import { ValidationError } from '../errors.js';
import { requireWellFormed } from '../input/input-validation.js';

/** The writes that take an idempotency key. */
export type IdempotentOperation = 'upsert' | 'deleteItems' | 'updateItems';

export const MAX_IDEMPOTENCY_KEY_LENGTH = 256;
const KEY_DOMAIN = 'idempotency-key';
const REQUEST_DOMAIN = 'idempotency-request';

/** The key as given, or null when there is none; a ValidationError for anything but a sane string. */
export function validateIdempotencyKey(key: unknown): string | null {
  if (key === undefined || key === null) return null;
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw new ValidationError('idempotencyKey', `an idempotency key is a string of 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`, {
      min: 1,
      max: MAX_IDEMPOTENCY_KEY_LENGTH,
    });
  }
  return requireWellFormed(key, 'idempotencyKey');
}

/**
 * A digest of a request: the operation, then each part length-prefixed (so parts cannot run into
 * each other). Parts are the validated arguments in a fixed order; null is a distinct part.
 */
export class RequestDigest {
  readonly #hash = createHash('sha256');

  constructor(operation: IdempotentOperation) {
    this.text(operation);
  }

  text(value: string | null): this {
    return this.bytes(value === null ? null : Buffer.from(value, 'utf8'));
  }

  bytes(value: Uint8Array | null): this {
    const prefix = Buffer.alloc(5);
    if (value === null) {
      prefix.writeUInt8(0, 0);
      this.#hash.update(prefix);
      return this;
    }
    prefix.writeUInt8(1, 0);
    prefix.writeUInt32BE(value.byteLength, 1);
    this.#hash.update(prefix).update(value);
    return this;
  }

  /** The digest; the builder is spent afterwards. */
  hex(): string {
    return this.#hash.digest('hex');
  }
}

/** The store's view of a write under `key`: keyed hashes only. */
export function idempotencyClaim(cipher: IndexCipher, key: string, request: RequestDigest, retentionMs: number): IdempotencyClaim {
  return {
    keyHash: cipher.token(KEY_DOMAIN, key),
    requestHash: cipher.token(REQUEST_DOMAIN, request.hex()),
    retentionMs,
  };
}

/** The answer to a key used with another request. */
export function idempotencyKeyReused(): ValidationError {
  return new ValidationError('idempotencyKey', 'idempotency key reused with a different request');
}

/**
 * Sweeps records past the retention window, at most once per interval, started by the writes that
 * use keys (no timer of its own: a service that never sees a key never sweeps). Failures are left
 * to the next sweep.
 */
export class IdempotencySweep {
  readonly #store: Store;
  readonly #retentionMs: number;
  readonly #intervalMs: number;
  #last = 0;

  constructor(store: Store, retentionMs: number, intervalMs = Math.min(retentionMs, 60 * 60_000)) {
    this.#store = store;
    this.#retentionMs = retentionMs;
    this.#intervalMs = intervalMs;
  }

  maybeSweep(now = Date.now()): void {
    if (now - this.#last < this.#intervalMs) return;
    this.#last = now;
    void this.#store.pruneIdempotencyRecords(this.#retentionMs).catch(() => {});
  }
}

/** What an upsert's request is: every validated item, in order. */
export function upsertDigest(items: ReadonlyArray<{ id: string; vector: Float32Array; contents: string | null; metadataJson: string | null }>): RequestDigest {
  const digest = new RequestDigest('upsert');
  for (const item of items) {
    digest.text(item.id).bytes(new Uint8Array(item.vector.buffer, item.vector.byteOffset, item.vector.byteLength)).text(item.contents).text(item.metadataJson);
  }
  return digest;
}

/** What a delete's request is: its ids (deduplicated, in order), or its filter as given. */
export function deleteDigest(target: { ids: readonly string[] } | { filter: unknown }): RequestDigest {
  const digest = new RequestDigest('deleteItems');
  if ('ids' in target) {
    digest.text('ids');
    for (const id of target.ids) digest.text(id);
  } else {
    digest.text('filter').text(JSON.stringify(target.filter));
  }
  return digest;
}

/** What an update's request is: its ids, and which of metadata and contents it patches, with what. */
export function updateDigest(ids: readonly string[], metadataPatch: { patch: unknown } | null, contents: { value: string | null } | null): RequestDigest {
  const digest = new RequestDigest('updateItems').text(String(ids.length));
  for (const id of ids) digest.text(id);
  digest.text(metadataPatch === null ? null : JSON.stringify(metadataPatch.patch) ?? 'null');
  digest.text(contents === null ? '-' : 'c').text(contents?.value ?? null);
  return digest;
}
