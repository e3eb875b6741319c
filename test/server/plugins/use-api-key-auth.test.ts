import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { loadConfig } from '../../../src/config.js';
import { hashApiKey } from '../../../src/server/api-key-store.js';
import { apiKeyLookup, apiKeyVerifier } from '../../../src/server/plugins/use-api-key-auth.js';
import { CreateIndexDocument, HealthDocument, IndexesDocument, TrainingStatusDocument } from '../../generated/graphql.js';
import { collect, newIndexKey, startTestServer, type TestServer } from '../harness.js';

describe('apiKeyVerifier', () => {
  const verify = apiKeyVerifier([hashApiKey('first-key'), hashApiKey('second-key')]);

  it('accepts every configured key', () => {
    expect(verify('first-key')).toBe(true);
    expect(verify('second-key')).toBe(true);
  });

  it('rejects other keys, prefixes, empty and non-string values', () => {
    for (const presented of ['first-ke', 'first-key ', 'FIRST-KEY', '', undefined, null, 42, ['first-key']]) {
      expect(verify(presented), String(presented)).toBe(false);
    }
  });
});

describe('apiKeyLookup', () => {
  const lookup = apiKeyLookup([
    { hash: hashApiKey('ops-key'), prefix: null },
    { hash: hashApiKey('acme-key'), prefix: 'acme-' },
  ]);

  it("answers each accepted key's scope, and null for anything else", () => {
    expect(lookup('ops-key')).toEqual({ prefix: null });
    expect(lookup('acme-key')).toEqual({ prefix: 'acme-' });
    for (const presented of ['acme-key=acme-', 'acme-ke', '', undefined, null, ['ops-key']]) expect(lookup(presented), String(presented)).toBeNull();
  });
});

describe('API-key authentication on the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers HTTP 401 UNAUTHENTICATED without a key or with a wrong one, and no data', async () => {
    for (const apiKey of [null, 'wrong', `${server.apiKey}x`]) {
      const answer = await server.request(IndexesDocument, {}, { apiKey });
      expect(answer.status).toBe(401);
      expect(answer.body.data ?? null).toBeNull();
      expect(answer.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    }
  });

  it('rejects before validation, so an unauthenticated caller learns nothing about the schema', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ indexs }' }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors.map((e) => e.extensions.code)).toEqual(['UNAUTHENTICATED']);
    expect(JSON.stringify(body)).not.toMatch(/indexes/);
  });

  it('answers with the right key', async () => {
    const answer = await server.request(IndexesDocument, {});
    expect(answer.status).toBe(200);
    expect(answer.body.data?.indexes).toEqual([]);
  });

  /**
   * Starts a POST that announces `declaredBytes` but sends only the first KiB, and resolves with
   * the status the server answers (or 'no answer' after 3 s): an answer means the server decided
   * without reading the body.
   */
  function statusBeforeBody(headers: Record<string, string>, declaredBytes: number): Promise<number | 'no answer'> {
    return new Promise((resolve, reject) => {
      const url = new URL(server.url);
      const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(declaredBytes), ...headers } });
      const timer = setTimeout(() => {
        req.destroy();
        resolve('no answer');
      }, 3000);
      req.on('response', (response) => {
        clearTimeout(timer);
        response.resume();
        req.destroy();
        resolve(response.statusCode ?? 0);
      });
      req.on('error', (error) => {
        clearTimeout(timer);
        if ((error as NodeJS.ErrnoException).code === 'ECONNRESET') resolve('no answer');
        else reject(error);
      });
      req.write(`{"query": "{ indexes }", "variables": {"pad": "${'x'.repeat(1000)}`);
    });
  }

  it('refuses a large body without a valid key before reading it (checked in onRequest)', async () => {
    expect(await statusBeforeBody({}, 50 * 2 ** 20)).toBe(401);
    expect(await statusBeforeBody({ 'x-api-key': 'wrong' }, 50 * 2 ** 20)).toBe(401);
    // With the right key the server waits for the body it was promised.
    expect(await statusBeforeBody({ 'x-api-key': server.apiKey }, 50 * 2 ** 20)).toBe('no answer');
  });

  it('refuses a chunked body without a valid key at once, and still answers a small health query without one', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new ReadableStream({ start: (controller) => controller.enqueue(new TextEncoder().encode('{"query": "{ indexes }"}')) }),
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(401);
    const health = await server.request(HealthDocument, {}, { apiKey: null });
    expect(health.status).toBe(200);
  });

  it('leaves the health query open, but nothing selected beside it', async () => {
    const open = await server.request(HealthDocument, {}, { apiKey: null });
    expect(open.status).toBe(200);
    expect(open.body.data?.health.status).toBe('ok');

    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ health { status } indexes }' }),
    });
    expect(response.status).toBe(401);
  });

  it('leaves /health, /ready and the /dashboard page open (the page asks for the key itself)', async () => {
    expect((await fetch(new URL('/health', server.url))).status).toBe(200);
    expect((await fetch(new URL('/ready', server.url))).status).toBe(200);
    expect((await fetch(new URL('/dashboard', server.url))).status).toBe(200);
  });

  it('closes a WebSocket with 4403 when connection_init has no key or a wrong one', async () => {
    for (const apiKey of [null, 'wrong']) {
      const client = server.wsClient(apiKey);
      const closed = new Promise<number>((resolve) => client.on('closed', (event) => resolve((event as { code: number }).code)));
      await expect(collect(client, IndexesDocument, {})).rejects.toBeDefined();
      expect(await closed).toBe(4403);
    }
  });

  it('serves subscriptions over a WebSocket opened with the key', async () => {
    const name = 'auth-ws';
    const key = newIndexKey();
    const created = await server.request(CreateIndexDocument, { name, key, dimension: 4 });
    expect(created.body.data?.createIndex.__typename).toBe('Index');
    const [first] = await collect(server.wsClient(), TrainingStatusDocument, { index: name, key }, () => true);
    expect(first?.data?.trainingStatus).toMatchObject({ __typename: 'TrainingStatus', phase: 'IDLE', index: name });
  });
});

