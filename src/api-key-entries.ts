// CIPHERDEX_API_KEYS's (or CIPHERDEX_API_KEY's) entries: comma-separated API keys, each optionally bound to an index-name
// prefix as `key=prefix` (a tenant's key: it reaches only indexes whose names start with the
// prefix). Parsed strictly, because a typo here widens or narrows who sees what: an empty key or
// prefix, a prefix no index name could start with, or a key given twice stops the start. Errors
// name the entry by its position and never quote it: an entry is a secret, and a key that itself
// contains '=' would otherwise be printed in part as its "prefix".

import { INDEX_NAME_PATTERN } from './service/input/input-validation.js';

export interface ApiKeyEntry {
  key: string;
  /** Index names this key reaches start with this; null: every index (an unbound key). */
  prefix: string | null;
}

/** The entries of `raw` (the setting named `variable`); empty entries (a trailing comma) are skipped, as before prefixes existed. */
export function parseApiKeyEntries(raw: string | undefined, variable = 'CIPHERDEX_API_KEYS'): ApiKeyEntry[] {
  const entries: ApiKeyEntry[] = [];
  const positions = new Map<string, number>();
  const texts = (raw ?? '').split(',');
  texts.forEach((text, index) => {
    const entry = text.trim();
    if (entry === '') return;
    const where = `entry ${index + 1} of ${variable}`;
    const separator = entry.indexOf('=');
    const key = (separator === -1 ? entry : entry.slice(0, separator)).trim();
    const prefix = separator === -1 ? null : entry.slice(separator + 1).trim();
    if (key === '') throw new Error(`${where} has no key before '=' (entries are key or key=prefix).`);
    if (prefix === '') {
      throw new Error(`${where} has an empty prefix after '=': bind the key to a prefix, or leave out '=' (an API key cannot contain '='; drop base64 padding).`);
    }
    if (prefix !== null && !INDEX_NAME_PATTERN.test(prefix)) {
      throw new Error(
        `${where} has a prefix no index name can start with: a prefix is 1 to 128 letters, digits, '_', '.' and '-', not starting with '.' or '-' (an API key cannot contain '=').`,
      );
    }
    const earlier = positions.get(key);
    if (earlier !== undefined) throw new Error(`entries ${earlier} and ${index + 1} of ${variable} are the same API key; give each key once.`);
    positions.set(key, index + 1);
    entries.push({ key, prefix });
  });
  return entries;
}
