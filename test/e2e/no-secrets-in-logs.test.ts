// Secrets never reach the server's output: the server runs as a real child process (`cipherdex
// serve`, as an operator runs it) with every byte of its stdout and stderr captured, through a
// full scenario (indexes under base64 and hex keys, upserts with distinctive contents and
// metadata, filtered searches, manual and automatic training watched over WebSockets, wrong API
// keys and index keys, malformed input of every kind, a rate-limited address, shutdown). Then no
// API key, index key (in any encoding), item contents, metadata value or item id may appear in it.
// It runs at LOG_LEVEL=debug, so every request's own log line is in the output too; every line is
// a JSON log record, and a request's X-Request-Id comes back in its response and in its log line.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateIndexDocument,
  DeleteItemsDocument,
  IndexDocument,
  ItemsDocument,
  SearchBatchDocument,
  SearchDocument,
  TrainIndexDocument,
  TrainingStatusDocument,
  UpsertDocument,
} from '../generated/graphql.js';
import { toBase64, uniformVectors } from './vectors.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIMENSION = 8;

/** A value no log line could contain by chance. */
const marker = (label: string) => `${label}-${randomBytes(9).toString('hex')}`;

const apiKey = marker('apikey');
const wrongApiKey = marker('wrong-apikey');
const rawKeys = [randomBytes(32), randomBytes(32), randomBytes(32)];
const [base64Key, hexKey, wrongIndexKey] = [rawKeys[0]!.toString('base64'), rawKeys[1]!.toString('hex'), rawKeys[2]!.toString('base64url')];

const items = uniformVectors(60, DIMENSION, 11).map((vector, i) => ({
  id: marker(`id${i}`),
  vector,
  contents: marker(`contents${i}`),
  metadata: { owner: marker(`owner${i}`), depth: { level: { note: marker(`note${i}`) } }, tags: [marker(`tag${i}`)], rank: i },
}));

/** Every secret in every encoding a careless log line might use. */
function secrets(): string[] {
  const keyForms = rawKeys.flatMap((key) => [key.toString('base64'), key.toString('base64url'), key.toString('hex'), key.toString('hex').toUpperCase()]);
  const itemValues = items.flatMap((item) => [item.id, item.contents, item.metadata.owner, item.metadata.depth.level.note, item.metadata.tags[0]!]);
  return [apiKey, wrongApiKey, ...keyForms, ...itemValues, ...extraSecrets];
}
/** Secrets that only appear in malformed requests. */
const extraSecrets: string[] = [];

interface Served {
  url: string;
  output: () => string;
  stop: () => Promise<number | null>;
}

