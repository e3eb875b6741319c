import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { createIndexService } from '../../../src/service/create-index-service.js';
import { startServer } from '../../../src/server/start-server.js';
import { HealthDocument } from '../../generated/graphql.js';
import { startTestServer } from '../harness.js';

describe('health and readiness probes', () => {
  it('answers /health and /ready without a key, /ready with a JSON report', async () => {
    const server = await startTestServer();
    try {
      const health = await fetch(new URL('/health', server.url));
      expect(health.status).toBe(200);
      expect(health.headers.get('content-type')).toContain('application/json');
      const body = (await health.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 'ok' });
      expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(body.uptimeSeconds).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(body).length).toBeLessThan(200);
      const ready = await fetch(new URL('/ready', server.url));
      expect(ready.status).toBe(200);
      const report = (await ready.json()) as Record<string, unknown>;
      expect(report).toMatchObject({ status: 'ready', store: 'sqlite' });
      expect(typeof report.version).toBe('string');
      expect(report.uptimeSeconds).toBeGreaterThanOrEqual(0);
    } finally {
      await server.close();
    }
  });

  it('reports 503 on /ready and degraded health when the store does not answer', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-ready-'));
    const config = loadConfig({ CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: 'k', PORT: '0' });
    const service = await createIndexService(config);
    const running = await startServer(config, { service, log: () => {} });
    try {
      expect((await fetch(new URL('/ready', running.url))).status).toBe(200);
      await service.close();
      const ready = await fetch(new URL('/ready', running.url));
      expect(ready.status).toBe(503);
      expect(((await ready.json()) as { status: string }).status).toBe('unavailable');
      const response = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'query Health { health { status storeReachable } }' }),
      });
      expect(((await response.json()) as { data: { health: unknown } }).data.health).toEqual({ status: 'degraded', storeReachable: false });
      expect((await fetch(new URL('/health', running.url))).status).toBe(200);
    } finally {
      await running.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('answers the GraphQL health query with version, uptime and store', async () => {
    const server = await startTestServer();
    try {
      const answer = await server.request(HealthDocument, {}, { apiKey: null });
      expect(answer.body.data?.health).toMatchObject({ status: 'ok', store: 'sqlite', storeReachable: true });
      expect(answer.body.data?.health.version).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      await server.close();
    }
  });
});
