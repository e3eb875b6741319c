// The CLI's entry point: help, usage errors, and the exit codes of every failure class against a
// real server (wrong index key, unknown index, refused API key, server down) over HTTP and WebSockets.
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, cliEnv, clusteredVectors, newIndexKey, runCli, seedIndex, startTestServer } from './cli-harness.js';

let server: TestServer;
const key = newIndexKey();

beforeAll(async () => {
  server = await startTestServer();
  await seedIndex(server, 'known', key, clusteredVectors(20, 4, 2, 51));
});
afterAll(async () => {
  await server?.close();
});

/** A URL on which nothing listens: a port the OS handed out and that was closed again. */
async function deadUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}/graphql`;
}

describe('cipherdex', () => {
  it('prints help with the exit codes, and rejects unknown commands and flags', async () => {
    const help = await runCli(['--help'], cliEnv(null));
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*2 {2}server unreachable[\s\S]*3 {2}the server answered with a typed error[\s\S]*4 {2}a training run ended FAILED/);

    const unknown = await runCli(['frobnicate'], cliEnv(null));
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');

    const badFlag = await runCli(['status', '--verbose'], cliEnv(server));
    expect(badFlag.code).toBe(1);
    expect(badFlag.stderr).toContain("Unknown option '--verbose'");
  });

  it('exits 3 with the typed error for a wrong index key or an unknown index', async () => {
    const wrongKey = await runCli(['status', 'known', '--key', newIndexKey()], cliEnv(server));
    expect(wrongKey.code).toBe(3);
    expect(wrongKey.stderr).toContain('The key does not open index "known". (INVALID_INDEX_KEY)');

    const unknown = await runCli(['search', 'missing', '--vector', '1,2,3,4', '--key', key], cliEnv(server));
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('(INDEX_NOT_FOUND)');

    // The subscription reports the same typed error as its first event.
    const follow = await runCli(['train', 'known', '--follow', '--key', newIndexKey()], cliEnv(server));
    expect(follow.code).toBe(3);
    expect(follow.stderr).toContain('(INVALID_INDEX_KEY)');
  });

  it('exits 1 for a malformed index key without contacting the server', async () => {
    const result = await runCli(['status', 'known', '--key', 'not-a-key'], cliEnv({ url: await deadUrl(), apiKey: 'x' }));
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('invalid index key');
  });

  it('exits 2 when the API key is missing or refused, over HTTP and over WebSockets', async () => {
    const missing = await runCli(['status'], cliEnv(null, { CIPHERDEX_URL: server.url }));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no API key was given');

    const wrong = await runCli(['status'], cliEnv({ url: server.url, apiKey: 'wrong' }));
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('the API key was refused');

    const follow = await runCli(['train', 'known', '--follow', '--key', key], cliEnv({ url: server.url, apiKey: 'wrong' }));
    expect(follow.code).toBe(2);
    expect(follow.stderr).toContain('the API key was refused');
  });

  it('exits 2 when the server is down, over HTTP and over WebSockets', async () => {
    const down = cliEnv({ url: await deadUrl(), apiKey: server.apiKey }, { CIPHERDEX_INDEX_KEY: key });
    const status = await runCli(['status'], down);
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/cannot reach the server at http:\/\/127\.0\.0\.1:\d+\/graphql \(ECONNREFUSED\)/);

    const follow = await runCli(['train', 'known', '--follow'], down);
    expect(follow.code).toBe(2);
    expect(follow.stderr).toContain('ECONNREFUSED');
  });
});
