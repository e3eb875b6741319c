// Where the CLI connects and with which keys: flags over environment over defaults, checked early.
import { describe, expect, it } from 'vitest';
import { DEFAULT_URL, resolveConnection, resolveIndexKey } from '../../../src/cli/api/connection-options.js';
import { CliError } from '../../../src/cli/exit-codes.js';

describe('resolveConnection', () => {
  it('prefers flags, then the environment, then the default URL', () => {
    expect(resolveConnection({}, {})).toEqual({ url: DEFAULT_URL, apiKey: undefined });
    expect(resolveConnection({}, { CIPHERDEX_URL: 'http://a:1/graphql', CIPHERDEX_API_KEY: 'env' })).toEqual({ url: 'http://a:1/graphql', apiKey: 'env' });
    expect(resolveConnection({ url: 'https://b/graphql', 'api-key': 'flag' }, { CIPHERDEX_URL: 'http://a:1/graphql', CIPHERDEX_API_KEY: 'env' })).toEqual({
      url: 'https://b/graphql',
      apiKey: 'flag',
    });
  });

  it('rejects URLs that are not http(s)', () => {
    expect(() => resolveConnection({ url: 'localhost:4000' }, {})).toThrow(CliError);
    expect(() => resolveConnection({ url: 'ftp://host/graphql' }, {})).toThrow(/must be an http\(s\) URL/);
  });
});

describe('resolveIndexKey', () => {
  it('sends keys in canonical base64, whatever form they were given in', () => {
    const bytes = Buffer.alloc(32, 7);
    expect(resolveIndexKey({ key: bytes.toString('hex') }, {})).toBe(bytes.toString('base64'));
    expect(resolveIndexKey({}, { CIPHERDEX_INDEX_KEY: `${bytes.toString('base64url')}\n` })).toBe(bytes.toString('base64'));
  });

  it('says how to get a key when there is none, and never echoes a bad one', () => {
    expect(() => resolveIndexKey({}, {})).toThrow(/pass --key or set CIPHERDEX_INDEX_KEY/);
    const error = (() => {
      try {
        resolveIndexKey({ key: 'secret-but-wrong' }, {});
      } catch (caught) {
        return caught as Error;
      }
      return null;
    })();
    expect(error?.message).toContain('invalid index key');
    expect(error?.message).not.toContain('secret-but-wrong');
  });
});
