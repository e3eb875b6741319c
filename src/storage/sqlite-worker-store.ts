// The SQLite store as the server uses it: the same SqliteStore, run in a writer thread of its own
// (sqlite-writer-worker.ts). This side only forwards each Store call and waits for its answer, so
// a commit's fsync (tens of ms for a large batch) never stalls the event loop that serves queries.
// Acknowledged still means durable: a write resolves when the thread reports it committed. Reads
// of items by token (search re-ranks, item reads) go to a read-only connection on this thread
// instead (sqlite-item-reader.ts), so that they never wait behind the writes, and the listing of an
// index's item tags to a thread of its own (sqlite-tag-reader.ts).

import { setImmediate } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../runtime/spawn-worker.js';
import { SqliteItemReader } from './sqlite-item-reader.js';
import { SqliteTagReader } from './sqlite-tag-reader.js';
import type { SqliteStoreOptions } from './sqlite-store.js';
import type { IdempotencyClaim, IdempotentOutcome } from './idempotency-store.js';
import {
  deserializeError,
  packItems,
  reviveBuffers,
  type ForwardedMethod,
  type WriterReply,
  type WriterRequest,
  type WriterStart,
} from './sqlite-writer-protocol.js';
import { DEFAULT_SCAN_PAGE_SIZE, type CommitmentBase, type CommitmentRule, type CommitmentUpdate, type Store, type StoredGrant, type StoredIndex, type StoredItem, type StoredItemTags, type StoredTrainingRun } from './store.js';

/** Tokens read at once without first yielding to the event loop (a search re-ranks 20-200). */
const READ_WITHOUT_YIELD = 512;

type Call = { resolve(value: unknown): void; reject(error: unknown): void };
/** A request before it gets its id (Omit over a union would merge its members). */
type Unnumbered<R> = R extends unknown ? Omit<R, 'id'> : never;

