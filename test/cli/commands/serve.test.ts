// `cipherdex serve` through the npm bin: starts the server from the environment, answers, and
// shuts down cleanly on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { collect } from '../cli-harness.js';

describe('cipherdex serve', () => {
  it('serves GraphQL on the configured port and exits 0 on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-serve-'));
    try {
      const bin = fileURLToPath(new URL('../../../bin/cipherdex.js', import.meta.url));
      const child = spawn(process.execPath, [bin, 'serve'], {
        env: { PATH: process.env.PATH, PORT: '0', CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: 'serve-test-key', AUTO_TRAIN_DISABLED: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const done = collect(child);
      const url = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout!.on('data', (chunk: Buffer) => {
          text += chunk.toString('utf8');
          const match = /listening on (http:\/\/\S+\/graphql)/.exec(text);
          if (match) resolve(match[1]!);
        });
        done.then((result) => reject(new Error(`serve exited ${result.code}: ${result.stderr}`)), reject);
      });

      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'serve-test-key' },
        body: JSON.stringify({ query: '{ indexes }' }),
      });
      expect(await response.json()).toEqual({ data: { indexes: [] } });

      child.kill('SIGTERM');
      const result = await done;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('SIGTERM received, shutting down');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('names the setting and the cause, without a stack trace, when the store cannot open', async () => {
    const bin = fileURLToPath(new URL('../../../bin/cipherdex.js', import.meta.url));
    const notADirectory = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: { PATH: process.env.PATH, PORT: '0', CIPHERDEX_DATA_DIR: join(notADirectory, 'data'), CIPHERDEX_API_KEY: 'k' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(child);
    expect(result.code).toBe(5);
    expect(result.stderr).toMatch(/CIPHERDEX_DATA_DIR .*not a directory/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses a malformed CIPHERDEX_API_KEY before starting, naming the entry and never the key', async () => {
    const bin = fileURLToPath(new URL('../../../bin/cipherdex.js', import.meta.url));
    const secret = 'serve-secret-9f3a';
    const child = spawn(process.execPath, [bin, 'serve'], {
      env: { PATH: process.env.PATH, PORT: '0', CIPHERDEX_DATA_DIR: tmpdir(), CIPHERDEX_API_KEY: `ops-key,${secret}=` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(child);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/entry 2 of CIPHERDEX_API_KEY has an empty prefix/);
    expect(result.stderr + result.stdout).not.toContain(secret);
    expect(result.stdout).not.toMatch(/listening/);
  });
});