interface Answer {
  status: number;
  retryAfter: string | null;
  codes: unknown[];
}

async function post(server: TestServer, options: { apiKey?: string | null; forwardedFor?: string; query?: string } = {}): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/graphql-response+json' };
  if (options.apiKey !== null) headers['x-api-key'] = options.apiKey ?? server.apiKey;
  if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
  const response = await fetch(server.url, { method: 'POST', headers, body: JSON.stringify({ query: options.query ?? '{ indexes }' }) });
  const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: unknown } }> };
  return { status: response.status, retryAfter: response.headers.get('retry-after'), codes: (body.errors ?? []).map((e) => e.extensions?.code) };
}

/** Opens a graphql-ws socket, sends connection_init with `apiKey`, resolves with the close code (or 'ack'). */
async function connectionOutcome(server: TestServer, apiKey: string): Promise<number | 'ack'> {
  const socket = new WebSocket(server.wsUrl, 'graphql-transport-ws');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey } })));
    socket.once('message', (data) => {
      if ((JSON.parse(String(data)) as { type: string }).type === 'connection_ack') resolve('ack');
      socket.close();
    });
    socket.once('close', (code) => resolve(code));
  });
}

describe('failed-authentication settings', () => {
  it('default to 10 failures per 300 s, no trusted proxy, and are read from the environment', () => {
    expect(loadConfig({})).toMatchObject({ authFailureLimit: 10, authFailureWindowMs: 300_000, trustedProxies: [] });
    expect(loadConfig({ AUTH_FAILURE_LIMIT: '0', AUTH_FAILURE_WINDOW_SECONDS: '60', TRUSTED_PROXIES: 'loopback, 10.0.0.0/8' })).toMatchObject({
      authFailureLimit: 0,
      authFailureWindowMs: 60_000,
      trustedProxies: ['loopback', '10.0.0.0/8'],
    });
    expect(() => loadConfig({ AUTH_FAILURE_LIMIT: '-1' })).toThrow(/AUTH_FAILURE_LIMIT/);
    expect(() => loadConfig({ AUTH_FAILURE_WINDOW_SECONDS: '0' })).toThrow(/AUTH_FAILURE_WINDOW_SECONDS/);
  });
});

