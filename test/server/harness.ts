// Starts the real server for tests: a fresh data directory, port 0, a random API key, and
// helpers that speak real HTTP (fetch) and real graphql-ws with the generated typed documents.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type ExecutionResult, type FormattedExecutionResult, print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { type Config, loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';

export interface HttpAnswer<T> {
  status: number;
  body: ExecutionResult<T> & { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
}

export interface TestServer {
  url: string;
  wsUrl: string;
  apiKey: string;
  dataDir: string;
  /** Every line the server logged. */
  logs: string[];
  /** POSTs a document; `apiKey: null` sends none. */
  request<T, V>(document: TypedDocumentNode<T, V>, variables: V, options?: { apiKey?: string | null }): Promise<HttpAnswer<T>>;
  /** A graphql-ws client that never retries (a refusal is an answer in these tests). */
  wsClient(apiKey?: string | null): Client;
  /** Stops the server; the data directory is removed unless keepData. */
  close(options?: { keepData?: boolean }): Promise<void>;
}

export function newIndexKey(): string {
  return randomBytes(32).toString('base64');
}

export interface TestServerOptions {
  /** Environment settings on top of a fresh data directory, port 0 and a random API key. */
  env?: Record<string, string>;
  /** Reuse a data directory (e.g. one a previous server left with keepData). */
  dataDir?: string;
  /** Adjusts the loaded config, for settings that have no environment variable. */
  configure?: (config: Config) => Config;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'cipherdex-server-')));
  const apiKey = `test_${randomBytes(16).toString('hex')}`;
  const logs: string[] = [];
  const loaded = loadConfig({ CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: apiKey, PORT: '0', ...options.env });
  const config = options.configure ? options.configure(loaded) : loaded;
  let running: RunningServer;
  try {
    running = await startServer(config, { log: (line) => logs.push(line) });
  } catch (error) {
    if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const clients: Client[] = [];
  const wsUrl = running.url.replace(/^http/, 'ws');

  return {
    url: running.url,
    wsUrl,
    apiKey,
    dataDir,
    logs,
    async request(document, variables, options = {}) {
      const key = options.apiKey === undefined ? apiKey : options.apiKey;
      const response = await fetch(running.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...(key === null ? {} : { 'x-api-key': key }) },
        body: JSON.stringify({ query: print(document), variables }),
      });
      return { status: response.status, body: (await response.json()) as HttpAnswer<never>['body'] };
    },
    wsClient(key = apiKey) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: key === null ? {} : { apiKey: key },
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async close({ keepData = false } = {}) {
      await Promise.all(clients.map((client) => client.dispose()));
      await running.close();
      if (!keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs one operation over graphql-ws and returns every result until it completes or `until` holds. */
export async function collect<T, V extends Record<string, unknown>>(
  client: Client,
  document: TypedDocumentNode<T, V>,
  variables: V,
  until: (result: FormattedExecutionResult<T, unknown>, all: FormattedExecutionResult<T, unknown>[]) => boolean = () => false,
): Promise<FormattedExecutionResult<T, unknown>[]> {
  const results: FormattedExecutionResult<T, unknown>[] = [];
  const iterator = client.iterate<T>({ query: print(document), variables });
  try {
    for await (const result of iterator) {
      results.push(result);
      if (until(result, results)) break;
    }
  } finally {
    await iterator.return?.();
  }
  return results;
}
