import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../harness.js';

const LIMIT = 4096;

/** POSTs `body` in chunks with no Content-Length (chunked transfer encoding): only a count can cap it. */
function postChunked(server: TestServer, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': server.apiKey } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // A request torn down after its answer is fine; one torn down before it fails the test.
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 1000) req.write(body.slice(at, at + 1000));
    req.end();
  });
}

describe('useRequestBodyLimit', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { MAX_REQUEST_BYTES: String(LIMIT), AUTO_TRAIN_DISABLED: 'true' } });
  });
  afterAll(async () => {
    await server.close();
  });

  const query = (padding: number): string => JSON.stringify({ query: '{ indexes }', variables: { padding: 'x'.repeat(padding) } });

  it('answers a body of declared length within the limit', async () => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': server.apiKey }, body: query(LIMIT - 100) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ data: { indexes: [] } });
  });

  it('refuses a declared length over the limit with 413', async () => {
    const response = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': server.apiKey }, body: query(LIMIT) });
    expect(response.status).toBe(413);
  });

  it('answers a chunked body within the limit', async () => {
    const answer = await postChunked(server, query(LIMIT - 100));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toEqual({ data: { indexes: [] } });
  });

  it('refuses a chunked body once it passes the limit, with 413', async () => {
    const answer = await postChunked(server, query(3 * LIMIT));
    expect(answer.status).toBe(413);
    expect(answer.text).toMatch(/too large/i);
  });
});
