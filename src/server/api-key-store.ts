// Where the server's API keys come from. Configured keys (CIPHERDEX_API_KEYS, each maybe bound to an
// index-name prefix) win; otherwise the first start generates a random key, prints it once, and
// keeps only its SHA-256 in <dataDir>/api-key.sha256, so a fresh `npm start` works and is never
// open. The generated key is the operator's: unbound (every index). Tenants' keys are configured,
// and once any key is configured the generated one is no longer accepted.

import { createHash, randomBytes } from 'node:crypto';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ApiKeyEntry } from '../api-key-entries.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../runtime/private-files.js';

export const API_KEY_HASH_FILE = 'api-key.sha256';

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key, 'utf8').digest();
}

export interface ApiKeySource {
  apiKeys: ApiKeyEntry[];
  dataDir: string;
}

/** An accepted API key as the server keeps it: its SHA-256, and the index-name prefix it is bound to (null: none). */
export interface AcceptedApiKey {
  hash: Buffer;
  prefix: string | null;
}

function unbound(hash: Buffer): AcceptedApiKey {
  return { hash, prefix: null };
}

/** Every accepted API key, hashed. */
export async function loadApiKeyHashes(source: ApiKeySource, log: (line: string) => void): Promise<AcceptedApiKey[]> {
  if (source.apiKeys.length > 0) return source.apiKeys.map(({ key, prefix }) => ({ hash: hashApiKey(key), prefix }));
  const file = join(source.dataDir, API_KEY_HASH_FILE);
  const stored = await readHashFile(file);
  if (stored) return [unbound(stored)];

  const key = `cdx_${randomBytes(32).toString('base64url')}`;
  try {
    ensurePrivateDir(source.dataDir);
    // 'wx': of two first starts racing, one writes and the other reads the winner's hash.
    await writeFile(file, `${hashApiKey(key).toString('hex')}\n`, { flag: 'wx', mode: PRIVATE_FILE_MODE });
    await chmod(file, PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return [unbound((await readHashFile(file))!)];
    // A read-only or full data directory: say what could not be done and the two ways out.
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Cannot keep a generated API key in ${file} (${reason}); make CIPHERDEX_DATA_DIR writable, or set CIPHERDEX_API_KEYS.`, {
      cause: error,
    });
  }
  announce(key, file, log);
  return [unbound(hashApiKey(key))];
}

async function readHashFile(file: string): Promise<Buffer | null> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const hex = text.trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new Error(`${file} does not hold a SHA-256 hash; delete it to generate a new API key, or set CIPHERDEX_API_KEYS.`);
  }
  return Buffer.from(hex, 'hex');
}

function announce(key: string, file: string, log: (line: string) => void): void {
  for (const line of [
    '',
    'No CIPHERDEX_API_KEYS was set, so Cipherdex generated an API key. It is shown this once:',
    '',
    `    ${key}`,
    '',
    'Send it as the x-api-key header on HTTP requests, or as { "apiKey": "..." } in the graphql-ws',
    `connection_init payload. Only its SHA-256 is kept (${file}); delete that file to get a new`,
    'key on the next start, or set CIPHERDEX_API_KEYS (comma-separated for several keys; key=prefix',
    'binds a key to the indexes whose names start with prefix).',
    '',
  ]) {
    log(line);
  }
}
