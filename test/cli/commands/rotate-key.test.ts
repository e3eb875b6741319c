// `cipherdex rotate-key` end to end: the index moves to the new key, the old key is refused
// afterwards, and mistakes are usage errors or typed domain errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, cliEnv, clusteredVectors, newIndexKey, runCli, seedIndex, startTestServer } from '../cli-harness.js';

let server: TestServer;
const key = newIndexKey();

beforeAll(async () => {
  server = await startTestServer({ AUTO_TRAIN_DISABLED: 'true' });
  await seedIndex(server, 'alpha', key, clusteredVectors(30, 4, 2, 43));
});
afterAll(async () => {
  await server?.close();
});

describe('cipherdex rotate-key', () => {
  it('moves the index to the new key; the old key is refused afterwards', async () => {
    const next = newIndexKey();
    const result = await runCli(['rotate-key', 'alpha', '--key', key], cliEnv(server, { CIPHERDEX_NEW_INDEX_KEY: next }));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Index "alpha" (30 vectors) now opens with the new key only.');
    const old = await runCli(['status', 'alpha', '--key', key], cliEnv(server));
    expect(old.code).toBe(3);
    expect(old.stderr).toMatch(/INVALID_INDEX_KEY|does not open/);
    expect((await runCli(['status', 'alpha', '--key', next], cliEnv(server))).code).toBe(0);
    // And back with --new-key.
    expect((await runCli(['rotate-key', 'alpha', '--key', next, '--new-key', key], cliEnv(server))).code).toBe(0);
  });

  it('needs a well-formed new key that differs from the current one', async () => {
    const missing = await runCli(['rotate-key', 'alpha', '--key', key], cliEnv(server));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('pass --new-key or set CIPHERDEX_NEW_INDEX_KEY');
    const same = await runCli(['rotate-key', 'alpha', '--key', key, '--new-key', key], cliEnv(server));
    expect(same.code).toBe(1);
    const malformed = await runCli(['rotate-key', 'alpha', '--key', key, '--new-key', 'abc'], cliEnv(server));
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).not.toContain('abc');
  });
});
