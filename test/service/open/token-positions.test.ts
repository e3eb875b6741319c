import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { leadingBitsOrder, TokenPositions } from '../../../src/service/open/token-positions.js';

describe('TokenPositions', () => {
  it('finds every token at its position inside a larger buffer, and no other token', () => {
    const tokens = Array.from({ length: 5000 }, () => randomBytes(32));
    const positions = new TokenPositions(tokens);
    // The stored tokens as a store returns them: one buffer, in another order, behind a prefix.
    const order = tokens.map((_, i) => i).reverse();
    const packed = Buffer.concat([randomBytes(7), ...order.map((i) => tokens[i])]);
    order.forEach((i, k) => expect(positions.find(packed, 7 + k * 32)).toBe(i));
    const absent = Buffer.concat(Array.from({ length: 200 }, () => randomBytes(32)));
    for (let k = 0; k < 200; k++) expect(positions.find(absent, k * 32)).toBe(-1);
  });

  it('tells apart tokens that share their first 32 bits (the table key)', () => {
    const prefix = randomBytes(4);
    const tokens = Array.from({ length: 50 }, () => Buffer.concat([prefix, randomBytes(28)]));
    const positions = new TokenPositions(tokens);
    tokens.forEach((token, i) => expect(positions.find(Buffer.from(token), 0)).toBe(i));
    expect(positions.find(Buffer.concat([prefix, randomBytes(28)]), 0)).toBe(-1);
    // A token differing in its last byte only.
    const near = Buffer.from(tokens[10]);
    near[31] ^= 1;
    expect(positions.find(near, 0)).toBe(-1);
  });

  it('finds the same positions from tokens packed in one buffer as from separate ones', () => {
    const tokens = Array.from({ length: 3000 }, () => randomBytes(32));
    const fromPacked = new TokenPositions(Buffer.concat(tokens));
    const fromSeparate = new TokenPositions(tokens);
    const probe = Buffer.concat([randomBytes(5), ...tokens.slice(0, 500), randomBytes(32)]);
    for (let k = 0; k < 501; k++) expect(fromPacked.find(probe, 5 + k * 32)).toBe(fromSeparate.find(probe, 5 + k * 32));
    expect(fromPacked.find(probe, 5 + 500 * 32)).toBe(-1);
    expect(() => new TokenPositions(randomBytes(33))).toThrow(RangeError);
  });

  it('finds nothing in an empty table and refuses tokens of another length', () => {
    expect(new TokenPositions([]).find(randomBytes(32), 0)).toBe(-1);
    expect(() => new TokenPositions([randomBytes(31)])).toThrow(RangeError);
  });
});

describe('leadingBitsOrder', () => {
  it('is a permutation in token order up to the leading bits, ties in their own order', () => {
    const tokens = Array.from({ length: 4000 }, () => randomBytes(32));
    // Two tokens sharing their first four bytes: same bucket, kept in position order.
    tokens[17] = Buffer.concat([tokens[3].subarray(0, 4), randomBytes(28)]);
    const order = leadingBitsOrder(tokens.length, (i) => tokens[i]);
    expect([...order].sort((a, b) => a - b)).toEqual(tokens.map((_, i) => i));
    const bits = 13; // 2^13 >= 2 x 4000
    const key = (i: number): number => tokens[i].readUInt32BE(0) >>> (32 - bits);
    for (let k = 1; k < order.length; k++) expect(key(order[k - 1])).toBeLessThanOrEqual(key(order[k]));
    expect(order.indexOf(3)).toBeLessThan(order.indexOf(17));
  });

  it('orders nothing and one token', () => {
    expect([...leadingBitsOrder(0, () => randomBytes(32))]).toEqual([]);
    expect([...leadingBitsOrder(1, () => randomBytes(32))]).toEqual([0]);
  });
});
