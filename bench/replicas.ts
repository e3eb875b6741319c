// Replicas benchmark: search throughput of one Cipherdex replica against two, each a real
// `cipherdex serve` process pinned to its own core (taskset -c 0 / -c 1), on one PostgreSQL
// schema and one Redis, driven over loopback HTTP by a load generator in this process (unpinned:
// it shares the two cores with the replicas, so the two-replica figure is a lower bound). Two
// workloads: exact search (untrained index, a full scan per query) and IVF search after training.
// With two replicas, half the generator's connections go to each (as a least-connections balancer would).
// Then the propagation delay: from an upsert acknowledged by replica 1 until replica 2 returns the
// item. Needs PostgreSQL and Redis on loopback. `npm run bench -- replicas --help` lists the flags.

import { type ChildProcess, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startServeProcess } from '../test/support/serve-process.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';
import { embeddingLikeData } from './data/embedding-like.js';
import { percentile } from './bench-table.js';

export interface ReplicasBenchOptions {
  vectors: number;
  dimension: number;
  /** Measured seconds per throughput phase (after one second of warm-up). */
  seconds: number;
  /** Requests in flight from the load generator. */
  concurrency: number;
  nLists: number;
  nProbes: number;
  topK: number;
  propagationSamples: number;
  postgresUrl: string;
  redisUrl: string;
}

export const DEFAULT_REPLICAS_BENCH: ReplicasBenchOptions = {
  vectors: 50_000,
  dimension: 128,
  seconds: 5,
  concurrency: 16,
  nLists: 256,
  nProbes: 16,
  topK: 10,
  propagationSamples: 50,
  postgresUrl: process.env.CIPHERDEX_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  redisUrl: process.env.CIPHERDEX_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379',
};

export interface ThroughputResult {
  workload: 'exact' | 'ivf';
  replicas: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  /** CPU the load generator itself used while measuring, in cores (it shares the machine). */
  generatorCores: number;
}

export interface ReplicasBenchReport {
  options: ReplicasBenchOptions;
  pinned: boolean;
  throughput: ThroughputResult[];
  propagation: { samples: number; p50Ms: number; p99Ms: number; maxMs: number };
}


const SEARCH = `query ($index: String!, $key: IndexKey!, $vector: Vector!, $topK: Int, $nProbes: Int) {
  search(index: $index, key: $key, vector: $vector, topK: $topK, nProbes: $nProbes) { __typename ... on SearchResults { hits { id distance } } } }`;
const CREATE = `mutation ($name: String!, $key: IndexKey!, $dimension: Int!) { createIndex(name: $name, key: $key, dimension: $dimension) { __typename } }`;
const UPSERT = `mutation ($index: String!, $key: IndexKey!, $items: [ItemInput!]!) { upsert(index: $index, key: $key, items: $items) { __typename } }`;
const TRAIN = `mutation ($index: String!, $key: IndexKey!, $nLists: Int) { trainIndex(index: $index, key: $key, nLists: $nLists, wait: true) { __typename ... on TrainingRun { phase } } }`;
const INDEX = `query ($name: String!, $key: IndexKey!) { index(name: $name, key: $key) { __typename ... on Index { isTrained vectorCount } } }`;
const ITEMS = `query ($index: String!, $key: IndexKey!, $ids: [ID!]!) { items(index: $index, key: $key, ids: $ids) { __typename ... on ItemList { items { id } } } }`;

