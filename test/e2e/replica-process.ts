// A replica for the multi-process tests: `cipherdex serve` in a child process (as an operator
// starts each replica), with typed GraphQL requests over HTTP and graphql-ws clients that are
// closed when it stops.

import { randomBytes } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import WebSocket from 'ws';
import type { HttpAnswer } from '../server/harness.js';
import { startServeProcess, type ServeProcess } from '../support/serve-process.js';
import { createPostgresTestSchema, type PostgresTestSchema } from '../support/services.js';

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

/**
 * Replicas of one cluster for a suite: a fresh PostgreSQL schema and Redis, the serve settings
 * every replica shares (automatic training off, a short training lease), and, after the suite,
 * every replica stopped (resumed first if a test left it stopped), the suite's indexes removed
 * from the cluster's training statuses and the schema dropped. Call it in a `describe`.
 */
export function useServedReplicas(options: { schema: string; redisUrl: string; leaseMs: number; apiKeyPrefix: string }) {
  let schema: PostgresTestSchema | undefined;
  let env: Record<string, string> = {};
  const replicas: Replica[] = [];
  /** Indexes the suite created: their statuses are removed from Redis afterwards. */
  const indexNames: string[] = [];

  beforeAll(async () => {
    schema = await createPostgresTestSchema(options.schema);
    env = {
      CIPHERDEX_DB_TYPE: 'postgres',
      CIPHERDEX_CONNECTION_STRING: schema.connectionString,
      REDIS_URL: options.redisUrl,
      CIPHERDEX_API_KEY: `${options.apiKeyPrefix}_${randomBytes(12).toString('hex')}`,
      TRAINING_LEASE_MS: String(options.leaseMs),
      AUTO_TRAIN_DISABLED: 'true',
      CIPHERDEX_DATA_DIR: '/nonexistent-replicas-use-postgres',
    };
  });

  afterAll(async () => {
    // A replica left stopped (SIGSTOP) would never exit.
    for (const replica of replicas) if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill('SIGCONT');
    await Promise.all(replicas.map((replica) => replica.stop()));
    const admin = new Redis(options.redisUrl);
    // The replicas' cluster namespace is derived from the schema; these index names are unique, so
    // removing them from every cluster's status hash touches nothing else.
    if (indexNames.length > 0) {
      for (const key of await admin.keys('cipherdex:*:training-status')) await admin.hdel(key, ...indexNames);
    }
    await admin.quit();
    await schema?.drop();
  });

  return {
    indexNames,
    /** Starts a replica of the cluster (call it in a hook or a test); `extra` is added to the shared settings. */
    async start(name: string, extra: Record<string, string> = {}): Promise<Replica> {
      const replica = await serveReplica(name, { ...env, ...extra });
      replicas.push(replica);
      return replica;
    },
  };
}
