// Looking inside an index (`npm run bench -- data`): count and browse with and without filters,
// and filtered search at 1% selectivity on a trained index, through the service (SQLite). The
// index is reopened in a fresh service first, so the metadata index is the one built at open
// from the decrypted records. `--large` runs the 1,000,000 items.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { generateIndexKey } from '../src/crypto/index.js';
import { createIndexService } from '../src/service/create-index-service.js';
import type { Filter, ItemInput } from '../src/service/types.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';
import { embeddingLikeData } from './data/embedding-like.js';
import { summarize } from './service.js';

export interface DataBenchOptions {
  items: number;
  dimension: number;
  queries: number;
  nLists: number;
  batchSize: number;
}

export const DEFAULT_DATA_BENCH: DataBenchOptions = { items: 100_000, dimension: 32, queries: 200, nLists: 316, batchSize: 10_000 };
const LARGE: Partial<DataBenchOptions> = { items: 1_000_000, nLists: 1000 };

const USAGE = `npm run bench -- data [--large] [--items N] [--dimension D] [--queries Q] [--nlists L]
  Counts, browses and filtered searches through the service on N items (default 100,000; --large: 1,000,000).`;

export function parseDataArgs(args: string[]): DataBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      large: { type: 'boolean' },
      items: { type: 'string' },
      dimension: { type: 'string' },
      queries: { type: 'string' },
      nlists: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: false,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const base = values.large ? { ...DEFAULT_DATA_BENCH, ...LARGE } : DEFAULT_DATA_BENCH;
  return {
    ...base,
    items: positiveIntFlag(values.items, base.items, USAGE),
    dimension: positiveIntFlag(values.dimension, base.dimension, USAGE),
    queries: positiveIntFlag(values.queries, base.queries, USAGE),
    nLists: positiveIntFlag(values.nlists, base.nLists, USAGE),
  };
}

function squaredDistance(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] - b[i]) ** 2;
  return sum;
}

