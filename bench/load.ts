// Load benchmark: a real Cipherdex server on loopback (startServer in a process of its own,
// bench/load-server.ts: temp SQLite directory, port 0) under concurrent HTTP searches and upserts
// and graphql-ws trainingStatus subscribers, while the upserts push the index across
// RETRAIN_THRESHOLD so an automatic training run happens in the middle of the load. Bounded in
// operations and in time. Prints throughput, p50/p99 latency and errors per operation, the
// server's event-loop delay, and from the server's side how long searches and upserts sat unread
// in their sockets and then took to answer, and how long its main thread waited for a core. Then
// checks that every acknowledged write is stored with its exact vector and that searches find
// items by their own vectors. With --rate the upserts are paced to a
// sustained stream of vectors per second (--sustained: 10,000 vectors/s at 128-d across an automatic
// run, the event loop's service level). `npm run bench -- load --help`.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { TrainingPhase, TrainingTrigger } from '../src/service/types.js';
import { embeddingLikeData } from './data/embedding-like.js';
import { spawnSiblingWorker } from '../src/runtime/spawn-worker.js';
import { closeConnections, epochMs, graphql, graphqlBody, OPERATIONS, requestBody, toBase64, type SearchersData, type SearchersMessage } from './load-client.js';
import type { LoadServerMessage, LoadServerStats } from './load-server.js';
import { percentile } from './bench-table.js';
import { measureMachineCosts, type MachineCosts } from './machine-costs.js';

export interface LoadOptions {
  /** Closed-loop search clients, each sending its next search when the last is answered (when searchRate is 0). */
  searchClients: number;
  /** Searches per second arriving open-loop (a Poisson stream, whatever the answers take); 0: the closed-loop clients. */
  searchRate: number;
  upsertClients: number;
  /** At least 1: the first subscriber is how the benchmark sees the automatic run start and end. */
  subscribers: number;
  /** Upsert batches each upsert client sends (the count bound). */
  upsertsPerClient: number;
  batchSize: number;
  /** Items loaded before the clients start (below the threshold). */
  preload: number;
  retrainThreshold: number;
  dimension: number;
  topK: number;
  /** Hard stop for the whole load phase, in ms (the time bound). */
  timeLimitMs: number;
  /** Items whose own vector is searched for at the end (top hit must be the item). */
  selfSearches: number;
  /** Vectors per second the upsert clients together send, batches evenly spaced; 0: each client sends its next batch once the last is acknowledged. */
  upsertRate: number;
  /** The index type to create (the server's default when absent). */
  type?: 'IVF_FLAT' | 'IVF_SQ8' | 'IVF_PQ';
}

export const DEFAULT_LOAD: LoadOptions = {
  searchClients: 8,
  searchRate: 0,
  upsertClients: 4,
  subscribers: 16,
  upsertsPerClient: 50,
  batchSize: 100,
  preload: 5_000,
  retrainThreshold: 10_000,
  dimension: 64,
  topK: 10,
  timeLimitMs: 120_000,
  selfSearches: 200,
  upsertRate: 0,
};

/**
 * A sustained stream of 10,000 vectors/s at 128-d for about 15 s: the index crosses
 * RETRAIN_THRESHOLD after 1 s, so searches run while the automatic run trains on ~30,000 vectors and
 * installs its model, and then while the index grows with the stream.
 */
export const SUSTAINED_LOAD: LoadOptions = {
  ...DEFAULT_LOAD,
  searchClients: 4,
  upsertClients: 4,
  subscribers: 4,
  upsertsPerClient: 75,
  batchSize: 500,
  preload: 20_000,
  retrainThreshold: 30_000,
  dimension: 128,
  upsertRate: 10_000,
};

export interface OperationStats {
  operation: 'search' | 'upsert' | 'subscription';
  /** Completed operations (for subscriptions: events received). */
  count: number;
  errors: number;
  perSecond: number;
  /** For subscriptions: from subscribe to the first event (the current state). */
  p50Ms: number;
  p99Ms: number;
  /** Operations that finished while the automatic run was between QUEUED and its end. */
  duringTraining: number;
  /** Latency of those operations. */
  p50DuringMs: number;
  p99DuringMs: number;
  /** Vectors written per second (upserts only). */
  vectorsPerSecond?: number;
}

