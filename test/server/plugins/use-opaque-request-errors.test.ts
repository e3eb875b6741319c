// useOpaqueRequestErrors(): a request the server cannot read is refused with a fixed message;
// nothing of the body comes back, with or without an API key, in development or production.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newIndexKey, startTestServer, type TestServer } from '../harness.js';

describe.each([
  ['development', {}],
  ['production', { NODE_ENV: 'production' }],
])('unreadable request bodies on the real server (%s)', (_mode, env) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', ...env } });
  });
  afterAll(async () => {
    await server.close();
  });

  const secret = newIndexKey();
  const bodies = [
    `{"query": "mutation { createIndex(name: \\"x\\", key: \\"${secret}\\", dimension: 3) { __typename } }", "variables": {`,
    `{"query": "${secret}`,
    `${secret}`,
    `{"query": "{ health { status } }", "variables": "${secret}"}`,
    `[{"query": "${secret}"`,
  ];

  for (const withKey of [true, false]) {
    it(`answers 400 without echoing any of the body (${withKey ? 'with' : 'without'} an API key)`, async () => {
      for (const body of bodies) {
        const response = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(withKey ? { 'x-api-key': server.apiKey } : {}) },
          body,
        });
        const text = await response.text();
        expect(response.status, body).toBeGreaterThanOrEqual(400);
        expect(response.status, body).toBeLessThan(500);
        expect(text, body).not.toContain(secret);
        expect(text, body).not.toContain(secret.slice(0, 12));
        expect(text).not.toContain('originalError');
      }
    });
  }
});
