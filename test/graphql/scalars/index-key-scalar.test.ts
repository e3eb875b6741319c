import { randomBytes } from 'node:crypto';
import { GraphQLError, parseValue as parseValueAst, valueFromAST } from 'graphql';
import { describe, expect, it } from 'vitest';
import { IndexKeyScalar } from '../../../src/graphql/scalars/index-key-scalar.js';

function rejection(run: () => unknown): GraphQLError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return error as GraphQLError;
  }
  throw new Error('expected a rejection');
}

describe('IndexKey scalar', () => {
  const key = randomBytes(32);

  it('accepts 32 bytes as hex, base64 and unpadded base64url, all to the same bytes', () => {
    for (const text of [key.toString('hex'), key.toString('base64'), key.toString('base64url')]) {
      expect(Buffer.from(IndexKeyScalar.parseValue(text))).toEqual(key);
      expect(Buffer.from(valueFromAST(parseValueAst(JSON.stringify(text)), IndexKeyScalar) as Uint8Array)).toEqual(key);
    }
  });

  it('rejects wrong lengths and non-strings with BAD_USER_INPUT, without echoing the input', () => {
    const short = randomBytes(31).toString('hex');
    for (const bad of [short, randomBytes(33).toString('base64'), 'zz'.repeat(32), 42]) {
      const error = rejection(() => IndexKeyScalar.parseValue(bad));
      expect(error.extensions.code).toBe('BAD_USER_INPUT');
      if (typeof bad === 'string') expect(error.message).not.toContain(bad);
    }
    expect(rejection(() => IndexKeyScalar.parseLiteral(parseValueAst('123'))).extensions.code).toBe('BAD_USER_INPUT');
  });

  it('is never serialized', () => {
    expect(() => IndexKeyScalar.serialize(key)).toThrow(/input-only/);
  });
});
