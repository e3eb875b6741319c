import { parseValue as parseValueAst, valueFromAST } from 'graphql';
import { describe, expect, it } from 'vitest';
import { JsonScalar } from '../../../src/graphql/scalars/json-scalar.js';

describe('JSON scalar', () => {
  it('accepts JSON objects as variables and literals, nested values intact', () => {
    const value = { genre: 'essay', tags: ['a', 'b'], year: { $gte: 1900 }, ok: true, none: null };
    expect(JsonScalar.parseValue(value)).toEqual(value);
    expect(valueFromAST(parseValueAst('{ genre: "essay", year: { gte: 1900 }, tags: ["a"] }'), JsonScalar)).toEqual({
      genre: 'essay',
      year: { gte: 1900 },
      tags: ['a'],
    });
  });

  it('rejects arrays and bare values: metadata and filters are objects', () => {
    expect(() => JsonScalar.parseValue([1, 2])).toThrow();
    expect(() => JsonScalar.parseValue('text')).toThrow();
    expect(() => JsonScalar.parseValue(3)).toThrow();
  });

  it('keeps the contract name', () => {
    expect(JsonScalar.name).toBe('JSON');
  });
});
