import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateIndexDocument, TrainingStatusDocument } from '../generated/graphql.js';
import { collect, newIndexKey, startTestServer, type TestServer } from './harness.js';

async function post(server: TestServer, query: string) {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': server.apiKey },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as { data?: Record<string, unknown>; errors?: Array<{ message: string }> } };
}

const INTROSPECTION = '{ __schema { queryType { name } } }';

describe('the composed server, with the development defaults', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves GraphiQL to browsers from the package itself, with no script from elsewhere', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toMatch(/<title>Cipherdex<\/title>/);
    expect(html).not.toMatch(/<script[^>]+src=["']?https?:/i);
    expect(html).not.toMatch(/<link[^>]+href=["']?https?:/i);
  });

  it('allows introspection', async () => {
    expect((await post(server, INTROSPECTION)).body.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('serves subscriptions over HTTP (SSE, as GraphiQL uses them) with the x-api-key header', async () => {
    const name = 'sse';
    const key = newIndexKey();
    await server.request(CreateIndexDocument, { name, key, dimension: 3 });
    const controller = new AbortController();
    const response = await fetch(server.url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': server.apiKey },
      body: JSON.stringify({ query: 'subscription($k: IndexKey!) { trainingStatus(index: "sse", key: $k) { ... on TrainingStatus { phase } } }', variables: { k: key } }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"phase"')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toContain('"phase":"IDLE"');
  });

  it('ends open WebSocket subscriptions when it closes', async () => {
    const other = await startTestServer({ env: { AUTO_TRAIN_DISABLED: 'true' } });
    const key = newIndexKey();
    await other.request(CreateIndexDocument, { name: 'closing', key, dimension: 3 });
    const events: unknown[] = [];
    const following = collect(other.wsClient(), TrainingStatusDocument, { index: 'closing', key }, (result) => {
      events.push(result);
      return false;
    }).catch((error: unknown) => error);
    while (events.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await other.close();
    await following;
    expect(events).toHaveLength(1);
  });
});

describe('the composed server, with introspection and GraphiQL switched off', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { GRAPHQL_INTROSPECTION: 'false', GRAPHIQL: 'false' } });
  });
  afterAll(async () => {
    await server.close();
  });

  it('rejects introspection but answers queries', async () => {
    const rejected = await post(server, INTROSPECTION);
    expect(rejected.status).toBe(400);
    expect(rejected.body.errors?.[0]?.message).toMatch(/introspection/i);
    expect((await post(server, '{ indexes }')).body.data).toEqual({ indexes: [] });
  });

  it('serves no GraphiQL page', async () => {
    const response = await fetch(server.url, { headers: { accept: 'text/html' } });
    expect(await response.text()).not.toMatch(/<html/i);
  });
});
