// Service-level benchmark: what encryption and durable storage cost. Upsert throughput through the
// index service (validated, sealed, fsynced into SQLite) and search latency through the service
// beside the raw engine on the same vectors and the same trained lists, so the overhead is one
// subtraction. `npm run bench -- service --help` lists the flags.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { IndexCipher, generateIndexKey, unwrapDataKey } from '../src/crypto/index.js';
import { IvfIndex } from '../src/engine/index.js';
import { createIndexService } from '../src/service/create-index-service.js';
import { ITEM_TOKEN_DOMAIN } from '../src/service/records/item-token.js';
import { openModel } from '../src/service/records/trained-model-record.js';
import type { ItemInput } from '../src/service/types.js';
import { openStore } from '../src/storage/index.js';
import { embeddingLikeData } from './data/embedding-like.js';

export interface ServiceBenchOptions {
  vectors: number;
  dimension: number;
  batchSize: number;
  queries: number;
  topK: number;
  nLists: number;
  nProbes: number;
}

export const DEFAULT_SERVICE_BENCH: ServiceBenchOptions = {
  vectors: 100_000,
  dimension: 128,
  batchSize: 5_000,
  queries: 500,
  topK: 10,
  nLists: 256,
  nProbes: 16,
};

export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

export interface ServiceBenchReport {
  options: ServiceBenchOptions;
  upsertItemsPerSecond: number;
  loadMs: number;
  search: { mode: string; engine: LatencySummary; service: LatencySummary; addedP50Ms: number; overheadP50: number; overheadP99: number }[];
}

export function summarize(samples: number[]): LatencySummary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { p50Ms: at(0.5), p99Ms: at(0.99), meanMs: samples.reduce((s, x) => s + x, 0) / samples.length };
}

/**
 * Times `a` and `b` on the same inputs, interleaved (and alternating which goes first), so drift in
 * machine load, caches or JIT state affects both alike.
 */
async function timePaired(count: number, a: (i: number) => unknown, b: (i: number) => unknown): Promise<[number[], number[]]> {
  // Warm-up: JIT and caches, not measured.
  for (let i = 0; i < Math.min(50, count); i++) {
    await a(i);
    await b(i);
  }
  const as: number[] = [];
  const bs: number[] = [];
  const time = async (run: (i: number) => unknown, i: number, into: number[]) => {
    const start = performance.now();
    await run(i);
    into.push(performance.now() - start);
  };
  for (let i = 0; i < count; i++) {
    if (i % 2 === 0) {
      await time(a, i, as);
      await time(b, i, bs);
    } else {
      await time(b, i, bs);
      await time(a, i, as);
    }
  }
  return [as, bs];
}

