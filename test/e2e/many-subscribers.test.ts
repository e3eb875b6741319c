// 1,000 trainingStatus subscribers, each on its own WebSocket (a real graphql-ws client per
// socket), against a server in a child process: every one receives every event of a training run,
// the same sequence for all; when all the sockets are cut without a close handshake, the server's
// open subscriptions return to zero and its heap (after forced GC) returns near its baseline.
//
// The server runs in its own process so its heap is measured without the 1,000 clients in it; it is
// started with --expose-gc and reports the training event bus's subscriberCount() over IPC (the
// test hands the bus to the service, so no public endpoint is needed for it).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { print } from 'graphql';
import { type Client, createClient } from 'graphql-ws';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { CreateIndexDocument, TrainIndexDocument, TrainingStatusDocument, type TrainingStatusSubscription, UpsertDocument } from '../generated/graphql.js';
import { newIndexKey } from '../server/harness.js';
import { startServerProcess, type ServerProcess } from './server-process.js';
import { clusteredVectors, toBase64 } from './vectors.js';

type Status = Extract<TrainingStatusSubscription['trainingStatus'], { __typename: 'TrainingStatus' }>;

const SUBSCRIBERS = 1_000;
/** Sockets opened at once: well under the listen backlog, so no SYN is dropped and retried. */
const WAVE = 100;
const DIMENSION = 16;
const VECTORS = 3_000;
const MAX_ITERS = 12;
/**
 * Generous, yet well below what 1,000 open subscriptions hold (about 20 MiB here), so a leak of
 * each one's state would fail it.
 */
const HEAP_SLACK_BYTES = 8 * 2 ** 20;
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);

let server: ServerProcess;
let dataDir: string;
const key = newIndexKey();
const index = 'fan-out';

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-subscribers-'));
  server = await startServerProcess({ dataDir, exposeGc: true, env: { AUTO_TRAIN_DISABLED: 'true' } });
  const created = await server.request(CreateIndexDocument, { name: index, key, dimension: DIMENSION });
  expect(created.body.data?.createIndex.__typename).toBe('Index');
  const vectors = clusteredVectors(VECTORS, DIMENSION, 24, 11);
  const upserted = await server.request(UpsertDocument, { index, key, items: vectors.map((vector, i) => ({ id: `v${i}`, vector: toBase64(vector) })) });
  expect(upserted.body.data?.upsert.__typename).toBe('UpsertSuccess');
});

afterAll(async () => {
  await server?.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface Subscriber {
  client: Client;
  socket: () => WebSocket;
  events: Status[];
  errors: unknown[];
  /** Resolves at the first event (the current state). */
  subscribed: Promise<void>;
}

/** A graphql-ws client on its own socket, subscribed to the index's trainingStatus. */
function subscribe(): Subscriber {
  let socket: WebSocket | undefined;
  // The client creates its socket itself; this subclass keeps hold of it so the test can cut it.
  class TrackedWebSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      socket = this;
    }
  }
  const client = createClient({ url: server.wsUrl, webSocketImpl: TrackedWebSocket, connectionParams: { apiKey: server.apiKey }, retryAttempts: 0, lazy: true });
  const events: Status[] = [];
  const errors: unknown[] = [];
  const subscribed = new Promise<void>((resolve) => {
    client.subscribe<TrainingStatusSubscription>(
      { query: print(TrainingStatusDocument), variables: { index, key } },
      {
        next: (result) => {
          const status = result.data?.trainingStatus;
          if (status?.__typename === 'TrainingStatus') events.push(status);
          else errors.push(result);
          resolve();
        },
        error: (error) => {
          errors.push(error);
          resolve();
        },
        complete: () => resolve(),
      },
    );
  });
  return { client, socket: () => socket!, events, errors, subscribed };
}

async function subscribeMany(count: number): Promise<Subscriber[]> {
  const all: Subscriber[] = [];
  for (let start = 0; start < count; start += WAVE) {
    const wave = Array.from({ length: Math.min(WAVE, count - start) }, () => subscribe());
    await Promise.all(wave.map((s) => s.subscribed));
    all.push(...wave);
  }
  return all;
}

/** Cuts every socket without a close frame (as a crashed client or a lost network would). */
async function terminateAll(subscribers: Subscriber[]): Promise<void> {
  for (const s of subscribers) s.socket().terminate();
  await Promise.all(subscribers.map((s) => s.client.dispose()));
}

