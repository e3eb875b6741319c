// Metrics overhead: search throughput over real HTTP with Prometheus metrics on (the yoga plugin
// with per-operation and per-root-field timings, and the service's stage timings) against the
// same server with METRICS_ENABLED=false, on the same data. Both servers run in this process and
// take the same searches in turn, request by request, so machine load drifts into both alike.
// Beside searches per second it reports the process's CPU time per search (server and client
// together): on a shared machine wall-clock rates swing with other work, CPU time per request much
// less, and on a saturated core throughput is its inverse, so the overhead is taken from it.
// `npm run bench -- metrics --help` lists the flags.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server/start-server.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';
import { embeddingLikeData } from './data/embedding-like.js';

export interface MetricsBenchOptions {
  vectors: number;
  searches: number;
  rounds: number;
}

const DEFAULTS: MetricsBenchOptions = { vectors: 20_000, searches: 500, rounds: 20 };
const DIMENSION = 128;

const SEARCH = `query Search($index: String!, $key: IndexKey!, $vector: Vector!) {
  search(index: $index, key: $key, vector: $vector, topK: 10, nProbes: 8) { ... on SearchResults { hits { id distance } } ... on Error { code } }
}`;

function base64(rows: Float32Array, i: number): string {
  return Buffer.from(rows.buffer, rows.byteOffset + i * DIMENSION * 4, DIMENSION * 4).toString('base64');
}

async function post(server: RunningServer, apiKey: string, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (body.errors !== undefined || body.data === undefined) throw new Error(`request failed: ${JSON.stringify(body.errors)}`);
  return body.data;
}

interface Subject {
  label: string;
  server: RunningServer;
  dir: string;
  /** Searches per second of wall time, one per round (sequential requests). */
  rates: number[];
  /** Process CPU microseconds per search, one per round. */
  cpu: number[];
}

async function start(label: string, metricsEnabled: boolean, apiKey: string): Promise<Subject> {
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-bench-metrics-'));
  const config = loadConfig({
    CIPHERDEX_DATA_DIR: dir,
    CIPHERDEX_API_KEY: apiKey,
    PORT: '0',
    AUTO_TRAIN_DISABLED: 'true',
    METRICS_ENABLED: String(metricsEnabled),
    AUTH_FAILURE_LIMIT: '0',
  });
  return { label, server: await startServer(config, { log: () => {} }), dir, rates: [], cpu: [] };
}

/**
 * One round: the same searches against both servers, one request at a time and alternating
 * between them request by request, each request's process CPU time charged to its server. Load
 * from other processes then slows both alike within milliseconds of each other, which is what
 * keeps the comparison stable on a shared machine.
 */
async function searchRound(subjects: Subject[], apiKey: string, key: string, queries: Float32Array, searches: number, round: number): Promise<void> {
  const queryCount = queries.length / DIMENSION;
  const cpu = subjects.map(() => 0);
  const wall = subjects.map(() => 0);
  for (let i = 0; i < searches; i++) {
    const variables = { index: 'bench', key, vector: base64(queries, i % queryCount) };
    for (let k = 0; k < subjects.length; k++) {
      const s = (k + i + round) % subjects.length;
      const started = performance.now();
      const before = process.cpuUsage();
      await post(subjects[s].server, apiKey, SEARCH, variables);
      const used = process.cpuUsage(before);
      cpu[s] += used.user + used.system;
      wall[s] += performance.now() - started;
    }
  }
  subjects.forEach((subject, s) => {
    subject.cpu.push(cpu[s] / searches);
    subject.rates.push(searches / (wall[s] / 1000));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export async function runMetricsBench(options: MetricsBenchOptions = DEFAULTS, log: (line: string) => void = console.log): Promise<{ overhead: number }> {
  const apiKey = randomBytes(16).toString('hex');
  const key = randomBytes(32).toString('base64');
  const data = embeddingLikeData({ count: options.vectors, queries: 500, dimension: DIMENSION, seed: 17 });
  const subjects = [await start('metrics on', true, apiKey), await start('metrics off', false, apiKey)];
  try {
    for (const { server } of subjects) {
      await post(server, apiKey, 'mutation($key: IndexKey!) { createIndex(name: "bench", key: $key, dimension: 128) { __typename } }', { key });
      for (let start = 0; start < options.vectors; start += 2_000) {
        const items = [];
        for (let i = start; i < Math.min(options.vectors, start + 2_000); i++) items.push({ id: `v${i}`, vector: base64(data.base, i) });
        await post(server, apiKey, 'mutation($key: IndexKey!, $items: [ItemInput!]!) { upsert(index: "bench", key: $key, items: $items) { __typename } }', { key, items });
      }
      await post(server, apiKey, 'mutation($key: IndexKey!) { trainIndex(index: "bench", key: $key, nLists: 128, wait: true) { __typename } }', { key });
    }
    // Warm-up: JIT and caches, not measured.
    await searchRound(subjects.map((s) => ({ ...s, rates: [], cpu: [] })), apiKey, key, data.queries, 300, 0);
    for (let round = 0; round < options.rounds; round++) await searchRound(subjects, apiKey, key, data.queries, options.searches, round);
  } finally {
    for (const subject of subjects) {
      await subject.server.close();
      rmSync(subject.dir, { recursive: true, force: true });
    }
  }
  // Throughput at a saturated core is 1 / CPU per search. Each round measures both servers back to
  // back, so the ratio within a round is what machine load disturbs least: the median of those.
  const [on, off] = subjects;
  const perRound = on.cpu.map((cpu, round) => 1 - off.cpu[round] / cpu).sort((a, b) => a - b);
  const overhead = median(perRound);
  const quartile = (q: number) => perRound[Math.min(perRound.length - 1, Math.floor(q * perRound.length))];
  log(`\nMetrics overhead: ${options.vectors.toLocaleString('en-US')} x ${DIMENSION}, 128 lists, nProbes 8, topK 10, sequential HTTP searches alternating between the servers, ${options.rounds} rounds of ${options.searches.toLocaleString('en-US')} each`);
  const rows = subjects.map((s) => [
    s.label,
    median(s.rates).toFixed(0),
    `${Math.min(...s.rates).toFixed(0)}-${Math.max(...s.rates).toFixed(0)}`,
    median(s.cpu).toFixed(0),
    `${Math.min(...s.cpu).toFixed(0)}-${Math.max(...s.cpu).toFixed(0)}`,
  ]);
  const header = ['server', 'searches/s (median)', 'range', 'CPU us/search (median)', 'range'];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  log(line(header));
  log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) log(line(row));
  log(`overhead of metrics: ${(overhead * 100).toFixed(1)}% of CPU-bound search throughput (median of ${perRound.length} paired rounds; quartiles ${(quartile(0.25) * 100).toFixed(1)}% to ${(quartile(0.75) * 100).toFixed(1)}%; aim < 5%)\n`);
  return { overhead };
}

const USAGE = `npm run bench -- metrics [--vectors N] [--searches N] [--rounds N]
  Search CPU time over HTTP with metrics on and off (METRICS_ENABLED=false), request by request in turn.
  Defaults: ${DEFAULTS.vectors} vectors, ${DEFAULTS.searches} searches per round, ${DEFAULTS.rounds} rounds.`;

export function parseMetricsArgs(args: string[]): MetricsBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string' },
      searches: { type: 'string' },
      rounds: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  return {
    vectors: positiveIntFlag(values.vectors, DEFAULTS.vectors, USAGE),
    searches: positiveIntFlag(values.searches, DEFAULTS.searches, USAGE),
    rounds: positiveIntFlag(values.rounds, DEFAULTS.rounds, USAGE),
  };
}
