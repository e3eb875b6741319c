// The Vector scalar: a list of floats, or (compact, and cheap for the query-token limit) a
// base64 string of little-endian float32 values. Output is always a list of floats.

import { endianness } from 'node:os';
import { GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { badUserInput } from './bad-user-input.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes base64 little-endian float32, whatever the host's byte order. */
function fromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  // A string that encodes back to itself is standard padded base64; the regular expression (11 us
  // on a 128-d vector against 6 us for decoding and encoding back, on the thread that serves
  // queries) only judges the rest.
  if (bytes.toString('base64') !== text && !BASE64.test(text)) {
    throw badUserInput('Vector string must be standard base64 (padded) of little-endian float32 values.');
  }
  if (bytes.byteLength % 4 !== 0) {
    throw badUserInput(`Vector base64 decodes to ${bytes.byteLength} bytes, not a whole number of float32 values (4 bytes each).`);
  }
  // On a little-endian host (x86, ARM as Node runs them) the decoded bytes are the floats: a view,
  // in Node's Buffer pool for a vector under 4 KiB. A Float32Array of its own cost 1-2.5 us to
  // allocate, a view 0.1 us, and an upsert parses hundreds; callers copy what they keep.
  if (LITTLE_ENDIAN && bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vector = new Float32Array(bytes.byteLength / 4);
  for (let i = 0; i < vector.length; i++) vector[i] = view.getFloat32(i * 4, true);
  return vector;
}

const LITTLE_ENDIAN = endianness() === 'LE';

function fromList(values: readonly unknown[]): number[] {
  return values.map((value, i) => {
    if (typeof value !== 'number' || !Number.isFinite(value)) throw badUserInput(`Vector element ${i} is not a finite number.`, undefined, `[${i}]`);
    return value;
  });
}

function parseValue(value: unknown): Float32Array | number[] {
  if (typeof value === 'string') return fromBase64(value);
  if (Array.isArray(value)) return fromList(value);
  throw badUserInput('Vector must be a list of floats or a base64 string of little-endian float32.');
}

function parseLiteral(ast: ValueNode): Float32Array | number[] {
  if (ast.kind === Kind.STRING) return fromBase64(ast.value);
  if (ast.kind === Kind.LIST) {
    return ast.values.map((element, i) => {
      if (element.kind !== Kind.FLOAT && element.kind !== Kind.INT) throw badUserInput(`Vector element ${i} is not a number.`, element, `[${i}]`);
      return Number(element.value);
    });
  }
  throw badUserInput('Vector must be a list of floats or a base64 string of little-endian float32.', ast);
}

export const VectorScalar = new GraphQLScalarType<Float32Array | number[], number[]>({
  name: 'Vector',
  description:
    'A vector: a list of floats, or a base64 string of little-endian float32 values (4 bytes per dimension). Always returned as a list of floats.',
  serialize(value) {
    if (Array.isArray(value) || ArrayBuffer.isView(value)) return Array.from(value as ArrayLike<number>);
    throw new Error('Vector can only serialize a list or typed array of numbers.');
  },
  parseValue,
  parseLiteral,
});