export interface LoadReport {
  options: LoadOptions;
  elapsedMs: number;
  operations: OperationStats[];
  /** The automatic run as the first subscriber saw it end; null when none ended in time. */
  run: { runId: string; trigger: TrainingTrigger; phase: TrainingPhase; iterations: number; nLists: number; elapsedMs: number } | null;
  /** Subscribers whose event stream held the run's QUEUED and final events. */
  subscribersSawRun: number;
  acknowledgedItems: number;
  storedItems: number;
  /** Acknowledged ids missing from the index at the end. */
  lostItems: number;
  /** Acknowledged ids stored with another vector than the last one acknowledged. */
  wrongVectors: number;
  /** Items whose own vector, searched over every list, did not come back as the top hit. */
  selfSearchMisses: number;
  /** The first few error messages, for diagnosis. */
  errorSamples: string[];
  timedOut: boolean;
  /** How long the server's event loop was held up during the load phase (a request waits that long before it is even read). */
  serverLoop: Omit<LoadServerStats, 'type'>;
  /** This machine's cost of a fresh page and of a loopback round trip, measured before the load (machine-costs.ts). */
  machine: MachineCosts;
}

interface StatusEvent {
  __typename: string;
  runId: string | null;
  trigger: TrainingTrigger | null;
  phase: TrainingPhase;
  iteration: number;
  nLists: number;
  elapsedMs: number;
}

const TERMINAL: ReadonlySet<TrainingPhase> = new Set<TrainingPhase>(['COMPLETED', 'FAILED', 'CANCELLED']);


interface LoadServer {
  url: string;
  stats(): Promise<LoadServerStats>;
  close(): Promise<void>;
}

