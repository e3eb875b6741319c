import { readdir, readFile } from 'node:fs/promises';
import { createYoga } from 'graphql-yoga';
import { type CloseEvent, WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, loadConfig } from '../../../src/config.js';
import { schema } from '../../../src/graphql/schema/index.js';
import { DEFAULT_QUERY_LIMITS, type QueryLimits, queryLimitsFrom, useLimits } from '../../../src/server/plugins/use-limits.js';
import { newIndexKey, startTestServer, type TestServer } from '../harness.js';

const TIGHT: QueryLimits = { maxDepth: 3, maxAliases: 2, maxTokens: 60, maxCost: 30, maxDirectives: 2 };

async function post(server: TestServer, query: string): Promise<{ status: number; messages: string[] }> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': server.apiKey },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { errors?: Array<{ message: string }> };
  return { status: response.status, messages: (body.errors ?? []).map((e) => e.message) };
}

describe('queryLimitsFrom', () => {
  it('reads each limit from its setting and defaults the rest', () => {
    const { limits } = loadConfig({ MAX_QUERY_DEPTH: '4', MAX_QUERY_COST: '99' });
    expect(queryLimitsFrom({ limits })).toEqual({ ...DEFAULT_QUERY_LIMITS, maxDepth: 4, maxCost: 99 });
  });
});

describe('default limits', () => {
  it('let every operation in schema/operations through', async () => {
    const dir = new URL('../../../schema/operations/', import.meta.url);
    const files = (await readdir(dir)).filter((file) => file.endsWith('.graphql'));
    const source = (await Promise.all(files.map((file) => readFile(new URL(file, dir), 'utf8')))).join('\n');
    const { parse, validate } = createYoga({ schema, plugins: [useLimits(DEFAULT_QUERY_LIMITS)] }).getEnveloped({});
    expect(validate(schema, parse(source))).toEqual([]);
  });
});

describe('limits on the real server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      env: { MAX_REQUEST_BYTES: '4096', AUTO_TRAIN_DISABLED: 'true' },
      configure: (config) => ({ ...config, limits: Object.assign({ ...config.limits }, TIGHT) }),
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('accepts a query within every limit', async () => {
    expect(await post(server, '{ indexes }')).toEqual({ status: 200, messages: [] });
  });

  it.each([
    ['depth', '{ searchBatch(index: "a", key: "x", vectors: []) { ... on SearchBatchResults { results { hits { id } } } } }', /depth/i],
    ['aliases', '{ a: indexes b: indexes c: indexes }', /alias/i],
    ['tokens', `{ ${Array.from({ length: 70 }, () => '__typename').join(' ')} }`, /token/i],
    ['cost', '{ trainingQueue { running { index phase iteration maxIters nLists } queued { index phase iteration maxIters nLists } } }', /cost/i],
    ['directives', '{ indexes @skip(if: false) @include(if: true) @skip(if: false) }', /directive/i],
  ])('rejects a query over the %s limit with a clear error', async (_limit, query, pattern) => {
    const answer = await post(server, query);
    expect(answer.status).toBe(400);
    expect(answer.messages.join(' ')).toMatch(pattern);
  });

  it('counts fields, not fragments, toward depth and cost', async () => {
    // Three fields deep, through an inline fragment and two nested named fragments.
    const query = `query { index(name: "a", key: "${newIndexKey()}") { ... on Index { ...IndexRun } } }
      fragment IndexRun on Index { lastTrainingRun { ...Progress } }
      fragment Progress on TrainingProgress { phase }`;
    expect(await post(server, query)).toEqual({ status: 200, messages: [] });
  });

  it('rejects a request body over MAX_REQUEST_BYTES with 413', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': server.apiKey },
      body: JSON.stringify({ query: '{ indexes }', variables: { padding: 'x'.repeat(8192) } }),
    });
    expect(response.status).toBe(413);
  });

  it('applies the same limits to WebSocket operations', async () => {
    const tooManyAliases = server.wsClient();
    const error = await new Promise<unknown>((resolve) => {
      tooManyAliases.subscribe({ query: '{ a: indexes b: indexes c: indexes }' }, { next: () => {}, error: resolve, complete: () => resolve(null) });
    });
    expect(JSON.stringify(error)).toMatch(/alias/i);
  });

  it('closes a WebSocket whose message exceeds MAX_REQUEST_BYTES (1009)', async () => {
    const socket = new WebSocket(server.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    await new Promise((resolve, reject) => {
      socket.once('open', resolve);
      socket.once('error', reject);
    });
    const closed = new Promise<number>((resolve) => socket.once('close', (code: CloseEvent['code']) => resolve(code)));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { apiKey: server.apiKey, padding: 'x'.repeat(8192) } }));
    expect(await closed).toBe(1009);
  });
});
