// What an open index costs the process per vector, and the CPU time of its searches, measured
// through the service on a store built once (so two versions of the code can open the same data):
//   tsx bench/resident-memory.ts build <dir> <ivf_flat|ivf_sq8> [count] [dimension] [none: no metadata]
//   node --expose-gc --import tsx bench/resident-memory.ts measure <dir> <ivf_flat|ivf_sq8> [queries]
// `measure` starts a fresh service, opens the index and reports the growth of RSS, V8 heap and
// array buffers (external) per vector after a full GC, the engine's residentBytes per vector,
// then CPU time per single-query search (process.cpuUsage), twice: the first pass reads re-rank
// vectors from the store, the second finds them in the vector cache.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { createIndexService } from '../src/service/create-index-service.js';
import { embeddingLikeData } from './data/embedding-like.js';

const [command, dir, type, countArg, dimensionArg, metadataArg] = process.argv.slice(2);
/** `build ... none` stores no metadata (to measure what metadata costs resident). */
const withMetadata = metadataArg !== 'none';
if ((command !== 'build' && command !== 'measure') || !dir || (type !== 'ivf_flat' && type !== 'ivf_sq8')) {
  console.error('usage: resident-memory.ts build|measure <dir> <ivf_flat|ivf_sq8> [count|queries] [dimension]');
  process.exit(2);
}
const KEY = Buffer.alloc(32, 7).toString('base64');
const config = loadConfig({ CIPHERDEX_DATA_DIR: dir, AUTO_TRAIN_DISABLED: 'true', CIPHERDEX_IDLE_EVICT_MS: '3600000' });

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('run measure with node --expose-gc');
  for (let i = 0; i < 3; i++) collect();
}

if (command === 'build') {
  const count = Number(countArg ?? 50_000);
  const dimension = Number(dimensionArg ?? 768);
  const data = embeddingLikeData({ count, queries: 200, dimension });
  const service = await createIndexService(config);
  await service.createIndex('bench', KEY, { dimension, type });
  for (let start = 0; start < count; start += 1000) {
    const items = [];
    for (let i = start; i < Math.min(count, start + 1000); i++) {
      items.push({ id: `v${i}`, vector: Array.from(data.base.subarray(i * dimension, (i + 1) * dimension)), ...(withMetadata ? { metadata: { i, group: i % 10 } } : {}) });
    }
    await service.upsert('bench', KEY, items);
  }
  writeFileSync(join(dir, 'queries.f32'), Buffer.from(data.queries.buffer, data.queries.byteOffset, data.queries.byteLength));
  const run = await service.train('bench', KEY, { wait: true, maxIters: 20 });
  console.log(`built ${count} x ${dimension} ${type}: ${run.phase}, ${run.nLists} lists`);
  await service.close();
} else {
  const queriesCount = Math.min(200, Number(countArg ?? 200));
  const service = await createIndexService(config);
  gc();
  const before = process.memoryUsage();
  const info = await service.describeIndex('bench', KEY);
  gc();
  const after = process.memoryUsage();
  const n = info.vectorCount;
  const per = (field: 'rss' | 'heapUsed' | 'external' | 'arrayBuffers') => Math.round((after[field] - before[field]) / n);
  console.log(`${type} ${n} x ${info.dimension}: per vector RSS ${per('rss')} B, heapUsed ${per('heapUsed')} B, external ${per('external')} B (arrayBuffers ${per('arrayBuffers')} B), engine residentBytes ${Math.round(info.residentBytes / n)} B`);
  const bytes = readFileSync(join(dir, 'queries.f32'));
  const queries = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const data = { queries };
  for (const pass of ['first pass (store reads)', 'second pass (cached)']) {
    const cpu = process.cpuUsage();
    for (let q = 0; q < queriesCount; q++) {
      await service.search('bench', KEY, [Array.from(data.queries.subarray(q * info.dimension, (q + 1) * info.dimension))], { topK: 10, nProbes: 16 });
    }
    const used = process.cpuUsage(cpu);
    console.log(`  ${pass}: ${((used.user + used.system) / queriesCount / 1000).toFixed(2)} ms CPU per query (user+system, ${queriesCount} queries, nProbes 16, default rerankMult)`);
  }
  await service.close();
}
