// The flags every client command shares: where the server is, the API key, and the index key,
// each with its environment variable as the fallback.

import { GrantTokenFormatError, IndexKeyFormatError, looksLikeGrantToken, parseGrantToken, parseIndexKey } from '../../service/index.js';
import { usageError } from '../exit-codes.js';

export const DEFAULT_URL = 'http://127.0.0.1:4000/graphql';

/** Option specs for node:util parseArgs, shared by import, train, search and status. */
export const connectionOptionSpecs = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  key: { type: 'string' },
} as const;

export const connectionHelp = `Connection (flags win over the environment):
  --url URL          GraphQL endpoint (env CIPHERDEX_URL; default ${DEFAULT_URL})
  --api-key KEY      API key, sent as x-api-key (env CIPHERDEX_API_KEY)
  --key INDEX_KEY    the index's 32-byte key, base64 or hex (env CIPHERDEX_INDEX_KEY)`;

export interface Connection {
  url: string;
  apiKey: string | undefined;
}

export function resolveConnection(values: { url?: string; 'api-key'?: string }, env: NodeJS.ProcessEnv = process.env): Connection {
  const url = values.url ?? env.CIPHERDEX_URL ?? DEFAULT_URL;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(`--url "${url}" is not a valid URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw usageError(`--url must be an http(s) URL, got "${url}"`);
  const apiKey = values['api-key'] ?? (env.CIPHERDEX_API_KEY || undefined);
  return { url, apiKey };
}

/**
 * The index key, checked locally so a typo fails fast with a clear message instead of a server
 * round trip; it is sent in its canonical base64 form, only in GraphQL variables.
 */
export function resolveIndexKey(
  values: { key?: string },
  env: NodeJS.ProcessEnv = process.env,
  names: { flag: string; variable: string } = { flag: '--key', variable: 'CIPHERDEX_INDEX_KEY' },
): string {
  const raw = values.key ?? env[names.variable];
  if (raw === undefined || raw.trim() === '') {
    throw usageError(`an index key is required: pass ${names.flag} or set ${names.variable} (make one with \`cipherdex keygen\`)`);
  }
  try {
    // A grant token is accepted wherever the index key is; the server checks what it may do.
    if (looksLikeGrantToken(raw)) {
      parseGrantToken(raw).secret.fill(0);
      return raw.trim();
    }
    return parseIndexKey(raw).toString('base64');
  } catch (error) {
    if (error instanceof IndexKeyFormatError || error instanceof GrantTokenFormatError) throw usageError(`invalid index key (${names.flag}): ${error.message}`);
    throw error;
  }
}
