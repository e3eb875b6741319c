// A subscriber that leaves an idle index releases its trainingStatus stream at once, whichever way
// it leaves: a graphql-ws `complete`, a socket cut without a close frame, an SSE request aborted.
// Without the operation-scoped service view, each stream would stay open until the index's next
// training event (the errors plugin's async generator waits for it before it can return).

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { createClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../src/config.js';
import { type RunningServer, startServer } from '../../src/server/start-server.js';
import { createIndexService } from '../../src/service/create-index-service.js';
import type { CipherdexIndexService } from '../../src/service/index-service.js';
import { createLocalTrainingEvents, type TrainingEventBus } from '../../src/service/training/training-events.js';
import { TrainingStatusDocument } from '../generated/graphql.js';
import { newIndexKey } from './harness.js';

const index = 'idle';
const key = newIndexKey();
const apiKey = `test_${randomBytes(16).toString('hex')}`;
let dataDir: string;
let events: TrainingEventBus;
let service: CipherdexIndexService;
let server: RunningServer;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-lifetime-'));
  const config = loadConfig({ CIPHERDEX_DATA_DIR: dataDir, CIPHERDEX_API_KEY: apiKey, PORT: '0', AUTO_TRAIN_DISABLED: 'true' });
  events = createLocalTrainingEvents();
  service = await createIndexService(config, { events });
  server = await startServer(config, { service, log: () => {} });
  await service.createIndex(index, key, { dimension: 3 });
});

afterAll(async () => {
  await server.close();
  await service.close();
  await events.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function eventually(condition: () => boolean): Promise<boolean> {
  const deadline = Date.now() + 5_000;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

/** A graphql-ws client subscribed to the idle index, its socket, and a promise of the first event. */
function wsSubscriber() {
  let socket: WebSocket | undefined;
  class TrackedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      socket = this;
    }
  }
  const client = createClient({ url: server.url.replace(/^http/, 'ws'), webSocketImpl: TrackedWebSocket, connectionParams: { apiKey }, retryAttempts: 0, lazy: true });
  let firstEvent!: () => void;
  const subscribed = new Promise<void>((resolve) => (firstEvent = resolve));
  const unsubscribe = client.subscribe({ query: print(TrainingStatusDocument), variables: { index, key } }, { next: () => firstEvent(), error: () => {}, complete: () => {} });
  return { client, socket: () => socket!, subscribed, unsubscribe };
}

describe('trainingStatus streams end with the operation', () => {
  it('when a graphql-ws client completes its subscription, the socket staying open', async () => {
    const subscriber = wsSubscriber();
    await subscriber.subscribed;
    expect(events.subscriberCount(index)).toBe(1);
    subscriber.unsubscribe();
    expect(await eventually(() => events.subscriberCount(index) === 0)).toBe(true);
    await subscriber.client.dispose();
  });

  it('when the socket is cut without a close frame', async () => {
    const subscribers = Array.from({ length: 5 }, () => wsSubscriber());
    await Promise.all(subscribers.map((s) => s.subscribed));
    expect(events.subscriberCount(index)).toBe(5);
    for (const s of subscribers) s.socket().terminate();
    expect(await eventually(() => events.subscriberCount(index) === 0)).toBe(true);
    await Promise.all(subscribers.map((s) => s.client.dispose()));
  });

  it('when an SSE request is aborted', async () => {
    const controller = new AbortController();
    const response = await fetch(server.url, {
      method: 'POST',
      signal: controller.signal,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-api-key': apiKey },
      body: JSON.stringify({ query: print(TrainingStatusDocument), variables: { index, key } }),
    });
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"phase"')) text += new TextDecoder().decode((await reader.read()).value);
    expect(events.subscriberCount(index)).toBe(1);
    controller.abort();
    expect(await eventually(() => events.subscriberCount(index) === 0)).toBe(true);
  });

  it('and other requests reach the service unchanged', async () => {
    const response = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ query: 'query($k: IndexKey!) { indexes index(name: "idle", key: $k) { ... on Index { dimension } } }', variables: { k: key } }),
    });
    expect(await response.json()).toEqual({ data: { indexes: [index], index: { dimension: 3 } } });
  });
});