async function waitForSubscribers(expected: number): Promise<Awaited<ReturnType<ServerProcess['stats']>>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const stats = await server.stats();
    if (stats.subscribers === expected || Date.now() > deadline) return stats;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The heap after GC once it stops shrinking: the server lets go of closed sockets' buffers a moment
 * after their subscriptions ended (measured here: back to within ~1 MiB of the baseline in 1-2 s).
 */
async function settledStats(baselineHeap: number): Promise<Awaited<ReturnType<ServerProcess['stats']>>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const stats = await server.stats();
    if (stats.heapUsed - baselineHeap < HEAP_SLACK_BYTES / 4 || Date.now() > deadline) return stats;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

/** Subscribes `count` clients, runs one training and waits until every subscriber saw it end. */
async function subscribeThroughRun(count: number): Promise<{ subscribers: Subscriber[]; runId: string; open: Awaited<ReturnType<ServerProcess['stats']>> }> {
  const subscribers = await subscribeMany(count);
  expect(subscribers.flatMap((s) => s.errors)).toEqual([]);
  const open = await server.stats();
  const started = await server.request(TrainIndexDocument, { index, key, maxIters: MAX_ITERS, tolerance: 0 });
  const run = started.body.data?.trainIndex;
  if (run?.__typename !== 'TrainingRun') throw new Error(`trainIndex failed: ${JSON.stringify(started.body)}`);
  const deadline = Date.now() + 45_000;
  while (!subscribers.every((s) => s.events.some((e) => e.runId === run.runId && TERMINAL.has(e.phase))) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { subscribers, runId: run.runId, open };
}

it('delivers every event of a run to 1,000 subscribers, then frees their subscriptions and memory when the sockets are cut', async () => {
  // Warm-up round with a run of its own: code paths compiled on first use and the trained model
  // stay for good and are not what this test looks for, so the baseline is taken after them.
  await terminateAll((await subscribeThroughRun(WAVE)).subscribers);
  expect((await waitForSubscribers(0)).subscribers).toBe(0);
  const baseline = await server.stats();

  const { subscribers, runId, open } = await subscribeThroughRun(SUBSCRIBERS);
  expect(open.subscribers).toBe(SUBSCRIBERS);

  // Each subscriber: its first event is the state before the run, then the run, event for event.
  const sequence = (s: Subscriber) => s.events.filter((e) => e.runId === runId).map((e) => `${e.phase}:${e.iteration}`);
  const reference = sequence(subscribers[0]);
  const phases = reference.map((entry) => entry.split(':')[0]).filter((phase, i, all) => phase !== all[i - 1]);
  expect(phases).toEqual(['QUEUED', 'INITIALIZING', 'ITERATING', 'ASSIGNING', 'PERSISTING', 'COMPLETED']);
  const final = subscribers[0].events.at(-1)!;
  expect(final).toMatchObject({ runId, phase: 'COMPLETED' });
  const iterations = reference.filter((entry) => entry.startsWith('ITERATING:') && !entry.endsWith(':0'));
  expect(iterations).toEqual(Array.from({ length: final.iteration }, (_, i) => `ITERATING:${i + 1}`));
  const differing = subscribers.filter((s) => JSON.stringify(sequence(s)) !== JSON.stringify(reference));
  expect(differing.length, `first differing: ${JSON.stringify(differing[0] && sequence(differing[0]))}`).toBe(0);
  expect(subscribers.every((s) => s.events[0].runId !== runId)).toBe(true);
  expect(subscribers.flatMap((s) => s.errors)).toEqual([]);

  await terminateAll(subscribers);
  expect((await waitForSubscribers(0)).subscribers).toBe(0);
  const after = await settledStats(baseline.heapUsed);
  expect(after.subscribers).toBe(0);

  console.log(
    `many-subscribers: ${SUBSCRIBERS} sockets, ${reference.length} events each (${final.iteration} iterations); server heap after GC: ` +
      `baseline ${mib(baseline.heapUsed)} MiB, ${SUBSCRIBERS} open ${mib(open.heapUsed)} MiB (+${mib(open.heapUsed - baseline.heapUsed)}), ` +
      `after the sockets were cut ${mib(after.heapUsed)} MiB (+${mib(after.heapUsed - baseline.heapUsed)}); rss ${mib(baseline.rss)} -> ${mib(open.rss)} -> ${mib(after.rss)} MiB`,
  );
  expect(open.heapUsed - baseline.heapUsed).toBeGreaterThan(HEAP_SLACK_BYTES);
  expect(after.heapUsed - baseline.heapUsed).toBeLessThan(HEAP_SLACK_BYTES);
});
