// What leaving the payload out of a search selection is worth: search throughput over real HTTP
// against `cipherdex serve` in its own process, for selections from `id distance` (no payload
// fetched or decrypted) up to every field. `npm run bench -- selection --help` lists the flags.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateIndexKey } from '../src/crypto/index.js';
import { toBase64 } from '../test/e2e/vectors.js';
import { startServeProcess } from '../test/support/serve-process.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';
import { embeddingLikeData } from './data/embedding-like.js';
import { percentile } from './bench-table.js';
import { call } from './replicas.js';

export interface SelectionBenchOptions {
  vectors: number;
  dimension: number;
  /** Characters of contents per item. */
  contentsChars: number;
  queries: number;
  concurrency: number;
  topK: number;
  nLists: number;
  nProbes: number;
  /** Each selection runs this many times, the order rotated each round. */
  rounds: number;
}

export const DEFAULT_SELECTION_BENCH: SelectionBenchOptions = {
  vectors: 20_000,
  dimension: 768,
  contentsChars: 1000,
  queries: 400,
  concurrency: 4,
  topK: 10,
  nLists: 64,
  nProbes: 8,
  rounds: 2,
};

export const SELECTIONS = ['id distance', 'id distance metadata', 'id distance contents metadata', 'id distance vector', 'id distance vector contents metadata'] as const;

export interface SelectionResult {
  selection: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  bytesPerResponse: number;
}

const UPSERT_BATCH = 1000;