/** startServer in a child process (bench/load-server.ts), so client work never delays the server's event loop. */
async function startLoadServer(env: Record<string, string>): Promise<LoadServer> {
  const entry = fileURLToPath(new URL('./load-server.ts', import.meta.url));
  // CIPHERDEX_BENCH_CPU_PROF=DIR: the server's CPU profile (V8 .cpuprofile, 0.5 ms samples) is written to DIR.
  const profile = process.env.CIPHERDEX_BENCH_CPU_PROF;
  // CIPHERDEX_BENCH_NODE_FLAGS: more node flags for the server (e.g. --trace-gc).
  const extra = process.env.CIPHERDEX_BENCH_NODE_FLAGS?.split(' ').filter((flag) => flag !== '') ?? [];
  const flags = [...extra, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`, `--cpu-prof-interval=${process.env.CIPHERDEX_BENCH_CPU_PROF_INTERVAL ?? 500}`] : [])];
  // As `npm start` runs the server: a 32 MiB young generation (V8's default of 16 MiB was collected
  // about 15 times a second under this load; docs/operations.md).
  const child = spawn(process.execPath, [...flags, '--max-semi-space-size=32', '--import', 'tsx', entry], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: LoadServerMessage) => {
      if (message.type === 'listening') resolve(message.url);
    });
    child.once('exit', (code) => reject(new Error(`the load server exited (${code}) before listening`)));
  });
  return {
    url,
    stats: () =>
      new Promise((resolve) => {
        const listener = (message: LoadServerMessage) => {
          if (message.type !== 'stats') return;
          child.off('message', listener);
          resolve(message);
        };
        child.on('message', listener);
        child.send({ type: 'stats' });
      }),
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

interface Sample {
  endMs: number;
  latencyMs: number;
}

export async function runLoad(options: LoadOptions = DEFAULT_LOAD, log: (line: string) => void = console.log): Promise<LoadReport> {
  const { dimension, batchSize } = options;
  if (options.subscribers < 1) throw new RangeError('the load benchmark needs at least one subscriber: it sees the automatic run through it');
  const clientItems = options.upsertClients * options.upsertsPerClient * batchSize;
  if (options.preload >= options.retrainThreshold || options.preload + clientItems < options.retrainThreshold) {
    throw new RangeError(`the clients' upserts must carry the index from ${options.preload} items across RETRAIN_THRESHOLD ${options.retrainThreshold} (they add ${clientItems})`);
  }
  log(
    `\n## load: ${options.searchRate > 0 ? `searches arriving open-loop at ${options.searchRate}/s` : `${options.searchClients} search clients`}, ${options.upsertClients} upsert clients (${options.upsertsPerClient} x ${batchSize} items), ` +
      `${options.subscribers} trainingStatus subscribers; ${options.preload} items preloaded, RETRAIN_THRESHOLD ${options.retrainThreshold}, ${dimension}d, ${options.type ?? "default type"}, SQLite, loopback` +
      (options.upsertRate > 0 ? `; upserts paced at ${options.upsertRate.toLocaleString('en')} vectors/s` : ''),
  );
  // Before the server starts, with nothing else of the benchmark running.
  const machine = await measureMachineCosts();
  const dataDir = await mkdtemp(join(tmpdir(), 'cipherdex-bench-load-'));
  const apiKey = `bench_${randomBytes(16).toString('hex')}`;
  const key = randomBytes(32).toString('base64');
  const index = 'load';
  const server = await startLoadServer({
    // As deployed: graphql-js's development build checks every instanceOf for a second copy of
    // itself (1.6% of the server's CPU in a profile of this load).
    NODE_ENV: 'production',
    CIPHERDEX_DATA_DIR: dataDir,
    CIPHERDEX_API_KEY: apiKey,
    PORT: '0',
    HOST: '127.0.0.1',
    RETRAIN_THRESHOLD: String(options.retrainThreshold),
  }).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  const wsUrl = server.url.replace(/^http/, 'ws');
  const clients: Client[] = [];
  const errorSamples: string[] = [];
  const noteError = (what: string, error: unknown): void => {
    if (errorSamples.length < 10) errorSamples.push(`${what}: ${error instanceof Error ? error.message : JSON.stringify(error)}`);
  };

  try {
    const data = embeddingLikeData({ count: options.preload + clientItems, queries: 256, dimension, seed: 7 });
    const vectorOf = (row: number) => data.base.subarray(row * dimension, (row + 1) * dimension);
    /** The last vector acknowledged for each id. */
    const acknowledged = new Map<string, Float32Array>();
    const call = <T>(query: string, variables: Record<string, unknown>, field: string, success: string) =>
      graphql<T>(server.url, apiKey, query, variables, field, success);
    const upsertRows = async (rows: number[], idOf: (row: number) => string) => {
      const items = rows.map((row) => ({ id: idOf(row), vector: toBase64(vectorOf(row)) }));
      await call(OPERATIONS.upsert, { index, key, items }, 'upsert', 'UpsertSuccess');
      for (const row of rows) acknowledged.set(idOf(row), vectorOf(row));
    };

    await call(OPERATIONS.createIndex, { name: index, key, dimension, type: options.type ?? null }, 'createIndex', 'Index');
    const preloadId = (row: number) => `pre-${row}`;
    for (let start = 0; start < options.preload; start += 1000) {
      await upsertRows(Array.from({ length: Math.min(1000, options.preload - start) }, (_, i) => start + i), preloadId);
    }

    // Every upsert body of the load phase encoded before it starts (base64 and JSON of 500 vectors
    // took the client 1-2 ms each, on the cores the server runs on).
    const firstRow = (client: number, op: number) => options.preload + (client * options.upsertsPerClient + op) * batchSize;
    const loadRows = (client: number, op: number) => Array.from({ length: batchSize }, (_, i) => firstRow(client, op) + i);
    const loadId = (client: number) => (row: number) => `c${client}-${row}`;
    const upsertBodies = Array.from({ length: options.upsertClients }, (_, client) =>
      Array.from({ length: options.upsertsPerClient }, (_, op) =>
        requestBody(OPERATIONS.upsert, { index, key, items: loadRows(client, op).map((row) => ({ id: loadId(client)(row), vector: toBase64(vectorOf(row)) })) })));

    await server.stats(); // resets the event-loop histogram: only the load phase is reported
    const startMs = performance.now();
    const deadline = startMs + options.timeLimitMs;
    let timedOut = false;
    const overTime = () => {
      if (performance.now() > deadline) timedOut = true;
      return timedOut;
    };

    // Subscribers first, so each sees the whole automatic run from QUEUED on.
    const subscriberEvents: Array<Array<{ atMs: number; status: StatusEvent }>> = [];
    const subscribeLatencies: number[] = [];
    let subscriptionErrors = 0;
    let runWindow: { runId: string; fromMs: number; toMs: number | null } | null = null;
    let runEnded!: () => void;
    const automaticRunEnded = new Promise<void>((resolve) => (runEnded = resolve));
    await Promise.all(
      Array.from({ length: options.subscribers }, (_, s) => {
        const events: Array<{ atMs: number; status: StatusEvent }> = [];
        subscriberEvents.push(events);
        const client = createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { apiKey }, retryAttempts: 0, lazy: true });
        clients.push(client);
        const subscribedAt = performance.now();
        return new Promise<void>((firstEvent) => {
          client.subscribe<{ trainingStatus: StatusEvent }>(
            { query: OPERATIONS.trainingStatus, variables: { index, key } },
            {
              next: (result) => {
                const atMs = performance.now();
                const status = result.data?.trainingStatus;
                if (status === undefined || status.__typename !== 'TrainingStatus' || result.errors !== undefined) {
                  subscriptionErrors++;
                  noteError('subscription', result);
                } else {
                  if (events.length === 0) subscribeLatencies.push(atMs - subscribedAt);
                  events.push({ atMs, status });
                  if (s === 0 && status.trigger === 'AUTOMATIC') {
                    if (status.phase === 'QUEUED' && runWindow === null) runWindow = { runId: status.runId!, fromMs: atMs, toMs: null };
                    if (TERMINAL.has(status.phase) && runWindow?.runId === status.runId) {
                      runWindow.toMs = atMs;
                      runEnded();
                    }
                  }
                }
                firstEvent();
              },
              error: (error) => {
                subscriptionErrors++;
                noteError('subscription', error);
                firstEvent();
              },
              complete: () => firstEvent(),
            },
          );
        });
      }),
    );

    const upsertSamples: Sample[] = [];
    const searchSamples: Sample[] = [];
    /** When the searchers' thread sent its first search (it starts after the upserts do). */
    let searchesFromMs = startMs;
    let upsertErrors = 0;
    let searchErrors = 0;
    let upsertsDone = false;
    let trainingDone = false;
    void automaticRunEnded.then(() => (trainingDone = true));

    const upserter = async (client: number) => {
      for (let op = 0; op < options.upsertsPerClient && !overTime(); op++) {
        if (options.upsertRate > 0) {
          // Open loop: batch op of this client is due at its slot in the stream, late or not.
          const dueMs = startMs + (((op * options.upsertClients + client) * batchSize) / options.upsertRate) * 1000;
          if (dueMs > performance.now()) await new Promise((resolve) => setTimeout(resolve, dueMs - performance.now()));
        }
        const begin = performance.now();
        try {
          await graphqlBody(server.url, apiKey, upsertBodies[client][op], 'upsert', 'UpsertSuccess');
          // Each client owns its ids, so the last acknowledged vector of an id is well defined.
          for (const row of loadRows(client, op)) acknowledged.set(loadId(client)(row), vectorOf(row));
          const end = performance.now();
          upsertSamples.push({ endMs: end, latencyMs: end - begin });
        } catch (error) {
          upsertErrors++;
          noteError('upsert', error);
        }
      }
    };
    // Searches go on until the writes are done and the automatic run has ended (or time is up).
    const searchers = spawnSiblingWorker(import.meta.url, 'load-searchers', {
      url: server.url, apiKey, index, key, clients: options.searchClients, rate: options.searchRate, topK: options.topK, dimension, queries: data.queries,
    } satisfies SearchersData);
    const searching = new Promise<void>((resolve, reject) => {
      searchers.once('error', reject);
      searchers.on('message', (message: SearchersMessage) => {
        if (message.type !== 'done') return;
        searchesFromMs = message.startEpochMs - epochMs(0);
        // The searchers' clock has its own origin: their end times are brought onto this one's.
        for (const sample of message.samples) searchSamples.push({ endMs: sample.endEpochMs - epochMs(0), latencyMs: sample.latencyMs });
        searchErrors += message.errors;
        for (const text of message.errorSamples) if (errorSamples.length < 10) errorSamples.push(text);
        resolve();
      });
    });
    await Promise.all(Array.from({ length: options.upsertClients }, (_, c) => upserter(c)));
    upsertsDone = true;
    await Promise.race([automaticRunEnded, new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - performance.now())).unref())]);
    overTime();
    searchers.postMessage({ type: 'stop' } satisfies SearchersMessage);
    await searching;
    await searchers.terminate();
    const phaseEndMs = performance.now();
    const elapsedMs = phaseEndMs - startMs;
    const { type: _stats, ...serverLoop } = await server.stats();

    // The run as subscriber 0 saw it, and whether every subscriber saw its start and its end.
    const window = runWindow as { runId: string; fromMs: number; toMs: number | null } | null;
    const final = window === null ? undefined : subscriberEvents[0].find((e) => e.status.runId === window.runId && TERMINAL.has(e.status.phase))?.status;
    const run = final === undefined ? null : { runId: final.runId!, trigger: final.trigger!, phase: final.phase, iterations: final.iteration, nLists: final.nLists, elapsedMs: final.elapsedMs };
    const subscribersSawRun = window === null ? 0 : subscriberEvents.filter((events) =>
      events.some((e) => e.status.runId === window.runId && e.status.phase === 'QUEUED') &&
      events.some((e) => e.status.runId === window.runId && TERMINAL.has(e.status.phase)),
    ).length;
    const inRun = (atMs: number) => window !== null && atMs >= window.fromMs && atMs <= (window.toMs ?? Number.POSITIVE_INFINITY);
    const subscriptionEventCount = subscriberEvents.reduce((sum, events) => sum + events.length, 0);

    const stats = (operation: OperationStats['operation'], samples: Sample[], errors: number, fromMs = startMs): OperationStats => {
      const sorted = samples.map((s) => s.latencyMs).sort((a, b) => a - b);
      const during = samples.filter((s) => inRun(s.endMs)).map((s) => s.latencyMs).sort((a, b) => a - b);
      return {
        operation,
        count: samples.length,
        errors,
        perSecond: samples.length / ((phaseEndMs - fromMs) / 1000),
        p50Ms: percentile(sorted, 0.5),
        p99Ms: percentile(sorted, 0.99),
        duringTraining: during.length,
        p50DuringMs: percentile(during, 0.5),
        p99DuringMs: percentile(during, 0.99),
      };
    };
    const sortedSubscribe = [...subscribeLatencies].sort((a, b) => a - b);
    const operations: OperationStats[] = [
      stats('search', searchSamples, searchErrors, searchesFromMs),
      { ...stats('upsert', upsertSamples, upsertErrors), vectorsPerSecond: (upsertSamples.length * batchSize) / ((Math.max(...upsertSamples.map((u) => u.endMs), startMs) - startMs) / 1000) },
      {
        operation: 'subscription',
        count: subscriptionEventCount,
        errors: subscriptionErrors,
        perSecond: subscriptionEventCount / (elapsedMs / 1000),
        p50Ms: percentile(sortedSubscribe, 0.5),
        p99Ms: percentile(sortedSubscribe, 0.99),
        duringTraining: subscriberEvents.reduce((sum, events) => sum + events.filter((e) => inRun(e.atMs)).length, 0),
        p50DuringMs: Number.NaN,
        p99DuringMs: Number.NaN,
      },
    ];

    // No acknowledged write lost: every id present, each with the vector last acknowledged for it.
    const { ids } = await call<{ ids: string[] }>(OPERATIONS.itemIds, { index, key }, 'itemIds', 'ItemIdList');
    const stored = new Set(ids);
    const lostItems = [...acknowledged.keys()].filter((id) => !stored.has(id)).length;
    let wrongVectors = 0;
    const ackIds = [...acknowledged.keys()].filter((id) => stored.has(id));
    for (let start = 0; start < ackIds.length; start += 1000) {
      const chunk = ackIds.slice(start, start + 1000);
      const { items } = await call<{ items: Array<{ id: string; vector: number[] }> }>(OPERATIONS.items, { index, key, ids: chunk }, 'items', 'ItemList');
      const byId = new Map(items.map((item) => [item.id, item.vector]));
      for (const id of chunk) {
        const expected = acknowledged.get(id)!;
        const got = byId.get(id);
        if (got === undefined || got.length !== expected.length || got.some((x, i) => x !== expected[i])) wrongVectors++;
      }
    }

    // Searches stay correct after the run: an item's own vector, probing every list, finds the item.
    const info = await call<{ nLists: number | null; isTrained: boolean }>(OPERATIONS.index, { name: index, key }, 'index', 'Index');
    let selfSearchMisses = 0;
    for (let i = 0; i < Math.min(options.selfSearches, ackIds.length); i++) {
      const id = ackIds[Math.floor((i * ackIds.length) / options.selfSearches)];
      const result = await call<{ hits: Array<{ id: string; distance: number }> }>(
        OPERATIONS.search,
        { index, key, vector: toBase64(acknowledged.get(id)!), topK: 1, nProbes: info.isTrained ? info.nLists : undefined },
        'search',
        'SearchResults',
      );
      if (result.hits[0]?.id !== id && result.hits[0]?.distance !== 0) selfSearchMisses++;
    }

    const report: LoadReport = {
      options,
      elapsedMs,
      operations,
      run,
      subscribersSawRun,
      acknowledgedItems: acknowledged.size,
      storedItems: ids.length,
      lostItems,
      wrongVectors,
      selfSearchMisses,
      errorSamples,
      timedOut,
      serverLoop,
      machine,
    };
    printReport(report, log);
    return report;
  } finally {
    await Promise.all(clients.map((client) => client.dispose()));
    closeConnections();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

function printReport(report: LoadReport, log: (line: string) => void): void {
  const fixed = (value: number, digits: number) => (Number.isNaN(value) ? '-' : value.toFixed(digits));
  log(
    `machine: a fresh 4 KiB page costs ${fixed(report.machine.freshPageUs, 2)} us to touch, a loopback HTTP round trip ${fixed(report.machine.loopbackRoundTripUs, 0)} us ` +
      '(latencies here scale with both; compare tables only from machines that agree on them)',
  );
  log(`load phase: ${(report.elapsedMs / 1000).toFixed(1)} s${report.timedOut ? ' (TIME LIMIT reached)' : ''}`);
  log('| operation | count | per second | p50 ms | p99 ms | errors | during training | p50 / p99 ms during training |');
  log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const op of report.operations) {
    const what =
      op.operation === 'subscription'
        ? 'subscription (events; latency = subscribe to first event)'
        : op.vectorsPerSecond === undefined ? op.operation : `${op.operation} (${Math.round(op.vectorsPerSecond).toLocaleString('en')} vectors/s)`;
    log(`| ${what} | ${op.count} | ${fixed(op.perSecond, 1)} | ${fixed(op.p50Ms, 2)} | ${fixed(op.p99Ms, 2)} | ${op.errors} | ${op.duringTraining} | ${fixed(op.p50DuringMs, 2)} / ${fixed(op.p99DuringMs, 2)} |`);
  }
  const loop = report.serverLoop;
  log(`server event loop held up: p50 ${fixed(loop.loopDelayP50Ms, 1)} ms, p99 ${fixed(loop.loopDelayP99Ms, 1)} ms, max ${fixed(loop.loopDelayMaxMs, 1)} ms (server in its own process)`);
  for (const operation of ['search', 'upsert']) {
    const times = loop.requests[operation];
    if (times === undefined) continue;
    log(
      `${operation} in the server's process: unread in its socket p50 ${fixed(times.unreadP50Ms, 2)} / p99 ${fixed(times.unreadP99Ms, 2)} ms, ` +
        `then answered in p50 ${fixed(times.answeredP50Ms, 2)} / p99 ${fixed(times.answeredP99Ms, 2)} ms (the rest is the way back and the client)`,
    );
  }
  log(
    `server CPU: main thread ${fixed(loop.mainThreadCpuMsPerS, 0)} ms/s (1,000 is saturated) and waiting for a free core ${fixed(loop.mainThreadCpuWaitMsPerS, 0)} ms/s, ` +
      `whole process ${fixed(loop.processCpuMsPerS, 0)} ms/s, during the load phase`,
  );
  log(`server garbage collection: ${loop.gcPauses} pauses (${loop.gcMajor} major), ${fixed(loop.gcTotalMs, 0)} ms in all, longest ${fixed(loop.gcMaxMs, 1)} ms`);
  const run = report.run;
  log(
    run === null
      ? 'automatic run: none ended within the time limit'
      : `automatic run ${run.runId}: ${run.trigger} ${run.phase}, ${run.iterations} iterations, ${run.nLists} lists, ${(run.elapsedMs / 1000).toFixed(2)} s; seen whole by ${report.subscribersSawRun}/${report.options.subscribers} subscribers`,
  );
  log(
    `writes: ${report.acknowledgedItems} acknowledged ids, ${report.storedItems} stored, ${report.lostItems} lost, ${report.wrongVectors} with a wrong vector; ` +
      `self-search misses: ${report.selfSearchMisses}/${Math.min(report.options.selfSearches, report.acknowledgedItems)}`,
  );
  for (const sample of report.errorSamples) log(`error: ${sample}`);
}

