// The crypto layer's public surface: index keys, data-key wrapping, sealed records and tokens.

export { IndexKeyFormatError, INDEX_KEY_BYTES, generateIndexKey, parseIndexKey } from './index-key.js';
export { KeyUnwrapError, generateDataKey, unwrapDataKey, wrapDataKey } from './data-key.js';
export { SealIntegrityError, openRecord, sealRecord } from './sealed-record.js';
export { IndexCipher } from './index-cipher.js';
export { SET_HASH_TAG_BYTES, emptySetHash, setHashEquals, type SetHashSum } from './set-hash.js';
export { TOKEN_BYTES, computeToken, constantTimeEqual } from './tokens.js';
export {
  GRANT_TOKEN_PREFIX,
  GrantTokenFormatError,
  generateGrantToken,
  grantVerifier,
  looksLikeGrantToken,
  parseGrantToken,
  unwrapDataKeyForGrant,
  wrapDataKeyForGrant,
  type GrantToken,
} from './grant-token.js';