describe('failed-authentication rate limit on the real server', () => {
  const LIMIT = 3;
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', AUTH_FAILURE_LIMIT: String(LIMIT), AUTH_FAILURE_WINDOW_SECONDS: '300' } });
  });
  afterEach(async () => {
    await server.close();
  });

  it(`answers ${LIMIT} wrong keys with 401, then 429 with Retry-After even for the right key`, async () => {
    for (let i = 0; i < LIMIT; i++) expect(await post(server, { apiKey: `wrong-${i}` })).toMatchObject({ status: 401, codes: ['UNAUTHENTICATED'] });
    for (const apiKey of ['wrong-again', server.apiKey]) {
      const refused = await post(server, { apiKey });
      expect(refused).toMatchObject({ status: 429, codes: ['RATE_LIMITED'] });
      expect(Number(refused.retryAfter)).toBeGreaterThan(0);
      expect(Number(refused.retryAfter)).toBeLessThanOrEqual(300);
    }
  });

  it('counts neither missing keys nor health-only queries, and keeps health open for a blocked address', async () => {
    for (let i = 0; i < 2 * LIMIT; i++) expect((await post(server, { apiKey: null })).status).toBe(401);
    for (let i = 0; i < 2 * LIMIT; i++) expect((await post(server, { apiKey: 'wrong', query: '{ health { status } }' })).status).toBe(200);
    expect((await post(server)).status).toBe(200);

    for (let i = 0; i < LIMIT; i++) await post(server, { apiKey: 'wrong' });
    expect((await post(server)).status).toBe(429);
    expect((await post(server, { apiKey: 'wrong', query: '{ health { status } }' })).status).toBe(200);
  });

  it('counts every one of many concurrent guesses: exactly the limit get an answer, the rest 429', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => post(server, { apiKey: `guess-${i}` })));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), ...Array<number>(20 - LIMIT).fill(429)]);
  });

  it('adds up failures over HTTP and WebSockets, and closes a blocked WebSocket with 4429', async () => {
    expect(await connectionOutcome(server, 'wrong')).toBe(4403);
    for (let i = 1; i < LIMIT; i++) expect((await post(server, { apiKey: 'wrong' })).status).toBe(401);
    expect((await post(server)).status).toBe(429);
    expect(await connectionOutcome(server, server.apiKey)).toBe(4429);
  });

  it('ignores X-Forwarded-For unless the proxy is trusted, so a client cannot escape by claiming addresses', async () => {
    for (let i = 0; i < LIMIT; i++) await post(server, { apiKey: 'wrong', forwardedFor: `203.0.113.${i}` });
    expect((await post(server, { forwardedFor: '203.0.113.200' })).status).toBe(429);
  });
});

describe('failed-authentication rate limit behind a trusted proxy', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', AUTH_FAILURE_LIMIT: '2', TRUSTED_PROXIES: 'loopback' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('limits each forwarded client on its own', async () => {
    for (let i = 0; i < 2; i++) expect((await post(server, { apiKey: 'wrong', forwardedFor: '203.0.113.1' })).status).toBe(401);
    expect((await post(server, { forwardedFor: '203.0.113.1' })).status).toBe(429);
    expect((await post(server, { forwardedFor: '203.0.113.2' })).status).toBe(200);
    expect((await post(server, { apiKey: 'wrong', forwardedFor: '203.0.113.2' })).status).toBe(401);
  });
});

describe('failed-authentication rate limit switched off (AUTH_FAILURE_LIMIT=0)', () => {
  it('answers every wrong key with 401 and the right key with 200', async () => {
    const server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true', AUTH_FAILURE_LIMIT: '0' } });
    try {
      for (let i = 0; i < 30; i++) expect((await post(server, { apiKey: 'wrong' })).status).toBe(401);
      expect((await post(server)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
