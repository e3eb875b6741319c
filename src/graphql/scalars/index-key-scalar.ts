// The IndexKey scalar: a client's 32-byte index key, parsed at the edge so a malformed key is a
// request error (BAD_USER_INPUT) before any resolver runs; a well-formed key that does not open
// the index is the service's typed InvalidIndexKeyError. Input only: a key is never serialized.

import { GraphQLScalarType, Kind } from 'graphql';
import { GrantTokenFormatError, IndexKeyFormatError, looksLikeGrantToken, parseGrantToken, parseIndexKey } from '../../service/index.js';
import { badUserInput } from './bad-user-input.js';

/** A key's bytes, or a grant token's text (the service looks the grant up). */
function parse(value: unknown): Uint8Array | string {
  if (typeof value !== 'string') throw badUserInput('IndexKey must be a string (base64 or hex of 32 bytes, or a grant token).');
  try {
    if (looksLikeGrantToken(value)) {
      parseGrantToken(value).secret.fill(0);
      return value;
    }
    return parseIndexKey(value);
  } catch (error) {
    // The parser's messages describe the expected form and never echo the key.
    if (error instanceof IndexKeyFormatError || error instanceof GrantTokenFormatError) throw badUserInput(error.message);
    throw error;
  }
}

export const IndexKeyScalar = new GraphQLScalarType<Uint8Array | string, never>({
  name: 'IndexKey',
  description:
    'A 256-bit index key held by the client: 32 bytes as base64 (standard or url-safe, padded or not) or hex; or an index grant token (cdxg_...). Input only.',
  serialize() {
    throw new Error('IndexKey is input-only and is never returned.');
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw badUserInput('IndexKey must be a string (base64 or hex of 32 bytes, or a grant token).', ast);
    return parse(ast.value);
  },
});
