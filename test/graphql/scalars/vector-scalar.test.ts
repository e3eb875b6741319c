import { GraphQLError, parseValue as parseValueAst, valueFromAST } from 'graphql';
import { describe, expect, it } from 'vitest';
import { VectorScalar } from '../../../src/graphql/scalars/vector-scalar.js';

function base64OfFloat32LE(values: number[]): string {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

function codeOf(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(GraphQLError);
    return (error as GraphQLError).extensions.code;
  }
  throw new Error('expected a rejection');
}

describe('Vector scalar', () => {
  it('accepts a list of floats as a variable and as a literal', () => {
    expect(Array.from(VectorScalar.parseValue([0.5, -1, 3]))).toEqual([0.5, -1, 3]);
    expect(Array.from(valueFromAST(parseValueAst('[0.5, -1, 3]'), VectorScalar) as ArrayLike<number>)).toEqual([0.5, -1, 3]);
  });

  it('decodes base64 little-endian float32, as a variable and as a literal', () => {
    const values = [1.5, -2.25, 1e-3, 65504];
    const text = base64OfFloat32LE(values);
    const expected = Array.from(Float32Array.from(values));
    expect(Array.from(VectorScalar.parseValue(text))).toEqual(expected);
    expect(Array.from(valueFromAST(parseValueAst(JSON.stringify(text)), VectorScalar) as ArrayLike<number>)).toEqual(expected);
  });

  it('reads the bytes as little-endian whatever the host order', () => {
    // 0x3f800000 is 1.0; in little-endian order its bytes are 00 00 80 3f.
    expect(Array.from(VectorScalar.parseValue(Buffer.from([0, 0, 0x80, 0x3f]).toString('base64')))).toEqual([1]);
  });

  it('keeps every decoded vector intact while many more are decoded (views of pooled memory), at any dimension', () => {
    for (const dimension of [3, 128, 1024, 1500]) {
      const expected = Array.from({ length: 300 }, (_, v) => Array.from({ length: dimension }, (_, i) => Math.fround(v + i / 7)));
      const decoded = expected.map((values) => VectorScalar.parseValue(base64OfFloat32LE(values)) as Float32Array);
      decoded.forEach((vector, v) => expect(Array.from(vector)).toEqual(expected[v]));
    }
  });

  it('rejects malformed base64 with BAD_USER_INPUT', () => {
    expect(codeOf(() => VectorScalar.parseValue('not base64!'))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => VectorScalar.parseValue('AAAA===='))).toBe('BAD_USER_INPUT');
  });

  it('rejects a byte length that is not a whole number of float32 values', () => {
    const sixBytes = Buffer.alloc(6).toString('base64');
    expect(codeOf(() => VectorScalar.parseValue(sixBytes))).toBe('BAD_USER_INPUT');
    expect(() => VectorScalar.parseValue(sixBytes)).toThrow(/6 bytes/);
  });

  it('rejects lists with non-numbers and values of other kinds', () => {
    expect(codeOf(() => VectorScalar.parseValue([1, '2', 3]))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => VectorScalar.parseValue({ 0: 1 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => VectorScalar.parseLiteral(parseValueAst('[1, "2"]')))).toBe('BAD_USER_INPUT');
    expect(codeOf(() => VectorScalar.parseLiteral(parseValueAst('true')))).toBe('BAD_USER_INPUT');
  });

  it('serializes typed arrays and lists as plain float lists', () => {
    expect(VectorScalar.serialize(Float32Array.from([0.5, 2]))).toEqual([0.5, 2]);
    expect(VectorScalar.serialize([1, 2, 3])).toEqual([1, 2, 3]);
  });
});