export async function runServiceBench(options: ServiceBenchOptions = DEFAULT_SERVICE_BENCH, log: (line: string) => void = console.log): Promise<ServiceBenchReport> {
  log(`\n## service: ${options.vectors} vectors x ${options.dimension}d, SQLite, ${options.queries} queries, top-${options.topK}`);
  const { dimension, topK } = options;
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-bench-service-'));
  const config = { ...loadConfig({ CIPHERDEX_DATA_DIR: dir, AUTO_TRAIN_DISABLED: 'true', CIPHERDEX_PAD_RECORDS: process.env.CIPHERDEX_PAD_RECORDS }) };
  config.limits = { ...config.limits, maxBatchItems: Math.max(config.limits.maxBatchItems, options.batchSize) };
  const key = generateIndexKey();
  // Clients send the key as text with every request; the service parses and checks it each time.
  const keyText = key.toString('base64');
  // The engine benchmark's data, so the raw-engine figures here line up with its own.
  const { base: data, queries: queryData } = embeddingLikeData({ count: options.vectors, queries: options.queries, dimension });
  const row = (source: Float32Array, i: number) => source.subarray(i * dimension, (i + 1) * dimension);
  const queries = Array.from({ length: options.queries }, (_, i) => row(queryData, i));
  try {
    let service = await createIndexService(config);
    await service.createIndex('bench', key, { dimension, metric: 'euclidean' });

    // Upsert: whole batches, each validated, sealed and durable before the next starts.
    const items: ItemInput[] = Array.from({ length: options.vectors }, (_, i) => ({
      id: `doc-${i}`,
      vector: row(data, i),
      contents: `document ${i}`,
      metadata: { shard: i % 16 },
    }));
    // Sustained throughput: the first large batch also starts the sealing workers, so one
    // batch goes to a scratch index first, untimed.
    await service.createIndex('warm-up', key, { dimension });
    await service.upsert('warm-up', key, items.slice(0, options.batchSize));
    await service.deleteIndex('warm-up', key);
    const upsertStart = performance.now();
    for (let start = 0; start < items.length; start += options.batchSize) {
      await service.upsert('bench', key, items.slice(start, start + options.batchSize));
    }
    const upsertSeconds = (performance.now() - upsertStart) / 1000;
    const upsertItemsPerSecond = options.vectors / upsertSeconds;
    log(`service upsert: ${options.vectors} x ${dimension}d in batches of ${options.batchSize}: ${Math.round(upsertItemsPerSecond)} items/s (sealed, fsynced, SQLite)`);

    // Cold open: a new service decrypts every record into the engine.
    await service.close();
    service = await createIndexService(config);
    const loadStart = performance.now();
    await service.describeIndex('bench', key);
    const loadMs = performance.now() - loadStart;
    log(`service cold open: ${options.vectors} records decrypted and indexed in ${loadMs.toFixed(0)} ms`);

    // The raw engine on the same vectors, in the same insertion order.
    const engine = new IvfIndex({ dimension, metric: 'euclidean' });
    engine.addBatch(Uint32Array.from({ length: options.vectors }, (_, i) => i), data);

    const search: ServiceBenchReport['search'] = [];
    const compare = async (mode: string, nProbes: number | undefined) => {
      const [engineSamples, serviceSamples] = await timePaired(
        queries.length,
        (i) => engine.search(queries[i], { topK, nProbes }),
        (i) => service.search('bench', keyText, [queries[i]], { topK, nProbes }),
      );
      const e = summarize(engineSamples);
      const s = summarize(serviceSamples);
      // The same query timed both ways, back to back: the median of the differences is the
      // service's own cost, with the machine's drift (other processes, GC) mostly cancelled.
      const added = summarize(serviceSamples.map((ms, i) => ms - engineSamples[i]));
      const entry = { mode, engine: e, service: s, addedP50Ms: added.p50Ms, overheadP50: added.p50Ms / e.p50Ms, overheadP99: s.p99Ms / e.p99Ms - 1 };
      search.push(entry);
      log(
        `search ${mode} top-${topK}: engine p50 ${e.p50Ms.toFixed(3)} ms p99 ${e.p99Ms.toFixed(3)} ms | service p50 ${s.p50Ms.toFixed(3)} ms p99 ${s.p99Ms.toFixed(3)} ms | ` +
          `service adds ${(added.p50Ms * 1000).toFixed(0)} us per query (median of paired differences) = ${(entry.overheadP50 * 100).toFixed(1)}% of the engine p50; p99 ratio ${(entry.overheadP99 * 100).toFixed(1)}%`,
      );
    };
    await compare('exact (untrained)', undefined);

    // Train through the service, then give the raw engine the very same lists: decrypt the stored
    // model with the index key, as the service does when it opens the index.
    const trainStart = performance.now();
    const run = await service.train('bench', key, { nLists: options.nLists, maxIters: 20, wait: true });
    log(`service train: ${options.nLists} lists, ${run.iteration} iterations, ${run.phase} in ${((performance.now() - trainStart) / 1000).toFixed(1)} s`);
    const store = await openStore(config);
    try {
      const stored = (await store.getIndex('bench'))!;
      const cipher = new IndexCipher(unwrapDataKey(key, stored.wrappedDataKey, 'bench'));
      const model = openModel(cipher, 'bench', stored.sealedModel!);
      const slotByToken = new Map<string, number>();
      for (let i = 0; i < options.vectors; i++) slotByToken.set(cipher.token(ITEM_TOKEN_DOMAIN, `doc-${i}`).toString('latin1'), i);
      const ids = Uint32Array.from(model.tokens, (token) => slotByToken.get(token.toString('latin1'))!);
      engine.applyModel({ centroids: model.centroids, nLists: model.nLists }, { ids, lists: model.lists });
      cipher.destroy();
    } finally {
      await store.close();
    }
    await compare(`ivf nProbes ${options.nProbes}/${options.nLists}`, options.nProbes);
    await service.close();
    return { options, upsertItemsPerSecond, loadMs, search };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const USAGE = `npm run bench -- service [--vectors N] [--queries N] [--lists N] [--probes N] [--batch N] [--large]
  Upserts N vectors (dimension 128) through the index service into SQLite, reopens the index, and
  times searches through the service beside the raw engine on the same vectors and lists.
  --large: 1,000,000 vectors and 1024 lists. Engine-only flags (--lloyd-iters, --train-runs) are ignored.`;

/** Flags of `npm run bench -- service`; it shares flags with the engine section, so it accepts the engine's too. */
export function parseServiceArgs(args: string[]): ServiceBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string' },
      queries: { type: 'string' },
      lists: { type: 'string' },
      probes: { type: 'string' },
      batch: { type: 'string' },
      large: { type: 'boolean' },
      'lloyd-iters': { type: 'string' },
      'train-runs': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const options: ServiceBenchOptions = values.large ? { ...DEFAULT_SERVICE_BENCH, vectors: 1_000_000, nLists: 1024, nProbes: 32 } : { ...DEFAULT_SERVICE_BENCH };
  const int = (raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new Error(`expected a positive integer, got ${raw}\n${USAGE}`);
    return value;
  };
  options.vectors = int(values.vectors, options.vectors);
  options.queries = int(values.queries, options.queries);
  options.nLists = int(values.lists, options.nLists);
  options.nProbes = int(values.probes, options.nProbes);
  options.batchSize = int(values.batch, options.batchSize);
  return options;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runServiceBench(parseServiceArgs(process.argv.slice(2)));
}
