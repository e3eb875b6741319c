import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../../../src/server/api-key-store.js';
import { apiKeyVerifier } from '../../../src/server/plugins/use-api-key-auth.js';
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
