// Metrics overhead: search throughput over real HTTP with Prometheus metrics on (the yoga plugin
// with per-operation and per-root-field timings, and the service's stage timings) against the
// same server with METRICS_ENABLED=false, on the same data. Both servers run in this process and
// are measured in alternating rounds, so machine load drifts into both alike. Beside searches per
// second it reports the process's CPU time per search (server and client together): on a shared
// machine wall-clock rates swing with other work, CPU time per request much less, and on a
// saturated core throughput is its inverse, so the overhead is taken from it.
// `npm run bench -- metrics --help` lists the flags.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server/start-server.js';
import { embeddingLikeData } from './data/embedding-like.js';

export interface MetricsBenchOptions {
  vectors: number;
  searches: number;
  rounds: number;
  concurrency: number;
}

const DEFAULTS: MetricsBenchOptions = { vectors: 20_000, searches: 2_000, rounds: 6, concurrency: 8 };
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

async function searchRound(subject: Subject, apiKey: string, key: string, queries: Float32Array, options: MetricsBenchOptions): Promise<void> {
  const queryCount = queries.length / DIMENSION;
  let next = 0;
  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  await Promise.all(
    Array.from({ length: options.concurrency }, async () => {
      while (next < options.searches) {
        const i = next++;
        await post(subject.server, apiKey, SEARCH, { index: 'bench', key, vector: base64(queries, i % queryCount) });
      }
    }),
  );
  subject.rates.push(options.searches / ((performance.now() - started) / 1000));
  const cpu = process.cpuUsage(cpuBefore);
  subject.cpu.push((cpu.user + cpu.system) / options.searches);
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
      // Warm-up: JIT and caches, not measured.
      await searchRound({ ...subjects[0], server, rates: [], cpu: [] }, apiKey, key, data.queries, { ...options, searches: Math.min(500, options.searches) });
    }
    for (let round = 0; round < options.rounds; round++) {
      const order = round % 2 === 0 ? subjects : [...subjects].reverse();
      for (const subject of order) await searchRound(subject, apiKey, key, data.queries, options);
    }
  } finally {
    for (const subject of subjects) {
      await subject.server.close();
      rmSync(subject.dir, { recursive: true, force: true });
    }
  }
  const [on, off] = subjects.map((s) => median(s.cpu));
  // Throughput at a saturated core is 1 / CPU per search.
  const overhead = 1 - off / on;
  log(`\nMetrics overhead: ${options.vectors.toLocaleString('en-US')} x ${DIMENSION}, 128 lists, nProbes 8, topK 10, ${options.concurrency} concurrent HTTP searches, ${options.rounds} alternating rounds of ${options.searches.toLocaleString('en-US')}`);
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
  log(`overhead of metrics: ${(overhead * 100).toFixed(1)}% of CPU-bound search throughput (aim < 5%)\n`);
  return { overhead };
}

const USAGE = `npm run bench -- metrics [--vectors N] [--searches N] [--rounds N] [--concurrency N]
  Search throughput over HTTP with metrics on and off (METRICS_ENABLED=false), alternating rounds.
  Defaults: ${DEFAULTS.vectors} vectors, ${DEFAULTS.searches} searches per round, ${DEFAULTS.rounds} rounds, ${DEFAULTS.concurrency} concurrent.`;

export function parseMetricsArgs(args: string[]): MetricsBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string' },
      searches: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`expected a positive integer, got ${raw}\n${USAGE}`);
    return value;
  };
  return {
    vectors: int(values.vectors, DEFAULTS.vectors),
    searches: int(values.searches, DEFAULTS.searches),
    rounds: int(values.rounds, DEFAULTS.rounds),
    concurrency: int(values.concurrency, DEFAULTS.concurrency),
  };
}
