// The data directory is 0700 and every file in it 0600 whatever the umask: the helpers alone, and
// a real server (database, WAL, shared memory, the generated API key's hash) under umask 000 and 022.
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensurePrivateDir, ensurePrivateFile } from '../../src/runtime/private-files.js';
import { CreateIndexDocument, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey, startTestServer } from '../server/harness.js';

const modeOf = (path: string): number => statSync(path).mode & 0o777;

describe.each([0o000, 0o022, 0o077])('under umask %o', (umask) => {
  let previous: number;
  let root: string;
  beforeEach(() => {
    previous = process.umask(umask);
    root = mkdtempSync(join(tmpdir(), 'cipherdex-modes-'));
  });
  afterEach(() => {
    process.umask(previous);
    rmSync(root, { recursive: true, force: true });
  });

  it('creates directories (parents too) 0700 and files 0600, and tightens a file that exists', () => {
    const dir = join(root, 'a', 'b');
    ensurePrivateDir(dir);
    expect(modeOf(join(root, 'a'))).toBe(0o700);
    expect(modeOf(dir)).toBe(0o700);
    const file = join(dir, 'f');
    writeFileSync(file, 'x', { mode: 0o666 });
    ensurePrivateFile(file);
    expect(modeOf(file)).toBe(0o600);
    ensurePrivateFile(join(dir, 'new'));
    expect(modeOf(join(dir, 'new'))).toBe(0o600);
  });

  it('leaves an existing directory the operator chose as it is', () => {
    chmodSync(root, 0o750);
    ensurePrivateDir(root);
    expect(modeOf(root)).toBe(0o750);
  });

  it('keeps a real server’s data directory 0700 and every file in it 0600', async () => {
    const dataDir = join(root, 'data');
    const server = await startTestServer({ dataDir, configure: (config) => ({ ...config, apiKeys: [] }) });
    try {
      // The generated key is unknown here; the hash file proves it was generated.
      expect(readdirSync(dataDir)).toContain('api-key.sha256');
    } finally {
      await server.close({ keepData: true });
    }
    const keyed = await startTestServer({ dataDir, env: { AUTO_TRAIN_DISABLED: 'true' } });
    try {
      const key = newIndexKey();
      await keyed.request(CreateIndexDocument, { name: 'docs', key, dimension: 3 });
      await keyed.request(UpsertDocument, { index: 'docs', key, items: [{ id: 'a', vector: [1, 2, 3] }] });
      const files = readdirSync(dataDir);
      expect(files).toEqual(expect.arrayContaining(['cipherdex.db', 'cipherdex.db-wal', 'cipherdex.db-shm', 'api-key.sha256']));
      expect(modeOf(dataDir)).toBe(0o700);
      for (const file of files) expect([file, modeOf(join(dataDir, file))]).toEqual([file, 0o600]);
    } finally {
      await keyed.close({ keepData: true });
    }
  });
});