interface Replica {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

function hasTaskset(): boolean {
  return spawnSync('taskset', ['-c', '0', 'true']).status === 0;
}

async function startReplica(core: number | null, env: Record<string, string>): Promise<Replica> {
  const { url, child, exited } = await startServeProcess('a replica', { NODE_ENV: 'production', ...env }, core === null ? [] : ['taskset', '-c', String(core)]);
  return {
    url,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function call<T>(url: string, apiKey: string, query: string, variables: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': apiKey },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (response.status !== 200 || body.data === undefined || body.data === null) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

function toBase64(vector: Float32Array): string {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64');
}

/**
 * One POST over a kept-alive connection; resolves with the status and body. node:http costs the
 * generator less CPU per request than fetch, which matters when it shares the cores it measures.
 */
function post(url: URL, agent: Agent, apiKey: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': apiKey, 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `concurrency` loops sending the prepared bodies for `seconds` (after a warm-up second), split
 * evenly between `urls` with each loop keeping to one: a slow replica then holds back only its own
 * share, as behind a least-connections balancer (strict round-robin would pace both at its rate).
 */
async function drive(urls: string[], apiKey: string, bodies: string[], seconds: number, concurrency: number): Promise<Omit<ThroughputResult, 'workload' | 'replicas'>> {
  const targets = urls.map((url) => new URL(url));
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  let next = 0;
  let errors = 0;
  const latencies: number[] = [];
  const warmUntil = performance.now() + 1000;
  const stopAt = warmUntil + seconds * 1000;
  let cpuAtStart: NodeJS.CpuUsage | null = null;
  setTimeout(() => (cpuAtStart = process.cpuUsage()), 1000).unref();
  const worker = async (target: URL) => {
    for (;;) {
      const started = performance.now();
      if (started >= stopAt) return;
      const n = next++;
      try {
        const { status, text } = await post(target, agent, apiKey, bodies[n % bodies.length]!);
        if (status !== 200 || !text.includes('"SearchResults"')) throw new Error(text.slice(0, 200));
        if (started >= warmUntil) latencies.push(performance.now() - started);
      } catch {
        if (started >= warmUntil) errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(targets[w % targets.length]!)));
  agent.destroy();
  const cpu = process.cpuUsage(cpuAtStart ?? undefined);
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    errors,
    generatorCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

export async function runReplicasBench(options: ReplicasBenchOptions = DEFAULT_REPLICAS_BENCH, log: (line: string) => void = console.log): Promise<ReplicasBenchReport> {
  const pinned = hasTaskset();
  log(
    `\n## replicas: search throughput, 1 vs 2 replicas${pinned ? ' pinned to cores 0 and 1 (taskset)' : ' (taskset missing: NOT pinned)'}; ` +
      `${options.vectors} x ${options.dimension}d, ${options.concurrency} requests in flight, ${options.seconds} s per phase, PostgreSQL + Redis on loopback`,
  );
  const schema = `bench_replicas_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.postgresUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const connection = new URL(options.postgresUrl);
  connection.searchParams.set('options', `-c search_path=${schema}`);
  const apiKey = `bench_${randomBytes(16).toString('hex')}`;
  const key = randomBytes(32).toString('base64');
  const index = `${schema}-index`;
  const env = {
    CIPHERDEX_DB_TYPE: 'postgres',
    CIPHERDEX_CONNECTION_STRING: connection.toString(),
    REDIS_URL: options.redisUrl,
    CIPHERDEX_API_KEY: apiKey,
    AUTO_TRAIN_DISABLED: 'true',
  };
  const replicas: Replica[] = [];
  try {
    replicas.push(await startReplica(pinned ? 0 : null, env), await startReplica(pinned ? 1 : null, env));
    const [one, two] = replicas as [Replica, Replica];
    const data = embeddingLikeData({ count: options.vectors, queries: 256, dimension: options.dimension, seed: 11 });
    const { dimension } = options;
    await call(one.url, apiKey, CREATE, { name: index, key, dimension });
    for (let start = 0; start < options.vectors; start += 2000) {
      const items = [];
      for (let row = start; row < Math.min(options.vectors, start + 2000); row++) {
        items.push({ id: `v${row}`, vector: toBase64(data.base.subarray(row * dimension, (row + 1) * dimension)) });
      }
      await call(one.url, apiKey, UPSERT, { index, key, items });
    }
    const waitFor = async (replica: Replica, done: (info: { isTrained: boolean; vectorCount: number }) => boolean) => {
      for (;;) {
        const { index: info } = await call<{ index: { isTrained: boolean; vectorCount: number } }>(replica.url, apiKey, INDEX, { name: index, key });
        if (done(info)) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    // Replica 2 loads the index from the store on its first request.
    await waitFor(two, (info) => info.vectorCount === options.vectors);

    const queries = Array.from({ length: 256 }, (_, q) => toBase64(data.queries.subarray(q * dimension, (q + 1) * dimension)));
    const throughput: ThroughputResult[] = [];
    const measure = async (workload: 'exact' | 'ivf', nProbes: number | null) => {
      const bodies = queries.map((vector) => JSON.stringify({ query: SEARCH, variables: { index, key, vector, topK: options.topK, nProbes } }));
      for (const targets of [[one], [one, two]]) {
        const result = await drive(
          targets.map((replica) => replica.url),
          apiKey,
          bodies,
          options.seconds,
          options.concurrency,
        );
        throughput.push({ workload, replicas: targets.length, ...result });
      }
    };
    await measure('exact', null);
    await call(one.url, apiKey, TRAIN, { index, key, nLists: options.nLists });
    await waitFor(two, (info) => info.isTrained);
    await measure('ivf', options.nProbes);

    const delays: number[] = [];
    for (let sample = 0; sample < options.propagationSamples; sample++) {
      const id = `marker-${sample}`;
      await call(one.url, apiKey, UPSERT, { index, key, items: [{ id, vector: queries[sample % queries.length] }] });
      const acknowledged = performance.now();
      for (;;) {
        const { items } = await call<{ items: { items: { id: string }[] } }>(two.url, apiKey, ITEMS, { index, key, ids: [id] });
        if (items.items.length === 1) break;
      }
      delays.push(performance.now() - acknowledged);
    }
    delays.sort((a, b) => a - b);
    const report: ReplicasBenchReport = {
      options,
      pinned,
      throughput,
      propagation: { samples: delays.length, p50Ms: percentile(delays, 0.5), p99Ms: percentile(delays, 0.99), maxMs: delays.at(-1) ?? Number.NaN },
    };

    log('\n| workload | replicas | searches/s | p50 ms | p99 ms | errors | vs 1 replica | generator CPU (cores) |');
    log('|---|---|---|---|---|---|---|---|');
    for (const row of throughput) {
      const single = throughput.find((other) => other.workload === row.workload && other.replicas === 1)!;
      log(
        `| ${row.workload === 'exact' ? 'exact (untrained, full scan)' : `IVF (nLists ${options.nLists}, nProbes ${options.nProbes})`} | ${row.replicas} | ` +
          `${row.requestsPerSecond.toFixed(0)} | ${row.p50Ms.toFixed(2)} | ${row.p99Ms.toFixed(2)} | ${row.errors} | ${(row.requestsPerSecond / single.requestsPerSecond).toFixed(2)}x | ${row.generatorCores.toFixed(2)} |`,
      );
    }
    const p = report.propagation;
    log(`\nPropagation (upsert acknowledged by replica 1 -> returned by replica 2, ${p.samples} samples): p50 ${p.p50Ms.toFixed(1)} ms, p99 ${p.p99Ms.toFixed(1)} ms, max ${p.maxMs.toFixed(1)} ms`);
    return report;
  } finally {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    const redis = new Redis(options.redisUrl);
    await redis.hdel('cipherdex:training-status', index).catch(() => 0);
    await redis.quit();
  }
}

const USAGE = `npm run bench -- replicas [--vectors N] [--dimension D] [--seconds S] [--concurrency C] [--nlists L] [--nprobes P] [--samples N] [--quick]
Needs PostgreSQL (CIPHERDEX_BENCH_POSTGRES_URL, default ${DEFAULT_REPLICAS_BENCH.postgresUrl}) and Redis (CIPHERDEX_BENCH_REDIS_URL).`;

export function parseReplicasArgs(args: string[]): ReplicasBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string' },
      dimension: { type: 'string' },
      seconds: { type: 'string' },
      concurrency: { type: 'string' },
      nlists: { type: 'string' },
      nprobes: { type: 'string' },
      samples: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: false,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const base: ReplicasBenchOptions =
    values.quick === true ? { ...DEFAULT_REPLICAS_BENCH, vectors: 10_000, seconds: 2, nLists: 64, nProbes: 8, propagationSamples: 20 } : { ...DEFAULT_REPLICAS_BENCH };
  const int = (raw: string | boolean | undefined, fallback: number): number => positiveIntFlag(raw, fallback, USAGE);
  return {
    ...base,
    vectors: int(values.vectors, base.vectors),
    dimension: int(values.dimension, base.dimension),
    seconds: int(values.seconds, base.seconds),
    concurrency: int(values.concurrency, base.concurrency),
    nLists: int(values.nlists, base.nLists),
    nProbes: int(values.nprobes, base.nProbes),
    propagationSamples: int(values.samples, base.propagationSamples),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runReplicasBench(parseReplicasArgs(process.argv.slice(2)));
}
