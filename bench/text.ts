// Keyword and hybrid search benchmark (`npm run bench -- text`): documents of about 60 real words
// (seeded Zipf draws over a word list) with embedding-like vectors, upserted into two SQLite
// indexes, one with textSearch. It reports the time to open each, twice: untrained, from every
// record (the difference is building the term index from the decrypted records), then trained,
// from the sealed segment set the segment keeper wrote (the difference is restoring the term index
// from the set); the latency of text-only, hybrid and vector-only queries through the service
// (untrained); and the term index's memory per document.

import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { loadConfig, type Config } from '../src/config.js';
import { generateIndexKey, unwrapDataKey } from '../src/crypto/index.js';
import { createRandom } from '../src/engine/random.js';
import { IndexKeyCredential } from '../src/service/access/credentials.js';
import { createIndexService } from '../src/service/create-index-service.js';
import { WORKER_OPEN_MIN_ITEMS } from '../src/service/open/item-page-loading.js';
import type { CipherdexIndexService } from '../src/service/index-service.js';
import { loadOpenIndex } from '../src/service/open/index-loader.js';
import { StoredItems } from '../src/service/records/stored-items.js';
import { VectorCache } from '../src/service/records/vector-cache.js';
import { TextIndex } from '../src/service/text/text-index.js';
import type { ItemInput, SearchOptions } from '../src/service/types.js';
import { SQLITE_FILE_NAME, openStore } from '../src/storage/index.js';
import { mainThreadCpuMs } from './main-thread-cpu.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';
import { embeddingLikeData } from './data/embedding-like.js';
import { ZipfWords, loadWordList } from './data/word-corpus.js';
import { summarize, type LatencySummary } from './service.js';

export interface TextBenchOptions {
  documents: number;
  words: number;
  dimension: number;
  queries: number;
  topK: number;
  batchSize: number;
}

export const DEFAULT_TEXT_BENCH: TextBenchOptions = { documents: 100_000, words: 60, dimension: 64, queries: 300, topK: 10, batchSize: 5_000 };

/** Queries draw their words from below the most frequent ranks, as people rarely search for those. */
const QUERY_MIN_RANK = 100;

