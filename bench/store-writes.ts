// Store-write benchmark: what the SQLite store's writes cost its writer thread as an index grows.
// Batches of sealed-record-sized items with random tokens go through SqliteStore.putItems (one
// fsynced transaction each, as the writer thread runs them), then part of them are rewritten.
// Prints CPU per item and bytes written to disk per item (Linux: /proc/self/io) for each stretch.
// `npm run bench -- writes --help`.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SQLITE_FILE_NAME } from '../src/storage/open-store.js';
import { SqliteStore } from '../src/storage/sqlite-store.js';
import { table } from './bench-table.js';
import { exitWithUsageIfAsked, positiveIntFlag } from './bench-flags.js';

export interface StoreWritesOptions {
  items: number;
  batchSize: number;
  /** Bytes of one sealed record (a 128-d item with a short content is about 700). */
  recordBytes: number;
  /** Items written again (new records under existing tokens) after the growth. */
  rewrites: number;
}

export const DEFAULT_STORE_WRITES: StoreWritesOptions = { items: 200_000, batchSize: 500, recordBytes: 700, rewrites: 20_000 };

/** Bytes this process has caused to be written to storage (Linux), or null. */
function bytesWritten(): number | null {
  if (!existsSync('/proc/self/io')) return null;
  const match = /write_bytes: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'));
  return match === null ? null : Number(match[1]);
}

export async function runStoreWritesBench(options: StoreWritesOptions = DEFAULT_STORE_WRITES): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cipherdex-store-writes-'));
  const file = join(dir, SQLITE_FILE_NAME);
  const store = await SqliteStore.open(file);
  console.log(`\n## store writes: ${options.items.toLocaleString('en')} items of ${options.recordBytes} bytes in batches of ${options.batchSize}, then ${options.rewrites.toLocaleString('en')} rewritten; SQLite, one fsynced transaction per batch`);
  try {
    await store.createIndex({ name: 'bench', wrappedDataKey: randomBytes(60), sealedConfig: randomBytes(100) });
    const tokens = Array.from({ length: options.items }, () => randomBytes(32));
    // Made before the clock starts; records repeat, tokens never do.
    const records = Array.from({ length: 4096 }, () => randomBytes(options.recordBytes));
    let next = 0;
    const rows: string[][] = [];
    const stretch = async (label: string, from: number, to: number): Promise<void> => {
      const cpu = process.cpuUsage();
      const written = bytesWritten();
      const started = performance.now();
      for (let i = from; i < to; i += options.batchSize) {
        const batch = tokens.slice(i, Math.min(to, i + options.batchSize)).map((token) => ({ token, sealed: records[next++ % records.length] }));
        await store.putItems('bench', batch);
      }
      const seconds = (performance.now() - started) / 1000;
      const used = process.cpuUsage(cpu);
      const after = bytesWritten();
      const n = to - from;
      rows.push([
        label,
        ((used.user + used.system) / n).toFixed(1),
        written === null || after === null ? '-' : ((after - written) / n / 1024).toFixed(1),
        Math.round(n / seconds).toLocaleString('en'),
      ]);
    };
    // Four printed rows over the growth.
    const step = Math.ceil(options.items / 4);
    for (let from = 0; from < options.items; from += step) {
      const to = Math.min(options.items, from + step);
      await stretch(`new items ${from.toLocaleString('en')}-${to.toLocaleString('en')}`, from, to);
    }
    await stretch(`rewrites of ${options.rewrites.toLocaleString('en')} items`, 0, Math.min(options.rewrites, options.items));
    table(['stretch', 'CPU us/item', 'KiB written/item', 'items/s'], rows);
    const bytes = ['', '-wal'].reduce((sum, suffix) => sum + (existsSync(file + suffix) ? statSync(file + suffix).size : 0), 0);
    console.log(`database file and log: ${(bytes / 1024 / 1024).toFixed(1)} MiB, ${Math.round(bytes / options.items)} bytes per item (records of ${options.recordBytes})`);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const USAGE = `npm run bench -- writes [--items N] [--batch N] [--record-bytes N] [--rewrites N]
  Writes N items through the SQLite store in fsynced batches and prints, per stretch of the index's
  growth, the CPU and the bytes written to disk per item.`;

export function parseStoreWritesArgs(args: string[]): StoreWritesOptions {
  const { values } = parseArgs({
    args,
    options: { items: { type: 'string' }, batch: { type: 'string' }, 'record-bytes': { type: 'string' }, rewrites: { type: 'string' }, help: { type: 'boolean' } },
    strict: true,
  });
  exitWithUsageIfAsked(values.help, USAGE);
  return {
    items: positiveIntFlag(values.items, DEFAULT_STORE_WRITES.items, USAGE),
    batchSize: positiveIntFlag(values.batch, DEFAULT_STORE_WRITES.batchSize, USAGE),
    recordBytes: positiveIntFlag(values['record-bytes'], DEFAULT_STORE_WRITES.recordBytes, USAGE),
    rewrites: positiveIntFlag(values.rewrites, DEFAULT_STORE_WRITES.rewrites, USAGE),
  };
}
