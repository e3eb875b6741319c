// Lists an index's item tags (Store.readItemTags) on a thread and read-only connection of their
// own, started on first use: an open from a segment set asks for them while the writer thread
// reads its segments, and the listing (about a second of SQLite's time at a million items) then
// runs beside those reads instead of after them. In WAL mode the listing sees the last commit and
// neither waits for the writer nor holds it up.
import type { Worker } from 'node:worker_threads';
import { spawnSiblingWorker } from '../runtime/spawn-worker.js';
import type { StoredItemTags } from './store.js';
import { deserializeError, reviveBuffers, type SerializedError } from './sqlite-writer-protocol.js';

type Reply = { id: number; ok: true; value: StoredItemTags | null } | { id: number; ok: false; error: SerializedError };

export class SqliteTagReader {
  readonly #file: string;
  #worker: Worker | null = null;
  readonly #calls = new Map<number, { resolve(tags: StoredItemTags | null): void; reject(error: unknown): void }>();
  #nextId = 1;
  #closed = false;

  constructor(file: string) {
    this.#file = file;
  }

  readItemTags(index: string): Promise<StoredItemTags | null> {
    if (this.#closed) return Promise.reject(new Error('The store is closed.'));
    const worker = (this.#worker ??= this.#start());
    const id = this.#nextId++;
    // Kept alive only while a read is under way: idle, it does not hold the process open.
    worker.ref();
    return new Promise((resolve, reject) => {
      this.#calls.set(id, { resolve, reject });
      worker.postMessage({ id, index });
    });
  }

  /** Stops the thread (if it was started); later reads fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = null;
    this.#fail(new Error('The store is closed.'));
    await worker?.terminate();
  }

  #start(): Worker {
    const worker = spawnSiblingWorker(import.meta.url, 'sqlite-tag-reader-worker', { file: this.#file });
    worker.on('message', (reply: Reply) => {
      const call = this.#calls.get(reply.id);
      if (call === undefined) return;
      this.#calls.delete(reply.id);
      if (this.#calls.size === 0) worker.unref();
      if (reply.ok) call.resolve(reviveBuffers(reply.value));
      else call.reject(deserializeError(reply.error));
    });
    // A thread that fails is started again by the next read.
    const stop = (error: Error): void => {
      if (this.#worker === worker) this.#worker = null;
      this.#fail(error);
    };
    worker.on('error', stop);
    worker.on('exit', (code) => stop(new Error(`The SQLite tag reader thread stopped (exit code ${code}).`)));
    return worker;
  }

  #fail(error: Error): void {
    for (const call of this.#calls.values()) call.reject(error);
    this.#calls.clear();
  }
}
