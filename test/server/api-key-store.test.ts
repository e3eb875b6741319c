import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { API_KEY_HASH_FILE, hashApiKey, loadApiKeyHashes } from '../../src/server/api-key-store.js';

describe('loadApiKeyHashes', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-keys-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('uses configured keys and writes nothing', async () => {
    const lines: string[] = [];
    const accepted = await loadApiKeyHashes({ apiKeys: [{ key: 'one', prefix: null }, { key: 'two', prefix: 'acme-' }], dataDir }, (line) => lines.push(line));
    expect(accepted).toEqual([
      { hash: hashApiKey('one'), prefix: null },
      { hash: hashApiKey('two'), prefix: 'acme-' },
    ]);
    expect(lines).toEqual([]);
    await expect(stat(join(dataDir, API_KEY_HASH_FILE))).rejects.toThrow(/ENOENT/);
  });

  it('generates a key on first start, prints it once with how to use it, and stores only its hash', async () => {
    const lines: string[] = [];
    const [generated] = await loadApiKeyHashes({ apiKeys: [], dataDir: join(dataDir, 'nested') }, (line) => lines.push(line));
    // The generated key is the operator's: it reaches every index.
    expect(generated!.prefix).toBeNull();
    const hash = generated!.hash;
    const printed = lines.map((line) => line.trim()).filter((line) => line.startsWith('cdx_'));
    expect(printed).toHaveLength(1);
    const key = printed[0]!;
    expect(key.length).toBeGreaterThan(40);
    expect(hash).toEqual(hashApiKey(key));
    expect(lines.join('\n')).toMatch(/x-api-key/);
    expect(lines.join('\n')).toMatch(/apiKey/);

    const file = join(dataDir, 'nested', API_KEY_HASH_FILE);
    const stored = await readFile(file, 'utf8');
    expect(stored.trim()).toBe(hashApiKey(key).toString('hex'));
    expect(stored).not.toContain(key);
    expect((await stat(file)).mode & 0o077).toBe(0);

    const later: string[] = [];
    const again = await loadApiKeyHashes({ apiKeys: [], dataDir: join(dataDir, 'nested') }, (line) => later.push(line));
    expect(again).toEqual([{ hash, prefix: null }]);
    expect(later).toEqual([]);
  });

  it('generates a different key for each fresh data directory', async () => {
    const [a] = await loadApiKeyHashes({ apiKeys: [], dataDir: join(dataDir, 'a') }, () => {});
    const [b] = await loadApiKeyHashes({ apiKeys: [], dataDir: join(dataDir, 'b') }, () => {});
    expect(a).not.toEqual(b);
  });

  it('refuses a damaged hash file instead of opening the server', async () => {
    await writeFile(join(dataDir, API_KEY_HASH_FILE), 'not a hash\n');
    await expect(loadApiKeyHashes({ apiKeys: [], dataDir }, () => {})).rejects.toThrow(/SHA-256/);
  });
});
