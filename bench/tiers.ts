// Index types benchmark (`npm run bench -- tiers`): for IVF_FLAT, IVF_SQ8 and IVF_PQ on the same
// embedding-like data, the engine's resident bytes per vector (measured, and the process RSS
// delta of building it), train time (k-means and the codec, in the worker), recall@10 and
// single / batched QPS at nProbes 4..64 with the service's re-rank (rerankMult x topK candidates
// scored on the full vectors), and the engine rebuild an open performs once the items are read.
// It also counts the rows IVF_SQ8 keeps exact because its codes cannot hold them (engine/
// exact-rows.ts): after training, and among the held-out queries written afterwards as new items
// (same distribution), which should both be none or a handful.
import { parseArgs } from 'node:util';
import {
  INDEX_TYPES,
  createVectorIndex,
  defaultNLists,
  refineCandidates,
  trainInWorker,
  type EngineSearchResult,
  type IndexTypeName,
  type IvfModel,
  type VectorIndex,
} from '../src/engine/index.js';
import { DEFAULT_RERANK_MULT } from '../src/service/index.js';
import { meanRecall, table } from './bench-table.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';
import { embeddingLikeData } from './data/embedding-like.js';

export interface TiersBenchOptions {
  vectors: number;
  queries: number;
  dimension: number;
  nLists: number;
  topK: number;
  /** Null: each type's default. */
  rerankMult: number | null;
  types: IndexTypeName[];
}

const USAGE = `tiers section: [--vectors N] [--queries N] [--dimension N] [--lists N] [--rerank-mult N] [--types ivf_flat,ivf_sq8,ivf_pq] [--issue | --large]
  defaults: 20,000 x 768, 200 queries, lists = defaultNLists(vectors), rerankMult by type (${Object.entries(DEFAULT_RERANK_MULT).map(([type, mult]) => `${type} ${mult}`).join(', ')})
  --issue  200,000 x 768 (the issue's default size)
  --large  1,000,000 x 768`;

export function parseTiersArgs(args: string[]): TiersBenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      vectors: { type: 'string' },
      queries: { type: 'string' },
      dimension: { type: 'string' },
      lists: { type: 'string' },
      'rerank-mult': { type: 'string' },
      types: { type: 'string' },
      issue: { type: 'boolean' },
      large: { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  const vectors = positiveIntFlag(values.vectors, values.large ? 1_000_000 : values.issue ? 200_000 : 20_000, USAGE);
  const types = (values.types?.split(',') ?? [...INDEX_TYPES]) as IndexTypeName[];
  for (const type of types) if (!INDEX_TYPES.includes(type)) throw new Error(`unknown type ${type}\n${USAGE}`);
  return {
    vectors,
    queries: positiveIntFlag(values.queries, 200, USAGE),
    dimension: positiveIntFlag(values.dimension, 768, USAGE),
    nLists: positiveIntFlag(values.lists, defaultNLists(vectors), USAGE),
    topK: 10,
    rerankMult: values['rerank-mult'] === undefined ? null : Number(values['rerank-mult']),
    types,
  };
}

