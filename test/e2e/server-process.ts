// Runs the real server in a child process (fixtures/server-process-entry.ts) for tests that kill
// it with SIGKILL, restart it on the same data directory, or measure its heap without the test's
// own clients in the numbers.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { HttpAnswer } from '../server/harness.js';
import type { ServerProcessMessage, ServerProcessStats } from './fixtures/server-process-entry.js';

const ENTRY = fileURLToPath(new URL('./fixtures/server-process-entry.ts', import.meta.url));

export interface ServerProcess {
  url: string;
  wsUrl: string;
  apiKey: string;
  child: ChildProcess;
  /** Everything the server printed (stdout and stderr), line by line. */
  output: string[];
  /** POSTs a document with the API key. */
  request<T, V>(document: TypedDocumentNode<T, V>, variables: V): Promise<HttpAnswer<T>>;
  /** Open trainingStatus subscriptions and heap figures, after forced GC when started with exposeGc. */
  stats(): Promise<Omit<ServerProcessStats, 'type'>>;
  /** SIGKILL, then resolves once the process is gone. */
  kill(): Promise<void>;
  /** Clean shutdown (or SIGKILL if it does not exit within 10 s). */
  close(): Promise<void>;
}

export interface ServerProcessOptions {
  dataDir: string;
  /** Reuse the API key of an earlier process on the same data. */
  apiKey?: string;
  env?: Record<string, string>;
  exposeGc?: boolean;
}

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const apiKey = options.apiKey ?? `test_${randomBytes(16).toString('hex')}`;
  const child = spawn(process.execPath, [...(options.exposeGc ? ['--expose-gc'] : []), '--import', 'tsx', ENTRY], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { ...process.env, ...options.env, CIPHERDEX_DATA_DIR: options.dataDir, CIPHERDEX_API_KEY: apiKey, PORT: '0', HOST: '127.0.0.1' },
  });
  const output: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => output.push(...chunk.split('\n').filter(Boolean)));
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: ServerProcessMessage) => {
      if (message.type === 'listening') resolve(message.url);
    });
    child.once('exit', (code, signal) => reject(new Error(`server process exited (${code ?? signal}) before listening:\n${output.join('\n')}`)));
  });

  return {
    url,
    wsUrl: url.replace(/^http/, 'ws'),
    apiKey,
    child,
    output,
    async request(document, variables) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': apiKey },
        body: JSON.stringify({ query: print(document), variables }),
      });
      return { status: response.status, body: (await response.json()) as HttpAnswer<never>['body'] };
    },
    stats() {
      return new Promise((resolve) => {
        const listener = (message: ServerProcessMessage) => {
          if (message.type !== 'stats') return;
          child.off('message', listener);
          resolve({ subscribers: message.subscribers, heapUsed: message.heapUsed, rss: message.rss });
        };
        child.on('message', listener);
        child.send({ type: 'stats' });
      });
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