const USAGE = `npm run bench -- load [--search-clients N | --search-rate N] [--upsert-clients N] [--subscribers N] [--upserts N] [--batch N]
                      [--preload N] [--threshold N] [--dimension N] [--rate N] [--time-limit-s N] [--type ivf_flat|ivf_sq8|ivf_pq] [--quick | --sustained]
  Starts a real server on 127.0.0.1 (temp SQLite data directory) and drives it with concurrent HTTP
  searches and upserts and graphql-ws trainingStatus subscribers while the upserts cross
  RETRAIN_THRESHOLD and an automatic training run happens. --upserts is batches per upsert client.
  --search-rate: searches per second arriving open-loop (Poisson), whatever the answers take, instead
  of --search-clients closed-loop clients (each waits for its answer, so on a busy server their
  latency is mostly each other's searches queued: clients / searches per second).
  --rate: vectors per second the upsert clients send together, evenly paced (default: as fast as acknowledged).
  --quick: a small run (a few seconds). --sustained: 10,000 vectors/s at 128-d for 15 s across an
  automatic run. Flags of other bench sections are ignored. The server runs with NODE_ENV=production;
  CIPHERDEX_BENCH_CPU_PROF=DIR writes its CPU profile to DIR, CIPHERDEX_BENCH_NODE_FLAGS adds node flags
  to it (e.g. --trace-gc).`;