export async function runTiersBench(options: TiersBenchOptions): Promise<void> {
  const { vectors: n, dimension: d, topK } = options;
  const multOf = (type: IndexTypeName): number => options.rerankMult ?? DEFAULT_RERANK_MULT[type];
  console.log(`# Index types: ${n} x ${d} embedding-like vectors, ${options.queries} queries, ${options.nLists} lists, topK ${topK}\n`);
  const data = embeddingLikeData({ count: n, queries: options.queries, dimension: d });
  const ids = Uint32Array.from({ length: n }, (_, i) => i);
  const row = (id: number): Float32Array => data.base.subarray(id * d, (id + 1) * d);
  // The exact index is dropped once it has answered: at 1,000,000 x 768 it is 3 GiB.
  const truth = ((): EngineSearchResult[] => {
    const exact = createVectorIndex({ type: 'ivf_flat', dimension: d, metric: 'cosine' });
    exact.addBatch(ids, data.base);
    return exact.searchBatch(data.queries, { topK });
  })();
  const probes = [4, 8, 16, 32, 64].filter((p) => p <= options.nLists);
  const summary: (string | number)[][] = [];
  const speed: (string | number)[][] = [];

  for (const type of options.types) {
    const rerankMult = multOf(type);
    const rssBefore = process.memoryUsage().rss;
    const index = createVectorIndex({ type, dimension: d, metric: 'cosine' });
    index.addBatch(ids, data.base);
    const snapshot = index.trainingSnapshot();
    const trainStarted = performance.now();
    const result = await trainInWorker(snapshot.vectors, d, 'cosine', { nLists: options.nLists, batchSize: 2048, maxIters: 25, tolerance: 1e-4, seed: 1 }, {}, { codec: index.spec });
    const model: IvfModel = { centroids: result.centroids, nLists: result.nLists, ...(result.codec ? { codec: result.codec } : {}) };
    index.applyModel(model, { ids: snapshot.ids, lists: result.lists });
    const trainSeconds = (performance.now() - trainStarted) / 1000;
    const rssDelta = process.memoryUsage().rss - rssBefore;
    const resident = index.memoryBytes();

    // What an open does once the items are read and decrypted: add them all, apply the stored model.
    const rebuildStarted = performance.now();
    const reopened = createVectorIndex({ type, dimension: d, metric: 'cosine' });
    reopened.addBatch(ids, data.base);
    reopened.applyModel(model, { ids: snapshot.ids, lists: result.lists });
    const rebuildSeconds = (performance.now() - rebuildStarted) / 1000;
    const exactAfterTraining = index.exactRows;
    summary.push([type, (resident / n).toFixed(0), (rssDelta / n).toFixed(0), trainSeconds.toFixed(1), rebuildSeconds.toFixed(2), exactAfterTraining]);

    const searchOne = (engine: VectorIndex, q: number, nProbes: number): EngineSearchResult => {
      const query = data.queries.subarray(q * d, (q + 1) * d);
      if (!engine.approximate) return engine.search(query, { topK, nProbes });
      return refineCandidates('cosine', d, query, engine.search(query, { topK: topK * rerankMult, nProbes }), row, topK);
    };
    for (const nProbes of probes) {
      let started = performance.now();
      const single = Array.from({ length: options.queries }, (_, q) => searchOne(index, q, nProbes));
      const singleQps = options.queries / ((performance.now() - started) / 1000);
      started = performance.now();
      const found = index.searchBatch(data.queries, { topK: index.approximate ? topK * rerankMult : topK, nProbes });
      const batched = index.approximate
        ? found.map((candidates, q) => refineCandidates('cosine', d, data.queries.subarray(q * d, (q + 1) * d), candidates, row, topK))
        : found;
      const batchQps = options.queries / ((performance.now() - started) / 1000);
      const codes = index.approximate ? meanRecall(index.searchBatch(data.queries, { topK, nProbes }), truth).toFixed(3) : '-';
      speed.push([type, rerankMult, nProbes, meanRecall(single, truth).toFixed(3), meanRecall(batched, truth).toFixed(3), codes, singleQps.toFixed(0), batchQps.toFixed(0)]);
    }
    // The held-out queries written as new items after training: how many the codes cannot hold.
    index.addBatch(Uint32Array.from({ length: options.queries }, (_, i) => n + i), data.queries);
    summary[summary.length - 1].push(`${index.exactRows - exactAfterTraining} of ${options.queries}`);
  }
  console.log('## Memory, training and rebuild');
  table(['type', 'resident B/vec', 'RSS delta B/vec', 'train s', 'rebuild s', 'exact rows', 'exact of later writes'], summary);
  console.log("## Recall@10 and QPS (the compressed types re-ranked from rerankMult x topK; 'codes' = recall with rerankMult 0)");
  table(['type', 'rerankMult', 'nProbes', 'recall', 'recall batch', 'codes', 'QPS single', 'QPS batch'], speed);
}
