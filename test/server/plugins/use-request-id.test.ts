// useRequestId over real HTTP: every response carries X-Request-Id (the caller's when it is a sane
// token, a fresh UUID otherwise), and the log lines written while serving it, at LOG_LEVEL=debug
// and deep inside (a masked error), are JSON records that name that id.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import { startServer } from '../../../src/server/start-server.js';
import { IndexDocument } from '../../generated/graphql.js';
import { newIndexKey } from '../harness.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('useRequestId', () => {
  it('echoes a sane caller id, replaces anything else, and names the request in its log lines', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-request-id-'));
    const config = loadConfig({ CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: 'k', PORT: '0', LOG_LEVEL: 'debug' });
    const service = await createIndexService(config);
    const lines: string[] = [];
    const running = await startServer(config, { service, log: (line) => lines.push(line) });
    const ask = async (requestId?: string) => {
      const response = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': 'k', ...(requestId === undefined ? {} : { 'x-request-id': requestId }) },
        body: JSON.stringify({ query: print(IndexDocument), variables: { name: 'missing', key: newIndexKey() } }),
      });
      await response.text();
      return response.headers.get('x-request-id');
    };
    const records = () => lines.map((line) => JSON.parse(line) as { level: number; msg: string; requestId?: string; status?: number });
    try {
      expect(await ask('edge-7f3a.2')).toBe('edge-7f3a.2');
      const generated = await ask();
      expect(generated).toMatch(UUID);
      // Spaces, quotes or an overlong value are not taken from a caller.
      for (const bad of ['has space', 'quote"d', 'x'.repeat(65)]) {
        const answered = await ask(bad);
        expect(answered).toMatch(UUID);
      }
      const health = await fetch(new URL('/health', running.url));
      expect(health.headers.get('x-request-id')).toMatch(UUID);

      const served = records().filter((record) => record.msg === 'request served');
      expect(served.find((record) => record.requestId === 'edge-7f3a.2')).toMatchObject({ status: 200, level: 20 });
      expect(served.find((record) => record.requestId === generated)).toMatchObject({ status: 200 });

      // A failure deep in the service is logged with the id of the request it failed.
      await service.close();
      const failedId = await ask('failing-request');
      expect(failedId).toBe('failing-request');
      const masked = records().find((record) => /Unexpected error/.test(record.msg));
      expect(masked).toMatchObject({ requestId: 'failing-request', level: 50 });
    } finally {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('logs no request lines at the default level, and nothing at all when silent', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-request-id-'));
    try {
      for (const [level, expected] of [[undefined, ['listening on']], ['silent', []]] as const) {
        const lines: string[] = [];
        const env = { CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: 'k', PORT: '0', ...(level ? { LOG_LEVEL: level } : {}) };
        const running = await startServer(loadConfig(env), { log: (line) => lines.push(line) });
        const response = await fetch(running.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': 'k' }, body: '{"query":"{ indexes }"}' });
        expect(response.status).toBe(200);
        expect(response.headers.get('x-request-id')).toMatch(UUID);
        await running.close();
        expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg.replace(/^Cipherdex \S+ (listening on).*$/, '$1'))).toEqual(expected);
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown LOG_LEVEL by name', () => {
    expect(() => loadConfig({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent/);
  });
});