async function serve(dataDir: string): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NO_COLOR: '1',
      PORT: '0',
      HOST: '127.0.0.1',
      CIPHERDEX_API_KEY: apiKey,
      CIPHERDEX_DATA_DIR: dataDir,
      // Low enough that the scenario's upserts queue an automatic run.
      RETRAIN_THRESHOLD: '50',
      AUTH_FAILURE_LIMIT: '3',
      MAX_CONTENTS_BYTES: '4096',
      LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearInterval(timer);
        resolve(match[1]!);
      }
    }, 20);
    void exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`server exited with ${code} before listening:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

describe('server output during a full scenario', () => {
  let dataDir: string;
  let server: Served;
  let exitCode: number | null = null;
  const tracedId = `trace-${randomBytes(6).toString('hex')}`;
  let echoedId: string | null = null;
  let generatedId: string | null = null;

  async function post(body: string | object, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': apiKey, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: response.status, body: await response.text() };
  }

  async function run<T, V>(document: TypedDocumentNode<T, V>, variables: V, headers: Record<string, string> = {}): Promise<{ status: number; data: T | undefined; text: string }> {
    const answer = await post({ query: print(document), variables }, headers);
    return { status: answer.status, data: (JSON.parse(answer.body) as { data?: T }).data, text: answer.body };
  }

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-no-secrets-'));
    server = await serve(dataDir);

    // Two indexes, one created with a base64 key and one with a hex key.
    for (const [name, key] of [['alpha', base64Key], ['beta', hexKey]] as const) {
      const created = await run(CreateIndexDocument, { name, key, dimension: DIMENSION });
      expect(created.data?.createIndex.__typename).toBe('Index');
    }

    // Watch training on alpha over WebSockets while the upserts cross the automatic threshold.
    const ws = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { apiKey }, retryAttempts: 0 });
    const phases: string[] = [];
    const watching = new Promise<void>((resolve, reject) => {
      ws.subscribe(
        { query: print(TrainingStatusDocument), variables: { index: 'alpha', key: base64Key } },
        {
          next: (result) => {
            const status = (result.data as { trainingStatus?: { phase?: string } } | undefined)?.trainingStatus;
            if (status?.phase) phases.push(status.phase);
            if (status?.phase === 'COMPLETED') resolve();
          },
          error: reject,
          complete: () => resolve(),
        },
      );
    });

    const toInput = (item: (typeof items)[number]) => ({ id: item.id, vector: toBase64(item.vector), contents: item.contents, metadata: item.metadata });
    // alpha crosses RETRAIN_THRESHOLD (an automatic run); beta stays under it and is trained by hand.
    for (const [index, key, count] of [['alpha', base64Key, 60], ['beta', hexKey, 40]] as const) {
      const upserted = await run(UpsertDocument, { index, key, items: items.slice(0, count).map(toInput) });
      expect(upserted.data?.upsert.__typename).toBe('UpsertSuccess');
    }

    // Reads and searches that carry the secrets back out, in base64 and list form.
    const read = await run(ItemsDocument, { index: 'alpha', key: base64Key, ids: [items[3]!.id] });
    expect(read.text).toContain(items[3]!.contents);
    const filtered = await run(SearchDocument, {
      index: 'beta',
      key: hexKey,
      vector: Array.from(items[5]!.vector),
      topK: 3,
      filter: { owner: { $eq: items[5]!.metadata.owner } },
    });
    expect(filtered.text).toContain(items[5]!.metadata.depth.level.note);
    const batch = await run(SearchBatchDocument, { index: 'alpha', key: base64Key, vectors: items.slice(0, 3).map((item) => toBase64(item.vector)), topK: 2 });
    expect(batch.data?.searchBatch.__typename).toBe('SearchBatchResults');

    // A manual run on beta while alpha's automatic run is watched above.
    const trained = await run(TrainIndexDocument, { index: 'beta', key: hexKey, nLists: 4, wait: true });
    expect(trained.data?.trainIndex).toMatchObject({ __typename: 'TrainingRun', phase: 'COMPLETED' });
    await watching;
    expect(phases).toContain('ITERATING');
    await ws.dispose();

    // A caller's request id comes back and names the request in the log; without one, the server makes one.
    const traced = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey, 'x-request-id': tracedId },
      body: JSON.stringify({ query: print(SearchDocument), variables: { index: 'alpha', key: base64Key, vector: Array.from(items[7]!.vector) } }),
    });
    echoedId = traced.headers.get('x-request-id');
    await traced.text();
    const untraced = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': apiKey }, body: JSON.stringify({ query: '{ indexes }' }) });
    generatedId = untraced.headers.get('x-request-id');
    await untraced.text();

    // A wrong index key.
    const wrongIndex = await run(IndexDocument, { name: 'alpha', key: wrongIndexKey });
    expect(wrongIndex.data?.index.__typename).toBe('InvalidIndexKeyError');
    const wrongSearch = await run(SearchDocument, { index: 'beta', key: wrongIndexKey, vector: Array.from(items[0]!.vector) });
    expect(wrongSearch.data?.search.__typename).toBe('InvalidIndexKeyError');

    // Malformed input: keys, vectors, metadata, filters, ids, documents and bodies carrying secrets.
    const badKey = marker('not-a-key');
    const hugeContents = marker('huge') + 'x'.repeat(5000);
    const badFilterValue = marker('filter');
    const deleteId = marker('delete-id');
    extraSecrets.push(badKey, hugeContents.slice(0, 24), badFilterValue, deleteId);
    const malformed = [
      await post({ query: print(IndexDocument), variables: { name: 'alpha', key: badKey } }),
      await post({ query: print(SearchDocument), variables: { index: 'alpha', key: base64Key, vector: `${badKey}!!` } }),
      await post({ query: print(SearchDocument), variables: { index: 'alpha', key: base64Key, vector: [1, 2, 3] } }),
      await post({ query: print(SearchDocument), variables: { index: 'alpha', key: base64Key, vector: Array.from(items[0]!.vector), filter: { owner: { $regex: badFilterValue } } } }),
      await post({ query: print(UpsertDocument), variables: { index: 'alpha', key: base64Key, items: [{ id: items[0]!.id, vector: toBase64(new Float32Array(DIMENSION).fill(Number.NaN)), contents: items[0]!.contents }] } }),
      await post({ query: print(UpsertDocument), variables: { index: 'alpha', key: base64Key, items: [{ id: items[1]!.id, vector: toBase64(items[1]!.vector), contents: hugeContents }] } }),
      await post({ query: print(UpsertDocument), variables: { index: 'alpha', key: base64Key, items: [{ id: items[2]!.id, vector: toBase64(items[2]!.vector), metadata: [items[2]!.metadata.owner] }] } }),
      await post({ query: print(DeleteItemsDocument), variables: { index: 'alpha', key: base64Key, ids: [deleteId, ''] } }),
      // The key written into the query text instead of a variable, in a document that does not parse.
      await post({ query: `{ index(name: "alpha", key: "${base64Key}") { __typename ` }),
      await post({ query: `{ index(name: "alpha", key: "${hexKey}") { __typename nonsense } }` }),
      // Bodies that are not JSON, or not GraphQL requests.
      await post(`{"query": "{ indexes }", "variables": {"key": "${base64Key}"`),
      await post(`${items[4]!.contents}`),
    ];
    for (const answer of malformed) expect(answer.status).toBeLessThan(500);

    // Wrong API keys over HTTP and WebSockets, up to the rate limit and past it.
    for (let i = 0; i < 4; i++) {
      const refused = await run(IndexDocument, { name: 'alpha', key: base64Key }, { 'x-api-key': wrongApiKey });
      expect([401, 429]).toContain(refused.status);
    }
    const wrongWs = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: { apiKey: wrongApiKey }, retryAttempts: 0, lazy: true });
    await new Promise<void>((resolve) => wrongWs.subscribe({ query: '{ indexes }' }, { next: () => {}, error: () => resolve(), complete: () => resolve() }));
    await wrongWs.dispose();

    exitCode = await server.stop();
  }, 120_000);

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('was captured: the server started, logged, and shut down cleanly', () => {
    expect(server.output()).toMatch(/listening on/);
    expect(server.output()).toMatch(/SIGTERM received/);
    expect(exitCode).toBe(0);
  });

  it('contains no API key, index key, contents, metadata value or item id', () => {
    const output = server.output();
    const leaked = secrets().filter((secret) => output.includes(secret));
    expect(leaked, `server output:\n${output}`).toEqual([]);
  });

  it('writes every line as a JSON log record, and names requests by the id their response carries', () => {
    const lines = server.output().split('\n').filter((line) => line.trim() !== '');
    const records = lines.map((line) => {
      try {
        return JSON.parse(line) as { level?: unknown; time?: unknown; msg?: unknown; requestId?: unknown; path?: unknown; status?: unknown };
      } catch {
        throw new Error(`not a JSON log line: ${line}`);
      }
    });
    for (const record of records) {
      expect(typeof record.level).toBe('number');
      expect(typeof record.time).toBe('string');
      expect(typeof record.msg).toBe('string');
    }
    expect(echoedId).toBe(tracedId);
    expect(generatedId).toMatch(/^[0-9a-f-]{36}$/);
    const served = records.filter((record) => record.msg === 'request served');
    // Every HTTP request of the scenario has its line, at debug level, with a path and never a query string.
    expect(served.length).toBeGreaterThan(20);
    expect(served.every((record) => record.path === '/graphql')).toBe(true);
    expect(served.find((record) => record.requestId === tracedId)).toMatchObject({ status: 200 });
    expect(served.find((record) => record.requestId === generatedId)).toMatchObject({ status: 200 });
  });
});
