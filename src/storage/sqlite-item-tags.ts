// Every (token, seal tag) of an index and the commitment counter they belong to, read in one
// transaction: by the store's own connection, and by the tag reader thread beside the writer
// (sqlite-tag-reader.ts).
import type Database from 'better-sqlite3';
import type { StoredItemTags } from './store.js';

/**
 * Two blobs concatenated in SQLite rather than two Buffers per row: the row objects were most of
 * the cost. group_concat takes each blob's bytes as they are (the database is UTF-8, so nothing is
 * transcoded, and a zero byte is kept: values carry their length), and the CAST gives them back as
 * a blob: 0.2-0.4 s of SQLite's time at 1,000,000 items against 1.0-1.1 s through hex() and unhex().
 * Both aggregates read the same rows in the same order, from the items_tags index alone (migration
 * 8), never the records: the expression is spelled as in that index so the planner uses it as a
 * covering index (sqlite-store.test.ts).
 */
export const ITEM_TAGS_SQL =
  "SELECT count(*) AS n, CAST(group_concat(token, '') AS BLOB) AS tokens, CAST(group_concat(substr(sealed, -16), '') AS BLOB) AS tags FROM items WHERE index_id = ?";

/** Reads an index's item tags on `db` (null when there is no such index). */
export function itemTagsReader(db: Database.Database): (index: string) => StoredItemTags | null {
  const commitment = db.prepare<[string], { id: number; commitment_seq: number }>('SELECT id, commitment_seq FROM indexes WHERE name = ?');
  const itemTags = db.prepare<[number], { n: number; tokens: Buffer | null; tags: Buffer | null }>(ITEM_TAGS_SQL);
  // One read transaction: the tags and the counter describe the same state.
  const read = db.transaction((index: string) => {
    const row = commitment.get(index);
    if (row === undefined) return null;
    const found = itemTags.get(row.id)!;
    const tokens = found.tokens ?? Buffer.alloc(0);
    const tags = found.tags ?? Buffer.alloc(0);
    if (tokens.length !== found.n * 32 || tags.length !== found.n * 16) throw new Error('item tags read back with the wrong length');
    return { commitmentSeq: row.commitment_seq, count: found.n, tokens, tags };
  });
  return (index) => read.deferred(index);
}
