import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startServer } from '../../src/server/start-server.js';

async function indexes(url: string, apiKey: string): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ query: '{ indexes }' }),
  });
  return response.status;
}

describe('startServer', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-start-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('listens on a free port with port 0, reports its URL, and stops on close()', async () => {
    const logs: string[] = [];
    const running = await startServer(loadConfig({ CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: 'k', PORT: '0' }), { log: (line) => logs.push(line) });
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}/graphql`);
    // The start-up banner names every endpoint an operator reaches for.
    const banner = logs.map((line) => (JSON.parse(line) as { msg: string }).msg).find((msg) => msg.includes(running.url));
    const origin = `http://127.0.0.1:${running.port}`;
    for (const path of ['/graphql', '/dashboard', '/metrics', '/health']) expect(banner).toContain(`${origin}${path}`);
    expect(await indexes(running.url, 'k')).toBe(200);
    await running.close();
    await expect(fetch(running.url)).rejects.toThrow();
  });

  it('without CIPHERDEX_API_KEY, prints a generated key once; the next start accepts it and prints nothing', async () => {
    const config = loadConfig({ CIPHERDEX_DATA_DIR: dataDir, PORT: '0' });
    const firstLogs: string[] = [];
    const first = await startServer(config, { log: (line) => firstLogs.push(line) });
    const printed = firstLogs.map((line) => line.trim()).filter((line) => line.startsWith('cdx_'));
    expect(printed).toHaveLength(1);
    const apiKey = printed[0]!;
    expect(await indexes(first.url, apiKey)).toBe(200);
    expect(await indexes(first.url, 'guess')).toBe(401);
    await first.close();

    const laterLogs: string[] = [];
    const later = await startServer(config, { log: (line) => laterLogs.push(line) });
    try {
      expect(laterLogs.join('\n')).not.toContain(apiKey);
      expect(laterLogs.join('\n')).not.toMatch(/generated an API key/);
      expect(await indexes(later.url, apiKey)).toBe(200);
    } finally {
      await later.close();
    }
  });

  it('fails to start, and leaves nothing open, when the port is taken', async () => {
    const first = await startServer(loadConfig({ CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: 'k', PORT: '0' }), { log: () => {} });
    try {
      const other = join(dataDir, 'other');
      await expect(
        startServer(loadConfig({ CIPHERDEX_DATA_DIR: other, CIPHERDEX_API_KEY: 'k', PORT: String(first.port) }), { log: () => {} }),
      ).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first.close();
    }
  });
});