export async function runSelectionBench(options: SelectionBenchOptions = DEFAULT_SELECTION_BENCH, log: (line: string) => void = console.log): Promise<SelectionResult[]> {
  const { dimension } = options;
  log(
    `\n## selection: search over HTTP, ${options.vectors} x ${dimension}d, contents ${options.contentsChars} chars, top-${options.topK}, ` +
      `nProbes ${options.nProbes}/${options.nLists}, ${options.concurrency} in flight, ${options.queries} queries x ${options.rounds} rounds per selection`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-bench-selection-'));
  const apiKey = `bench_${randomBytes(16).toString('hex')}`;
  const server = await startServeProcess('the server', {
    NODE_ENV: 'production',
    CIPHERDEX_DATA_DIR: dir,
    CIPHERDEX_API_KEY: apiKey,
    AUTO_TRAIN_DISABLED: 'true',
  });
  try {
    const key = generateIndexKey().toString('base64');
    const { base, queries } = embeddingLikeData({ count: options.vectors, queries: options.queries, dimension });
    const row = (source: Float32Array, i: number) => source.subarray(i * dimension, (i + 1) * dimension);
    const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(options.contentsChars / 27)).slice(0, options.contentsChars);
    await call(server.url, apiKey, 'mutation($key: IndexKey!, $d: Int!) { createIndex(name: "bench", key: $key, dimension: $d) { __typename } }', { key, d: dimension });
    for (let start = 0; start < options.vectors; start += UPSERT_BATCH) {
      const items = Array.from({ length: Math.min(UPSERT_BATCH, options.vectors - start) }, (_, j) => ({
        id: `doc-${start + j}`,
        vector: toBase64(row(base, start + j)),
        contents: filler,
        metadata: { shard: (start + j) % 16, title: `document ${start + j}`, tags: ['bench', 'selection'] },
      }));
      await call(server.url, apiKey, 'mutation($key: IndexKey!, $items: [ItemInput!]!) { upsert(index: "bench", key: $key, items: $items) { __typename } }', { key, items });
    }
    await call(server.url, apiKey, 'mutation($key: IndexKey!, $n: Int!) { trainIndex(index: "bench", key: $key, nLists: $n, wait: true) { __typename } }', { key, n: options.nLists });

    const bodies = (selection: string) =>
      Array.from({ length: options.queries }, (_, i) =>
        JSON.stringify({
          query: `query($key: IndexKey!, $v: Vector!, $k: Int!, $p: Int!) { search(index: "bench", key: $key, vector: $v, topK: $k, nProbes: $p) { ... on SearchResults { hits { ${selection} } } } }`,
          variables: { key, v: toBase64(row(queries, i)), k: options.topK, p: options.nProbes },
        }),
      );
    const samples = new Map<string, { ms: number[]; bytes: number; seconds: number }>(SELECTIONS.map((s) => [s, { ms: [], bytes: 0, seconds: 0 }]));
    // Untimed warm-up: JIT on both sides, the index opened.
    await runBlock(server.url, apiKey, bodies(SELECTIONS[SELECTIONS.length - 1]).slice(0, 50), options.concurrency);
    for (let round = 0; round < options.rounds; round++) {
      for (let s = 0; s < SELECTIONS.length; s++) {
        const selection = SELECTIONS[(s + round) % SELECTIONS.length]!;
        const block = await runBlock(server.url, apiKey, bodies(selection), options.concurrency);
        const into = samples.get(selection)!;
        into.ms.push(...block.ms);
        into.bytes += block.bytes;
        into.seconds += block.seconds;
      }
    }

    const results = SELECTIONS.map((selection): SelectionResult => {
      const { ms, bytes, seconds } = samples.get(selection)!;
      const sorted = [...ms].sort((a, b) => a - b);
      return { selection, requestsPerSecond: ms.length / seconds, p50Ms: percentile(sorted, 0.5), p99Ms: percentile(sorted, 0.99), bytesPerResponse: bytes / ms.length };
    });
    const baseline = results[0]!.requestsPerSecond;
    log('| selection | searches/s | vs id distance | p50 ms | p99 ms | bytes/response |');
    log('|---|---:|---:|---:|---:|---:|');
    for (const r of results) {
      log(`| \`${r.selection}\` | ${r.requestsPerSecond.toFixed(0)} | ${((r.requestsPerSecond / baseline) * 100).toFixed(0)}% | ${r.p50Ms.toFixed(2)} | ${r.p99Ms.toFixed(2)} | ${Math.round(r.bytesPerResponse)} |`);
    }
    return results;
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
    await server.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends every body with `concurrency` in flight; each answer must be a search result. */
async function runBlock(url: string, apiKey: string, bodies: string[], concurrency: number): Promise<{ ms: number[]; bytes: number; seconds: number }> {
  const ms: number[] = [];
  let bytes = 0;
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const sent = performance.now();
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'x-api-key': apiKey }, body });
      const text = await response.text();
      ms.push(performance.now() - sent);
      if (response.status !== 200 || !text.includes('"hits"')) throw new Error(`search failed: HTTP ${response.status} ${text.slice(0, 300)}`);
      bytes += text.length;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ms, bytes, seconds: (performance.now() - start) / 1000 };
}

const USAGE = `npm run bench -- selection [--vectors N] [--dimension N] [--contents N] [--queries N] [--concurrency N] [--rounds N] [--quick]
  Search throughput over HTTP against 'cipherdex serve' for selections from 'id distance' (no
  payload fetched) to every payload field. --quick: 5,000 x 384, 200 queries, 1 round.`;

export function parseSelectionArgs(args: string[]): SelectionBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string' },
      dimension: { type: 'string' },
      contents: { type: 'string' },
      queries: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    // Other sections' flags may share the command line.
    strict: false,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const base: SelectionBenchOptions =
    values.quick === true ? { ...DEFAULT_SELECTION_BENCH, vectors: 5_000, dimension: 384, queries: 200, rounds: 1, nLists: 32 } : { ...DEFAULT_SELECTION_BENCH };
  return {
    ...base,
    vectors: positiveIntFlag(values.vectors, base.vectors, USAGE),
    dimension: positiveIntFlag(values.dimension, base.dimension, USAGE),
    contentsChars: positiveIntFlag(values.contents, base.contentsChars, USAGE),
    queries: positiveIntFlag(values.queries, base.queries, USAGE),
    concurrency: positiveIntFlag(values.concurrency, base.concurrency, USAGE),
    rounds: positiveIntFlag(values.rounds, base.rounds, USAGE),
  };
}