export class SqliteWorkerStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #worker: Worker;
  readonly #reader: SqliteItemReader;
  readonly #tagReader: SqliteTagReader;
  readonly #calls = new Map<number, Call>();
  #nextId = 1;
  /** Why the thread is gone, once it is: every later call fails with it. */
  #stopped: Error | null = null;
  /** Set when close begins: item reads fail from then on. */
  #readsClosed = false;

  private constructor(worker: Worker, reader: SqliteItemReader, file: string) {
    this.#worker = worker;
    this.#reader = reader;
    this.#tagReader = new SqliteTagReader(file);
    worker.on('message', (reply: WriterReply) => {
      const call = this.#calls.get(reply.id);
      if (call === undefined) return;
      this.#calls.delete(reply.id);
      if (reply.ok) call.resolve(reviveBuffers(reply.value));
      else call.reject(deserializeError(reply.error));
    });
    const stop = (error: Error): void => {
      this.#stopped ??= error;
      reader.close();
      void this.#tagReader.close();
      for (const call of this.#calls.values()) call.reject(this.#stopped);
      this.#calls.clear();
    };
    worker.on('error', (error) => stop(error));
    worker.on('exit', (code) => stop(new Error(`The SQLite writer thread stopped (exit code ${code}).`)));
  }

  /** Starts the writer thread and opens (creating if needed, migrating) the file in it. */
  static async open(file: string, options: SqliteStoreOptions = {}): Promise<SqliteWorkerStore> {
    const worker = spawnSiblingWorker(import.meta.url, 'sqlite-writer-worker', { file, options });
    const started = await new Promise<WriterStart>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`The SQLite writer thread exited (code ${code}) before opening ${file}.`)));
    });
    if (!started.ok) {
      await worker.terminate();
      throw deserializeError(started.error);
    }
    let reader: SqliteItemReader;
    try {
      reader = new SqliteItemReader(file);
    } catch (error) {
      await worker.terminate();
      throw error;
    }
    return new SqliteWorkerStore(worker, reader, file);
  }

  #send<T>(request: Unnumbered<WriterRequest>, transfer: ArrayBuffer[] = []): Promise<T> {
    if (this.#stopped !== null) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#worker.postMessage({ ...request, id } as WriterRequest, transfer);
    });
  }

  #call<T>(method: ForwardedMethod, ...args: unknown[]): Promise<T> {
    return this.#send<T>({ method, args });
  }

  createIndex(index: { name: string; wrappedDataKey: Buffer; sealedConfig: Buffer }): Promise<StoredIndex> {
    return this.#call('createIndex', index);
  }

  getIndex(name: string): Promise<StoredIndex | null> {
    return this.#call('getIndex', name);
  }

  listIndexNames(): Promise<string[]> {
    return this.#call('listIndexNames');
  }

  deleteIndex(name: string): Promise<boolean> {
    return this.#call('deleteIndex', name);
  }

  async putItems(index: string, items: StoredItem[], commitment?: CommitmentUpdate | CommitmentRule): Promise<void> {
    const { packed, transfer } = packItems(items);
    return this.#send({ method: 'putItems', args: [index, packed, crossable(commitment)] }, transfer);
  }

  deleteItems(index: string, tokens: Buffer[], commitment?: CommitmentUpdate | CommitmentRule): Promise<number> {
    return this.#call('deleteItems', index, tokens, crossable(commitment));
  }

  readCommitment(index: string, tokens: Buffer[]): Promise<CommitmentBase | null> {
    return this.#call('readCommitment', index, tokens);
  }

  establishCommitment(index: string, commitment: CommitmentUpdate, sealedConfig: Buffer): Promise<boolean> {
    return this.#call('establishCommitment', index, commitment, sealedConfig);
  }

  async putItemsOnce(index: string, items: StoredItem[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome> {
    const { packed, transfer } = packItems(items);
    return this.#send({ method: 'putItemsOnce', args: [index, packed, claim, crossable(commitment)] }, transfer);
  }

  deleteItemsOnce(index: string, tokens: Buffer[], claim: IdempotencyClaim, commitment?: CommitmentUpdate | CommitmentRule): Promise<IdempotentOutcome> {
    return this.#call('deleteItemsOnce', index, tokens, claim, crossable(commitment));
  }

  pruneIdempotencyRecords(olderThanMs: number): Promise<number> {
    return this.#call('pruneIdempotencyRecords', olderThanMs);
  }

  async getItems(index: string, tokens: Buffer[]): Promise<StoredItem[]> {
    // A search's few tokens are read at once, in one read transaction (a turn of the event loop
    // before every read put its p50 up from 17-19 to 27-36 ms under the sustained load). A large
    // read goes READ_WITHOUT_YIELD tokens at a time, a turn of the loop before each: read whole, a
    // codes-only index's training snapshot (pages of 2,000) held the loop 100-500 ms a page, and
    // chained page after page in one task for seconds. Each record is read as last committed.
    if (tokens.length <= READ_WITHOUT_YIELD) return this.#readItems(index, tokens);
    const found: StoredItem[] = [];
    for (let start = 0; start < tokens.length; start += READ_WITHOUT_YIELD) {
      await setImmediate();
      found.push(...this.#readItems(index, tokens.slice(start, start + READ_WITHOUT_YIELD)));
    }
    return found;
  }

  #readItems(index: string, tokens: readonly Buffer[]): StoredItem[] {
    if (this.#stopped !== null) throw this.#stopped;
    if (this.#readsClosed) throw new Error('The store is closed.');
    return this.#reader.getItems(index, tokens);
  }

  async *scanItems(index: string, pageSize = DEFAULT_SCAN_PAGE_SIZE): AsyncIterable<StoredItem[]> {
    if (!Number.isInteger(pageSize) || pageSize < 1) throw new RangeError('pageSize must be a positive integer');
    const scan = await this.#send<number>({ method: 'scanOpen', args: [index, pageSize] });
    let done = false;
    try {
      for (;;) {
        const page = await this.#send<StoredItem[] | null>({ method: 'scanNext', scan });
        if (page === null) {
          done = true;
          return;
        }
        yield page;
      }
    } finally {
      // A loop abandoned early releases the thread's cursor too.
      if (!done && this.#stopped === null) await this.#send({ method: 'scanReturn', scan });
    }
  }

  countItems(index: string): Promise<number> {
    return this.#call('countItems', index);
  }

  /** On a thread of its own (sqlite-tag-reader.ts): an open reads its segments on the writer thread meanwhile. */
  readItemTags(index: string): Promise<StoredItemTags | null> {
    if (this.#stopped !== null) return Promise.reject(this.#stopped);
    return this.#tagReader.readItemTags(index);
  }

  /**
   * The segments (megabytes each) are moved to the writer thread, not copied: a copy of a whole set
   * cost the main thread about a second per set under load. Callers must not use them afterwards.
   */
  replaceSegments(index: string, setId: Buffer, segments: Buffer[]): Promise<void> {
    const owned = segments.filter((segment) => segment.byteOffset === 0 && segment.byteLength === segment.buffer.byteLength);
    return this.#send({ method: 'replaceSegments', args: [index, setId, segments] }, [...new Set(owned.map((segment) => segment.buffer as ArrayBuffer))]);
  }

  readSegments(index: string, setId: Buffer, from: number, count: number): Promise<Buffer[]> {
    return this.#call('readSegments', index, setId, from, count);
  }

  replaceWrappedDataKey(index: string, expected: Buffer, replacement: Buffer): Promise<number | null> {
    return this.#call('replaceWrappedDataKey', index, expected, replacement);
  }

  saveModel(index: string, sealedModel: Buffer): Promise<number> {
    return this.#call('saveModel', index, sealedModel);
  }

  putTrainingRun(index: string, token: Buffer, sealed: Buffer): Promise<void> {
    return this.#call('putTrainingRun', index, token, sealed);
  }

  listTrainingRuns(index: string, limit: number, before?: number): Promise<StoredTrainingRun[]> {
    return this.#call('listTrainingRuns', index, limit, before);
  }

  getTrainingRun(index: string, token: Buffer): Promise<StoredTrainingRun | null> {
    return this.#call('getTrainingRun', index, token);
  }

  createGrant(grant: Omit<StoredGrant, 'lastUsedAt'>): Promise<void> {
    return this.#call('createGrant', grant);
  }

  getGrant(index: string, id: string): Promise<StoredGrant | null> {
    return this.#call('getGrant', index, id);
  }

  listGrants(index: string): Promise<StoredGrant[]> {
    return this.#call('listGrants', index);
  }

  deleteGrant(index: string, id: string): Promise<boolean> {
    return this.#call('deleteGrant', index, id);
  }

  touchGrant(index: string, id: string, at: Date): Promise<void> {
    return this.#call('touchGrant', index, id, at);
  }

  async close(): Promise<void> {
    if (this.#stopped !== null) return;
    // The reader first: the writer's connection, then the last one, checkpoints the log into the
    // database and removes it (with the reader still open, every page version stayed in the log).
    this.#readsClosed = true;
    this.#reader.close();
    await this.#tagReader.close();
    await this.#call('close');
    this.#stopped = new Error('The store is closed.');
    await this.#worker.terminate();
  }
}

/** A commitment rule is a function, which cannot reach the writer thread: only computed updates can. */
function crossable(commitment: CommitmentUpdate | CommitmentRule | undefined): CommitmentUpdate | undefined {
  if (typeof commitment === 'function') throw new TypeError('The SQLite writer thread takes a computed commitment update, not a rule.');
  return commitment;
}
