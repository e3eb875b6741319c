// Key checks on an open index: the proven key and any other key that unwraps the data key are
// accepted, wrong keys never, and forget() makes every key pay the full unwrap again.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateDataKey, wrapDataKey } from '../../../src/crypto/index.js';
import { AcceptedKeys } from '../../../src/service/open/accepted-keys.js';

describe('AcceptedKeys', () => {
  const key = randomBytes(32);
  const wrapped = wrapDataKey(key, generateDataKey(), 'docs');

  it('accepts the key that unwraps the data key, in a fresh buffer too', () => {
    const keys = new AcceptedKeys('docs', wrapped);
    expect(keys.accepts(Buffer.from(key))).toBe(true);
    expect(keys.accepts(Buffer.from(key))).toBe(true);
  });

  it('refuses other keys every time, remembered or not', () => {
    const keys = new AcceptedKeys('docs', wrapped, key);
    const wrong = randomBytes(32);
    expect(keys.accepts(wrong)).toBe(false);
    expect(keys.accepts(wrong)).toBe(false);
    expect(keys.accepts(key)).toBe(true);
  });

  it('binds the check to the index name the data key was wrapped for', () => {
    expect(new AcceptedKeys('other', wrapped).accepts(key)).toBe(false);
  });

  it('keeps a copy: wiping the caller buffer does not change what was proven', () => {
    const copy = Buffer.from(key);
    const keys = new AcceptedKeys('docs', wrapped, copy);
    copy.fill(0);
    expect(keys.accepts(Buffer.from(key))).toBe(true);
    expect(keys.accepts(copy)).toBe(false);
  });

  it('still verifies correctly after forget()', () => {
    const keys = new AcceptedKeys('docs', wrapped, key);
    keys.forget();
    expect(keys.accepts(randomBytes(32))).toBe(false);
    expect(keys.accepts(key)).toBe(true);
  });
});
