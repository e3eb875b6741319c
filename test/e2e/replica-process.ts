// A replica for the multi-process tests: `cipherdex serve` in a child process (as an operator
// starts each replica), with typed GraphQL requests over HTTP and graphql-ws clients that are
// closed when it stops.

import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { HttpAnswer } from '../server/harness.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';

export interface Replica extends ServeProcess {
  name: string;
  request<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<HttpAnswer<T>>;
  /** A graphql-ws client that never retries; disposed by stop(). */
  ws(): Client;
  kill(): Promise<void>;
  /** Closes its clients, then ends the process (SIGTERM) and waits for it. */
  stop(): Promise<void>;
}

export async function serveReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const process = await startServeProcess(name, env);
  const { url, child, exited } = process;
  const clients: Client[] = [];
  return {
    ...process,
    name,
    async request(document, variables) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': env.CIPHERDEX_API_KEY! },
        body: JSON.stringify({ query: print(document), variables }),
      });
      return { status: response.status, body: (await response.json()) as HttpAnswer<never>['body'] };
    },
    ws() {
      const client = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams: { apiKey: env.CIPHERDEX_API_KEY },
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      await Promise.all(clients.map((client) => client.dispose()));
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
