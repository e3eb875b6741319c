import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeToken, constantTimeEqual } from '../../src/crypto/tokens.js';

describe('computeToken', () => {
  const key = randomBytes(32);

  it('is HMAC-SHA256 over a length-prefixed domain and the value', () => {
    const expected = createHmac('sha256', key).update(Buffer.from([0, 0, 0, 4])).update('item').update('doc-1').digest();
    expect(computeToken(key, 'item', 'doc-1').equals(expected)).toBe(true);
  });

  it('is deterministic per key and differs across keys', () => {
    expect(computeToken(key, 'item', 'a').equals(computeToken(key, 'item', 'a'))).toBe(true);
    expect(computeToken(key, 'item', 'a').equals(computeToken(randomBytes(32), 'item', 'a'))).toBe(false);
  });

  it('keeps domain and value apart: shifting characters between them changes the token', () => {
    expect(computeToken(key, 'ab', 'c').equals(computeToken(key, 'a', 'bc'))).toBe(false);
  });

  it('hashes the value as UTF-8', () => {
    expect(computeToken(key, 'item', 'é').equals(computeToken(key, 'item', 'e\u0301'))).toBe(false);
  });
});

describe('constantTimeEqual', () => {
  it('compares bytes', () => {
    const a = randomBytes(32);
    expect(constantTimeEqual(a, Buffer.from(a))).toBe(true);
    const b = Buffer.from(a);
    b[31] ^= 1;
    expect(constantTimeEqual(a, b)).toBe(false);
    b[31] ^= 1;
    b[0] ^= 1;
    expect(constantTimeEqual(a, b)).toBe(false);
  });

  it('is false, not an exception, for different lengths', () => {
    expect(constantTimeEqual(Buffer.alloc(3), Buffer.alloc(4))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });

  it('compares plain Uint8Arrays and views', () => {
    const backing = new Uint8Array([9, 1, 2, 3, 9]);
    expect(constantTimeEqual(backing.subarray(1, 4), new Uint8Array([1, 2, 3]))).toBe(true);
  });
});
