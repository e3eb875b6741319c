// Item records read by token on a read-only connection of the calling thread, beside the writer
// thread (sqlite-worker-store.ts). In WAL mode a reader sees the last commit and never waits for
// the writer, so the few rows a search re-ranks on (IVF_SQ8 / IVF_PQ vectors, by primary key: tens
// of microseconds) no longer queue behind the writer thread's group commits. Under the sustained
// write stream they did: IVF_SQ8 search p50 43-50 ms, p99 347-417 ms through the writer thread;
// 23-26 ms and 116-123 ms with this reader (npm run bench -- load --sustained --type=ivf_sq8).
// Every acknowledged write is already committed (the writer answers after its commit), so an item
// the engine holds is always one this connection can read.

import Database from 'better-sqlite3';
import type { StoredItem } from './store.js';

export class SqliteItemReader {
  readonly #db: Database.Database;
  readonly #read: Database.Transaction<(index: string, tokens: readonly Buffer[]) => StoredItem[]>;

  /** The file must exist (the writer thread creates and migrates it first). */
  constructor(file: string) {
    this.#db = new Database(file, { readonly: true, fileMustExist: true });
    const indexId = this.#db.prepare<[string], { id: number }>('SELECT id FROM indexes WHERE name = ?');
    const item = this.#db.prepare<[number, Buffer], { sealed: Buffer }>('SELECT sealed FROM items WHERE index_id = ? AND token = ?');
    // One read transaction: every token is read from the same commit.
    this.#read = this.#db.transaction((index: string, tokens: readonly Buffer[]) => {
      const id = indexId.get(index)?.id;
      if (id === undefined) return [];
      const found: StoredItem[] = [];
      for (const token of tokens) {
        const row = item.get(id, token);
        if (row !== undefined) found.push({ token, sealed: row.sealed });
      }
      return found;
    });
  }

  /** The stored items of `index` with these tokens (absent ones left out), as the writer's getItems. */
  getItems(index: string, tokens: readonly Buffer[]): StoredItem[] {
    return this.#read(index, tokens);
  }

  /** Idempotent: the store closes it on close and when its writer thread stops. */
  close(): void {
    if (this.#db.open) this.#db.close();
  }
}