export async function runTextBench(options: TextBenchOptions = DEFAULT_TEXT_BENCH, log: (line: string) => void = console.log): Promise<void> {
  const { documents, dimension, topK } = options;
  const list = loadWordList();
  log(`\n## text: ${documents} documents of ~${options.words} words (${list.words.length} distinct words from ${list.source}), ${dimension}d vectors, SQLite, top-${topK}`);
  const zipf = new ZipfWords(list.words, 15);
  const { base, queries: queryVectors } = embeddingLikeData({ count: documents, queries: options.queries, dimension, seed: 15 });
  const items: ItemInput[] = Array.from({ length: documents }, (_, i) => ({
    id: `doc-${i}`,
    vector: base.subarray(i * dimension, (i + 1) * dimension),
    contents: zipf.document(options.words),
    metadata: { shard: i % 16 },
  }));
  // One to three words per query.
  const random = createRandom(16);
  const texts = Array.from({ length: options.queries }, () => Array.from({ length: 1 + Math.floor(random() * 3) }, () => zipf.next(QUERY_MIN_RANK)).join(' '));
  const vectors = Array.from({ length: options.queries }, (_, i) => queryVectors.subarray(i * dimension, (i + 1) * dimension));

  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-bench-text-'));
  const config = loadConfig({ CIPHERDEX_DATA_DIR: dir, AUTO_TRAIN_DISABLED: 'true' });
  config.limits = { ...config.limits, maxBatchItems: Math.max(config.limits.maxBatchItems, options.batchSize) };
  const key = generateIndexKey().toString('base64');
  try {
    let service = await createIndexService(config);
    await service.createIndex('plain', key, { dimension });
    await service.createIndex('text', key, { dimension, textSearch: true });
    await service.createIndex('warm-up', key, { dimension, textSearch: true });
    // Enough items that its open goes through the sealing workers (smaller ones open on the calling thread).
    await service.upsert('warm-up', key, items.slice(0, WORKER_OPEN_MIN_ITEMS));
    for (const name of ['plain', 'text']) {
      const started = performance.now();
      for (let start = 0; start < documents; start += options.batchSize) await service.upsert(name, key, items.slice(start, start + options.batchSize));
      log(`upsert into ${name}: ${Math.round(documents / ((performance.now() - started) / 1000))} items/s`);
    }
    await service.close();

    // Cold opens from every record: the indexes are untrained, so they have no segment set yet.
    service = await createIndexService(config);
    const fromRecords = await timedOpens(service, key, log);

    const time = async (run: (i: number) => Promise<unknown>): Promise<{ wall: LatencySummary; cpu: LatencySummary }> => {
      for (let i = 0; i < Math.min(30, options.queries); i++) await run(i);
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < options.queries; i++) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        await run(i);
        cpu.push(cpuMs(cpuStarted));
        wall.push(performance.now() - started);
      }
      return { wall: summarize(wall), cpu: summarize(cpu) };
    };
    const search = (vector: Float32Array | null, extra: SearchOptions) => service.search('text', key, vector === null ? null : [vector], { topK, ...extra });
    const latency = {
      text: await time((i) => search(null, { texts: [texts[i]] })),
      rrf: await time((i) => search(vectors[i], { texts: [texts[i]] })),
      relative: await time((i) => search(vectors[i], { texts: [texts[i]], fusion: 'relative_score' })),
      vector: await time((i) => search(vectors[i], {})),
    };
    const textScores = async (): Promise<string> => JSON.stringify((await service.search('text', key, null, { texts, topK })).map((result) => result.hits.map((hit) => hit.textScore)));
    const scoresFromRecords = await textScores();
    await service.close();

    // Trained (as auto-training would have done past 10,000 items), then the segment keeper writes
    // each index's sealed set (after its 1 s pause); the cold opens then read the set and an empty tail.
    service = await createIndexService({ ...config, segments: true });
    const trainStarted = performance.now();
    for (const name of ['plain', 'text']) await service.train(name, key, { maxIters: 10, wait: true });
    const trainedAt = performance.now();
    while (segmentSets(config.dataDir) < 2) await new Promise((resolve) => setTimeout(resolve, 50));
    log(`both indexes trained in ${((trainedAt - trainStarted) / 1000).toFixed(1)} s; their segment sets written ${((performance.now() - trainedAt) / 1000).toFixed(1)} s later`);
    await service.close();
    // The keeper off, so nothing is written in the background of the timed opens.
    service = await createIndexService({ ...config, segments: false });
    const fromSegments = await timedOpens(service, key, log);
    const sameScores = (await textScores()) === scoresFromRecords;
    await service.close();
    const fromSets = [];
    for (const name of ['plain', 'text']) fromSets.push(`${name} ${(await openedFromSegments(config, name, key)) ? 'from its set' : 'NOT FROM ITS SET'}`);
    log(`checked by a direct open: ${fromSets.join(', ')}; text-only top-${topK} scores of all ${texts.length} queries ${sameScores ? 'equal' : 'DIFFER FROM'} those after the open from records`);

    const memory = termIndexMemory(items);
    const ms = (value: number) => `${value.toFixed(value < 10 ? 2 : 0)} ms`;
    const open = (wall: number, cpu: number, main: number | null) => `${ms(wall)} (CPU ${ms(cpu)}${main === null ? '' : `, main thread ${ms(main)}`})`;
    const query = (summary: { wall: LatencySummary; cpu: LatencySummary }) =>
      `${ms(summary.wall.p50Ms)} / ${ms(summary.wall.p99Ms)} (CPU p50 ${ms(summary.cpu.p50Ms)})`;
    const opens = (from: string, openMs: OpenTimes, target: string): [string, string, string][] => [
      [`open from ${from}, index without text search`, open(openMs.plain.wall, openMs.plain.cpu, openMs.plain.main), ''],
      [`open from ${from}, index with text search`, open(openMs.text.wall, openMs.text.cpu, openMs.text.main), ''],
      [
        `term index build at open from ${from} (difference)`,
        open(openMs.text.wall - openMs.plain.wall, openMs.text.cpu - openMs.plain.cpu, openMs.text.main === null || openMs.plain.main === null ? null : openMs.text.main - openMs.plain.main),
        target,
      ],
    ];
    const rows: [string, string, string][] = [
      ...opens('records (untrained, no segment set)', fromRecords, ''),
      ...opens('the sealed segment set (trained)', fromSegments, '< 2 s'),
      ['text-only query p50 / p99', query(latency.text), 'p50 < 5 ms'],
      ['hybrid query (RRF) p50 / p99', query(latency.rrf), 'p50 < 8 ms'],
      ['hybrid query (relative score) p50 / p99', query(latency.relative), 'p50 < 8 ms'],
      ['vector-only query p50 / p99 (exact, untrained)', query(latency.vector), ''],
      ['term index memory per document', `${Math.round(memory.measured)} B measured (${Math.round(memory.estimated)} B by structure)`, ''],
      ['distinct terms / mean terms per document', `${memory.terms} / ${memory.meanLength.toFixed(1)}`, ''],
    ];
    log('\n| measure | value | target |\n|---|---|---|');
    for (const [measure, value, target] of rows) log(`| ${measure} | ${value} | ${target} |`);
    log(`load average while measuring: ${loadavg().map((load) => load.toFixed(1)).join(' ')} on ${availableParallelism()} cores`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

type OpenTimes = Record<'plain' | 'text', { wall: number; cpu: number; main: number | null }>;

/** Opens both indexes in the fresh `service`, timed, after a small index's open has started the sealing workers. */
async function timedOpens(service: CipherdexIndexService, key: string, log: (line: string) => void): Promise<OpenTimes> {
  // A fresh service starts its sealing workers on first use (they open the records with the main
  // thread): the warm-up index pays for that first, so both timed opens find them running.
  const warmUp = performance.now();
  await service.describeIndex('warm-up', key);
  log(`first open in a fresh service (starts the sealing workers): ${Math.round(performance.now() - warmUp)} ms`);
  // CPU time beside wall time: on a shared machine the wall clock also counts waiting for a core.
  // The main thread's own CPU time is the part no worker shares.
  const openMs = {} as OpenTimes;
  for (const name of ['plain', 'text'] as const) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    const main = mainThreadCpuMs();
    await service.describeIndex(name, key);
    const mainAfter = mainThreadCpuMs();
    openMs[name] = { wall: performance.now() - started, cpu: cpuMs(cpu), main: main === null || mainAfter === null ? null : mainAfter - main };
  }
  return openMs;
}

