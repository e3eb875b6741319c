import { describe, expect, it } from 'vitest';
import { parseApiKeyEntries } from '../src/api-key-entries.js';

describe('parseApiKeyEntries (CIPHERDEX_API_KEYS)', () => {
  it('reads unbound keys as before, and key=prefix as a key bound to a prefix', () => {
    expect(parseApiKeyEntries(undefined)).toEqual([]);
    expect(parseApiKeyEntries('')).toEqual([]);
    expect(parseApiKeyEntries(' a , b ,')).toEqual([
      { key: 'a', prefix: null },
      { key: 'b', prefix: null },
    ]);
    expect(parseApiKeyEntries('ops,cdx_t1=acme-, cdx_t2 = globex.eu_')).toEqual([
      { key: 'ops', prefix: null },
      { key: 'cdx_t1', prefix: 'acme-' },
      { key: 'cdx_t2', prefix: 'globex.eu_' },
    ]);
    // The same prefix for two keys is fine (a tenant's old and new key during a rotation).
    expect(parseApiKeyEntries('k1=acme-,k2=acme-').map((entry) => entry.prefix)).toEqual(['acme-', 'acme-']);
  });

  const secret = 'Zm9vYmFyc2VjcmV0';
  const refusals: Array<[string, string, RegExp]> = [
    ['an empty prefix', `ops,${secret}=`, /entry 2 of CIPHERDEX_API_KEYS has an empty prefix after '='/],
    ['base64 padding read as an empty prefix', `${secret}==`, /entry 1 of CIPHERDEX_API_KEYS has a prefix no index name can start with/],
    ['a key missing before =', `=acme-`, /entry 1 of CIPHERDEX_API_KEYS has no key before '='/],
    ['a prefix no name can start with', `${secret}=-acme`, /entry 1 .* prefix no index name can start with/],
    ['a prefix with a character names cannot hold', `${secret}=acme/`, /prefix no index name can start with/],
    ['a second =', `${secret}=acme=x`, /prefix no index name can start with/],
    ['a prefix longer than a name', `${secret}=${'a'.repeat(129)}`, /prefix no index name can start with/],
    ['the same key twice', `${secret},ops,${secret}=acme-`, /entries 1 and 3 of CIPHERDEX_API_KEYS are the same API key/],
  ];
  for (const [what, raw, message] of refusals) {
    it(`refuses ${what}, and the message never quotes the entry`, () => {
      let thrown: unknown;
      try {
        parseApiKeyEntries(raw);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      const text = (thrown as Error).message;
      expect(text).toMatch(message);
      expect(text).not.toContain(secret);
      expect(text).not.toContain('acme');
    });
  }
});
