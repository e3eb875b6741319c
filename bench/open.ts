// Cold open from a sealed segment set against cold open from every item record, on the same index:
// `npm run bench -- open [--vectors N] [--dimension N] [--type ivf_sq8] [--runs N]`. The index is
// built through the service (SQLite), trained, and its set written by the segment keeper; each run
// then starts a new service in this process and times store open + index load + first search
// answered, once with the set hidden (the index row's segment_set cleared, as before sets existed)
// and once with it, reporting wall and CPU time (process.cpuUsage: every thread) and the load average.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadConfig, type Config } from '../src/config.js';
import { generateIndexKey } from '../src/crypto/index.js';
import { INDEX_TYPES, type IndexTypeName } from '../src/engine/index.js';
import { createIndexService } from '../src/service/create-index-service.js';
import type { ItemInput } from '../src/service/types.js';
import { SQLITE_FILE_NAME } from '../src/storage/index.js';
import { compiledModule } from '../bin/compiled-build.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';
import { embeddingLikeData } from './data/embedding-like.js';

export interface OpenBenchOptions {
  vectors: number;
  dimension: number;
  type: IndexTypeName;
  runs: number;
  /** Build the index into this directory and keep it there (for later runs with `reuse`). */
  keep?: string;
  /** Skip the build: time opens of the index an earlier run kept in this directory. */
  reuse?: string;
  /** Time only the open from segments (not the one from records). */
  segmentsOnly?: boolean;
  /** Also time the server itself from process start (npm start's entry, over HTTP) to the first search answered. */
  server?: boolean;
}

const USAGE = `open section: [--vectors N] [--dimension N] [--type ivf_flat|ivf_sq8|ivf_pq] [--runs N] [--keep=DIR | --reuse=DIR] [--segments-only] [--server]
  defaults: 100,000 x 128, ivf_sq8, 3 runs of each path
  --server also starts the real server (npm start's entry) on the index each run and times process start to
  its health answer and to the first search answered over HTTP
  --keep=DIR builds the index into DIR and leaves it there; --reuse=DIR times opens of that index
  without building (same --vectors/--dimension/--type), so two versions of the code compare on one index`;

export function parseOpenArgs(args: string[]): OpenBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string' }, dimension: { type: 'string' }, type: { type: 'string' }, runs: { type: 'string' }, keep: { type: 'string' }, reuse: { type: 'string' },
      'segments-only': { type: 'boolean' }, server: { type: 'boolean' }, help: { type: 'boolean' },
    },
    strict: true,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const type = (values.type ?? 'ivf_sq8') as IndexTypeName;
  if (!INDEX_TYPES.includes(type)) throw new Error(`unknown type ${type}\n${USAGE}`);
  return {
    vectors: positiveIntFlag(values.vectors, 100_000, USAGE),
    dimension: positiveIntFlag(values.dimension, 128, USAGE),
    type,
    runs: positiveIntFlag(values.runs, 3, USAGE),
    ...(values.keep === undefined ? {} : { keep: values.keep }),
    ...(values.reuse === undefined ? {} : { reuse: values.reuse }),
    segmentsOnly: values['segments-only'] === true,
    server: values.server === true,
  };
}