export async function runDataBench(options: DataBenchOptions = DEFAULT_DATA_BENCH, log: (line: string) => void = console.log): Promise<void> {
  const { items: n, dimension, queries } = options;
  log(`\n## data: ${n} items, ${dimension}d, SQLite, trained into ${options.nLists} lists; ${queries} calls per row`);
  const { base, queries: queryVectors } = embeddingLikeData({ count: n, queries, dimension, seed: 21 });
  const vectorOf = (i: number) => base.subarray(i * dimension, (i + 1) * dimension);
  // bucket: 100 values (1% each); category: 10 values (10% each); n: unique, for ranges.
  const metadataOf = (i: number) => ({ bucket: (i * 7919) % 100, category: `c${i % 10}`, n: i });
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-bench-data-'));
  const config = loadConfig({ CIPHERDEX_DATA_DIR: dir, AUTO_TRAIN_DISABLED: 'true' });
  config.limits = { ...config.limits, maxBatchItems: Math.max(config.limits.maxBatchItems, options.batchSize) };
  const key = generateIndexKey().toString('base64');
  try {
    let service = await createIndexService(config);
    await service.createIndex('data', key, { dimension });
    let started = performance.now();
    for (let start = 0; start < n; start += options.batchSize) {
      const batch: ItemInput[] = [];
      for (let i = start; i < Math.min(n, start + options.batchSize); i++) batch.push({ id: `item-${i}`, vector: vectorOf(i), metadata: metadataOf(i) });
      await service.upsert('data', key, batch);
    }
    log(`upsert: ${Math.round(n / ((performance.now() - started) / 1000))} items/s`);
    started = performance.now();
    await service.train('data', key, { nLists: options.nLists, maxIters: 10, wait: true });
    log(`train: ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await service.close();

    service = await createIndexService(config);
    started = performance.now();
    await service.describeIndex('data', key);
    log(`open (decrypt every record, build the metadata index): ${((performance.now() - started) / 1000).toFixed(1)} s`);

    const rows: [string, number[]][] = [];
    const time = async (label: string, run: (i: number) => Promise<unknown>) => {
      for (let i = 0; i < Math.min(20, queries); i++) await run(i); // warm-up (first browse also sorts the token order)
      const samples: number[] = [];
      for (let i = 0; i < queries; i++) {
        const t = performance.now();
        await run(i);
        samples.push(performance.now() - t);
      }
      rows.push([label, samples]);
    };
    const rareBucket = (i: number) => i % 100;
    await time('count, no filter', () => service.count('data', key));
    await time('count, equality (1%)', (i) => service.count('data', key, { bucket: rareBucket(i) }));
    await time('count, equality (10%)', (i) => service.count('data', key, { category: `c${i % 10}` }));
    await time('count, range (1%)', (i) => service.count('data', key, { n: { $gte: (i * 997) % n, $lt: ((i * 997) % n) + n / 100 } }));
    await time('count, not indexable ($ne, 99%)', (i) => service.count('data', key, { bucket: { $ne: rareBucket(i) } }));
    let after: string | null = null;
    await time('browse page of 100, no filter (walking)', async () => {
      const page = await service.browse('data', key, { first: 100, after, include: [] });
      after = page.hasNextPage ? page.endCursor : null;
    });
    for (const [label, filter] of [
      ['browse page of 100, equality (10%)', (i: number): Filter => ({ category: `c${i % 10}` })],
      ['browse page of 100, equality (1%)', (i: number): Filter => ({ bucket: rareBucket(i) })],
    ] as const) {
      let cursor: string | null = null;
      await time(label, async (i) => {
        const page = await service.browse('data', key, { first: 100, after: cursor, filter: filter(i), include: ['metadata'] });
        cursor = page.hasNextPage && i % 5 !== 4 ? page.endCursor : null;
      });
    }
    await time('search top-10, no filter', (i) => service.search('data', key, [queryVectors.subarray(i * dimension, (i + 1) * dimension)], { topK: 10 }));
    // Hits and recall of the 1% filter, outside any timing: recall against brute force over the matching items.
    const hitsPerCall: number[] = [];
    let recallSum = 0;
    const sampled = Math.min(50, queries);
    const matchingIds: number[] = [];
    for (let j = 0; j < n; j++) if (metadataOf(j).bucket === 42) matchingIds.push(j);
    for (let i = 0; i < queries; i++) {
      const query = queryVectors.subarray(i * dimension, (i + 1) * dimension);
      const [result] = await service.search('data', key, [query], { topK: 10, filter: { bucket: 42 } });
      hitsPerCall.push(result.hits.length);
      if (i >= sampled) continue;
      const nearest = matchingIds.map((j) => ({ id: `item-${j}`, d: squaredDistance(query, vectorOf(j)) })).sort((a, b) => a.d - b.d);
      const expected = new Set(nearest.slice(0, 10).map((m) => m.id));
      recallSum += result.hits.filter((hit) => expected.has(hit.id)).length / 10;
    }
    await time('search top-10, equality filter (1%)', (i) =>
      service.search('data', key, [queryVectors.subarray(i * dimension, (i + 1) * dimension)], { topK: 10, filter: { bucket: 42 } }),
    );
    await time('search top-10, filter not indexable (1%, widened probe)', (i) =>
      service.search('data', key, [queryVectors.subarray(i * dimension, (i + 1) * dimension)], { topK: 10, filter: { bucket: { $not: { $ne: 42 } } } }),
    );

    log('');
    log('| operation | p50 ms | p99 ms | mean ms |');
    log('|---|---:|---:|---:|');
    for (const [label, samples] of rows) {
      const s = summarize(samples);
      log(`| ${label} | ${s.p50Ms.toFixed(2)} | ${s.p99Ms.toFixed(2)} | ${s.meanMs.toFixed(2)} |`);
    }
    log('');
    log(`filtered search (1%): every call returned ${Math.min(...hitsPerCall)}..${Math.max(...hitsPerCall)} hits; recall@10 against brute force over the matching items ${(recallSum / sampled).toFixed(3)} (${sampled} queries)`);
    await service.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
