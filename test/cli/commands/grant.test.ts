// `cipherdex grant` end to end: create prints a token once that other commands accept as --key
// within its permissions, list shows grants without tokens, revoke ends one; mistakes are usage
// errors or typed domain errors.
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

describe('cipherdex grant', () => {
  it('creates a grant whose token works as --key within its permissions, lists it without the token, and revokes it', async () => {
    const created = await runCli(['grant', 'create', 'alpha', '--key', key, '--permission', 'observe', '--label', 'dashboard'], cliEnv(server));
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const token = /cdxg_[0-9a-f]{32}_[A-Za-z0-9_-]{43}/.exec(created.stdout)![0];
    const id = token.slice(5, 37);
    expect(created.stdout).toContain(`${id} "dashboard" OBSERVE expires never`);

    const status = await runCli(['status', 'alpha', '--key', token], cliEnv(server));
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('vectors 30');
    const denied = await runCli(['train', 'alpha', '--key', token], cliEnv(server));
    expect(denied.code).toBe(3);
    expect(denied.stderr).toContain('PERMISSION_DENIED');

    const listed = await runCli(['grant', 'list', 'alpha', '--key', key], cliEnv(server));
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`${id} "dashboard" OBSERVE`);
    expect(listed.stdout).not.toContain(token.slice(38));

    const revoked = await runCli(['grant', 'revoke', 'alpha', id, '--key', key], cliEnv(server));
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${id}`);
    const after = await runCli(['status', 'alpha', '--key', token], cliEnv(server));
    expect(after.code).toBe(3);
    expect(after.stderr).toContain('INVALID_INDEX_KEY');
    expect((await runCli(['grant', 'revoke', 'alpha', id, '--key', key], cliEnv(server))).stderr).toContain('GRANT_NOT_FOUND');
  });

  it('refuses missing or unknown permissions, bad times and unknown actions as usage errors', async () => {
    expect((await runCli(['grant', 'create', 'alpha', '--key', key], cliEnv(server))).code).toBe(1);
    expect((await runCli(['grant', 'create', 'alpha', '--key', key, '--permission', 'ROOT'], cliEnv(server))).code).toBe(1);
    expect((await runCli(['grant', 'create', 'alpha', '--key', key, '--permission', 'READ', '--expires', 'soon'], cliEnv(server))).code).toBe(1);
    expect((await runCli(['grant', 'drop', 'alpha', '--key', key], cliEnv(server))).code).toBe(1);
    const malformed = await runCli(['status', 'alpha', '--key', 'cdxg_secretish'], cliEnv(server));
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).not.toContain('secretish');
  });
});
