// corsPolicy(): no cross-origin access unless CIPHERDEX_CORS_ORIGINS names the origin; never with
// credentials. Checked on the real server, preflight and actual request.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { startTestServer, type TestServer } from './harness.js';

const HEALTH = JSON.stringify({ query: '{ health { status } }' });

async function fromOrigin(server: TestServer, origin: string) {
  const preflight = await fetch(server.url, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-api-key' },
  });
  const actual = await fetch(server.url, { method: 'POST', headers: { origin, 'content-type': 'application/json', 'x-api-key': server.apiKey }, body: HEALTH });
  return { preflight, actual };
}

describe('CORS by default', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('gives no origin access, with or without credentials', async () => {
    const { preflight, actual } = await fromOrigin(server, 'https://evil.example');
    for (const response of [preflight, actual]) {
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    }
  });
});

describe('CORS with CIPHERDEX_CORS_ORIGINS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', CIPHERDEX_CORS_ORIGINS: 'https://app.example, http://localhost:5173' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('opens to each named origin, for the API key header, without credentials', async () => {
    for (const origin of ['https://app.example', 'http://localhost:5173']) {
      const { preflight, actual } = await fromOrigin(server, origin);
      expect(preflight.headers.get('access-control-allow-origin')).toBe(origin);
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/x-api-key/);
      expect(actual.headers.get('access-control-allow-origin')).toBe(origin);
      expect(actual.headers.get('access-control-allow-credentials')).toBeNull();
      expect(actual.status).toBe(200);
    }
  });

  it('stays closed to every other origin, including "null" and look-alikes', async () => {
    for (const origin of ['https://evil.example', 'null', 'https://app.example.evil.example', 'http://app.example']) {
      const { preflight, actual } = await fromOrigin(server, origin);
      expect(preflight.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(actual.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('refuses a setting that is not a list of bare origins', () => {
    expect(() => loadConfig({ CIPHERDEX_CORS_ORIGINS: 'https://app.example/path' })).toThrow(/CIPHERDEX_CORS_ORIGINS/);
    expect(() => loadConfig({ CIPHERDEX_CORS_ORIGINS: '*' })).toThrow(/CIPHERDEX_CORS_ORIGINS/);
    expect(loadConfig({}).corsOrigins).toEqual([]);
  });
});