function indexType(raw: string | boolean): NonNullable<LoadOptions['type']> {
  const type = String(raw).toUpperCase();
  if (type === 'IVF_FLAT' || type === 'IVF_SQ8' || type === 'IVF_PQ') return type;
  throw new Error(`--type is ivf_flat, ivf_sq8 or ivf_pq, got ${String(raw)}\n${USAGE}`);
}

/** Flags of `npm run bench -- load`; flags meant for other sections are ignored. */
export function parseLoadArgs(args: string[]): LoadOptions {
  const { values } = parseArgs({
    args,
    options: {
      'search-clients': { type: 'string' },
      'search-rate': { type: 'string' },
      'upsert-clients': { type: 'string' },
      subscribers: { type: 'string' },
      upserts: { type: 'string' },
      batch: { type: 'string' },
      preload: { type: 'string' },
      threshold: { type: 'string' },
      dimension: { type: 'string' },
      rate: { type: 'string' },
      'time-limit-s': { type: 'string' },
      type: { type: 'string' },
      quick: { type: 'boolean' },
      sustained: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: false,
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const base: LoadOptions = values.quick === true
    ? { ...DEFAULT_LOAD, searchClients: 4, upsertClients: 2, subscribers: 4, upsertsPerClient: 10, batchSize: 50, preload: 500, retrainThreshold: 1000, dimension: 32, selfSearches: 50 }
    : values.sustained === true ? { ...SUSTAINED_LOAD } : { ...DEFAULT_LOAD };
  const int = (raw: string | boolean | undefined, fallback: number, min = 1): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (typeof raw !== 'string' || !Number.isInteger(value) || value < min) throw new Error(`expected an integer >= ${min}, got ${String(raw)}\n${USAGE}`);
    return value;
  };
  return {
    ...base,
    searchClients: int(values['search-clients'], base.searchClients, 0),
    searchRate: int(values['search-rate'], base.searchRate, 0),
    upsertClients: int(values['upsert-clients'], base.upsertClients),
    subscribers: int(values.subscribers, base.subscribers),
    upsertsPerClient: int(values.upserts, base.upsertsPerClient),
    batchSize: int(values.batch, base.batchSize),
    preload: int(values.preload, base.preload, 0),
    retrainThreshold: int(values.threshold, base.retrainThreshold),
    dimension: int(values.dimension, base.dimension),
    upsertRate: int(values.rate, base.upsertRate, 0),
    timeLimitMs: int(values['time-limit-s'], base.timeLimitMs / 1000) * 1000,
    ...(values.type === undefined ? {} : { type: indexType(values.type) }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runLoad(parseLoadArgs(process.argv.slice(2)));
}