/** Indexes whose row names a sealed segment set. */
function segmentSets(dataDir: string): number {
  const db = new Database(join(dataDir, SQLITE_FILE_NAME), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM indexes WHERE segment_set IS NOT NULL').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Whether index `name` opens from its sealed segment set (an open outside the service, as the tests make). */
async function openedFromSegments(config: Config, name: string, key: string): Promise<boolean> {
  const store = await openStore(config);
  try {
    const stored = (await store.getIndex(name))!;
    const keyBytes = Buffer.from(key, 'base64');
    const open = await loadOpenIndex(store, stored, unwrapDataKey(keyBytes, stored.wrappedDataKey, name), new IndexKeyCredential(keyBytes), null, 0, new StoredItems(store, new VectorCache(1 << 20)));
    const fromSet = open.loadedFromSegments;
    open.close();
    return fromSet;
  } finally {
    await store.close();
  }
}

function cpuMs(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return (user + system) / 1000;
}

/** Heap and array-buffer growth from building a term index over `items` alone, after full GCs. */
function termIndexMemory(items: readonly ItemInput[]): { measured: number; estimated: number; terms: number; meanLength: number } {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const used = () => {
    gc();
    gc();
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const before = used();
  const index = new TextIndex({ textFields: [], textLanguage: 'english' });
  items.forEach((item, slot) => index.add(slot, item.contents ?? null, null));
  const measured = (used() - before) / items.length;
  return { measured, estimated: index.terms.estimateBytes() / items.length, terms: index.terms.termCount, meanLength: index.terms.averageLength };
}

const USAGE = `npm run bench -- text [--documents N] [--words N] [--queries N] [--dimension N] [--quick]
  Upserts N documents of about --words real words (seeded) with vectors into two SQLite indexes, one
  with textSearch, reopens both, and times text-only, hybrid and vector-only searches through the
  service. --quick: 10,000 documents and 100 queries.`;

export function parseTextArgs(args: string[]): TextBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      documents: { type: 'string' },
      words: { type: 'string' },
      queries: { type: 'string' },
      dimension: { type: 'string' },
      quick: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const base = values.quick ? { ...DEFAULT_TEXT_BENCH, documents: 10_000, queries: 100 } : DEFAULT_TEXT_BENCH;
  return {
    ...base,
    documents: positiveIntFlag(values.documents, base.documents, USAGE),
    words: positiveIntFlag(values.words, base.words, USAGE),
    queries: positiveIntFlag(values.queries, base.queries, USAGE),
    dimension: positiveIntFlag(values.dimension, base.dimension, USAGE),
  };
}