export async function runOpenBench(options: OpenBenchOptions, log: (line: string) => void = console.log): Promise<void> {
  const { vectors, dimension, type } = options;
  log(`\n## open: ${vectors} x ${dimension}d ${type}, SQLite, cold open from records vs from a sealed segment set`);
  if (options.keep !== undefined && options.reuse !== undefined) throw new Error(`--keep and --reuse exclude each other\n${USAGE}`);
  const dir = options.reuse ?? options.keep ?? mkdtempSync(join(tmpdir(), 'cipherdex-bench-open-'));
  if (options.keep !== undefined) mkdirSync(dir, { recursive: true });
  // An index of 1,000,000 x 768 needs about 8,300 MB to train (docs/training.md): the budget may come from the environment.
  const base = loadConfig({
    CIPHERDEX_DATA_DIR: dir, AUTO_TRAIN_DISABLED: 'true', CIPHERDEX_PAD_RECORDS: process.env.CIPHERDEX_PAD_RECORDS, TRAINING_MEMORY_BUDGET_MB: process.env.TRAINING_MEMORY_BUDGET_MB,
  });
  const config: Config = { ...base, limits: { ...base.limits, maxBatchItems: Math.max(base.limits.maxBatchItems, 5000) } };
  // A kept index keeps its key beside it (a bench directory, never a real one).
  const keyFile = join(dir, 'bench-index-key');
  const key = options.reuse !== undefined ? readFileSync(keyFile, 'utf8') : generateIndexKey().toString('base64');
  // A kept index keeps its query beside it too: a reuse generates no data.
  const queryFile = join(dir, 'bench-query.f32');
  const { base: data, queries } =
    options.reuse !== undefined ? { base: new Float32Array(0), queries: new Float32Array(new Uint8Array(readFileSync(queryFile)).buffer) } : embeddingLikeData({ count: vectors, queries: 1, dimension });
  const file = join(dir, SQLITE_FILE_NAME);
  try {
    if (options.reuse === undefined) {
      if (options.keep !== undefined) {
        writeFileSync(keyFile, key);
        writeFileSync(queryFile, new Uint8Array(queries.buffer, queries.byteOffset, queries.byteLength));
      }
      const service = await createIndexService({ ...config, segments: true });
      await service.createIndex('bench', key, { dimension, metric: 'cosine', type });
      for (let start = 0; start < vectors; start += 5000) {
        const items: ItemInput[] = [];
        for (let i = start; i < Math.min(vectors, start + 5000); i++) items.push({ id: `doc-${i}`, vector: data.subarray(i * dimension, (i + 1) * dimension), metadata: { shard: i % 16 } });
        await service.upsert('bench', key, items);
      }
      await service.train('bench', key, { wait: true });
      const trainedAt = performance.now();
      const segmentRows = (): { sets: number; bytes: number; segments: number } => {
        const db = new Database(file, { readonly: true });
        try {
          const set = db.prepare("SELECT count(*) AS n FROM indexes WHERE name = 'bench' AND segment_set IS NOT NULL").get() as { n: number };
          const rows = db.prepare('SELECT count(*) AS n, coalesce(sum(length(sealed)), 0) AS bytes FROM index_segments').get() as { n: number; bytes: number };
          return { sets: set.n, bytes: rows.bytes, segments: rows.n };
        } finally {
          db.close();
        }
      };
      while (segmentRows().sets === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const written = segmentRows();
      log(`segment set written ${((performance.now() - trainedAt) / 1000).toFixed(1)} s after training (1 s of it the keeper's delay): ${written.segments} segments, ${(written.bytes / 2 ** 20).toFixed(1)} MiB`);
      await service.close();
    }

    const setColumn = (value: Buffer | null): Buffer | null => {
      const db = new Database(file);
      try {
        const previous = (db.prepare("SELECT segment_set AS v FROM indexes WHERE name = 'bench'").get() as { v: Buffer | null }).v;
        db.prepare("UPDATE indexes SET segment_set = ? WHERE name = 'bench'").run(value);
        return previous;
      } finally {
        db.close();
      }
    };
    const query = [Array.from(queries.subarray(0, dimension))];
    const coldOpen = async (): Promise<{ wallMs: number; serviceMs: number; cpuMs: number; hits: string[] }> => {
      // The keeper off, so the records path does not write a set of its own meanwhile.
      const cpu = process.cpuUsage();
      const started = performance.now();
      const fresh = await createIndexService({ ...config, segments: false });
      const serviceMs = performance.now() - started;
      const [result] = await fresh.search('bench', key, query, { topK: 10 });
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      await fresh.close();
      return { wallMs, serviceMs, cpuMs: (used.user + used.system) / 1000, hits: result.hits.map((hit) => hit.id) };
    };
    if (options.server === true) {
      const current = compiledModule(fileURLToPath(new URL('..', import.meta.url)), 'cli/main') !== null;
      log(`server: runs ${current ? 'the compiled build (dist/)' : 'the TypeScript source through tsx: dist/ is missing or older than src/ (npm run build)'}`);
    }
    for (let run = 1; run <= options.runs; run++) {
      if (options.server === true) {
        const { healthMs, answerMs, hits } = await serverColdOpen(dir, key, query[0]);
        log(`run ${run}: server from process start: health ${healthMs.toFixed(0)} ms, first search answered ${answerMs.toFixed(0)} ms (${hits} hits); load ${loadavg()[0].toFixed(1)}`);
      }
      if (options.segmentsOnly === true) {
        const segments = await coldOpen();
        // The process's peak resident memory so far: with --reuse, that of the open itself (the index's own included).
        const peak = (process.resourceUsage().maxRSS / 2 ** 20).toFixed(2);
        log(`run ${run}: from segments ${segments.wallMs.toFixed(0)} ms wall / ${segments.cpuMs.toFixed(0)} ms CPU (service start ${segments.serviceMs.toFixed(0)} ms); peak RSS ${peak} GiB; load ${loadavg()[0].toFixed(1)}`);
        continue;
      }
      const setId = setColumn(null);
      const records = await coldOpen();
      setColumn(setId);
      const segments = await coldOpen();
      const same = records.hits.join() === segments.hits.join() ? 'same hits' : 'HITS DIFFER';
      log(
        `run ${run}: from records ${records.wallMs.toFixed(0)} ms wall / ${records.cpuMs.toFixed(0)} ms CPU; ` +
          `from segments ${segments.wallMs.toFixed(0)} ms wall / ${segments.cpuMs.toFixed(0)} ms CPU (${same}); ` +
          `of which service start ${records.serviceMs.toFixed(0)} / ${segments.serviceMs.toFixed(0)} ms; load ${loadavg()[0].toFixed(1)}`,
      );
    }
  } finally {
    if (options.keep === undefined && options.reuse === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Starts the server as `npm start` does (node --max-semi-space-size=32 bin/cipherdex.js serve, NODE_ENV=production) on the index's
 * directory, the segment keeper off so the kept index stays as it is, and times process start to
 * its health answer and to the first search answered over HTTP; then stops it.
 */
async function serverColdOpen(dir: string, key: string, vector: number[]): Promise<{ healthMs: number; answerMs: number; hits: number }> {
  const port = await freePort();
  const apiKey = randomBytes(24).toString('base64url');
  const started = performance.now();
  const child = spawn(process.execPath, ['--max-semi-space-size=32', fileURLToPath(new URL('../bin/cipherdex.js', import.meta.url)), 'serve'], {
    env: { ...process.env, NODE_ENV: 'production', CIPHERDEX_DATA_DIR: dir, PORT: String(port), CIPHERDEX_API_KEYS: apiKey, CIPHERDEX_SEGMENTS: 'false', AUTO_TRAIN_DISABLED: 'true' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const base = `http://127.0.0.1:${port}`;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}) before answering`);
      const healthy = await fetch(`${base}/health`).then((response) => response.ok, () => false);
      if (healthy) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const healthMs = performance.now() - started;
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
      body: JSON.stringify({ query: 'query($key: IndexKey!, $v: Vector!) { search(index: "bench", key: $key, vector: $v, topK: 10) { ... on SearchResults { hits { id } } } }', variables: { key, v: vector } }),
    });
    const body = (await response.json()) as { data?: { search?: { hits?: unknown[] } } };
    const answerMs = performance.now() - started;
    const hits = body.data?.search?.hits?.length;
    if (hits === undefined) throw new Error(`the server's first search did not answer with hits: ${JSON.stringify(body).slice(0, 300)}`);
    return { healthMs, answerMs, hits };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
