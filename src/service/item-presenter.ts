// Builds the items and hits a request returns. Metadata comes from the resident record at once;
// vectors and contents are not resident, so those asked for are read back for all of a request's
// items together (OpenIndex.payloads: the engine's rows where exact, the vector cache, at most one
// store query), after the search or page has chosen them.

import type { ItemRecord, OpenIndex } from './open/open-index.js';
import type { Item, ItemField } from './types.js';

export class ItemPresenter {
  readonly #fields: ReadonlySet<ItemField>;
  readonly #pending: { record: ItemRecord; into: Item }[] = [];

  constructor(fields: ReadonlySet<ItemField>) {
    this.#fields = fields;
  }

  /** Adds the resident fields asked for to `into` (a fresh object the caller owns) and queues the others for fill(). */
  present<T extends Item>(record: ItemRecord, into: T): T {
    if (this.#fields.size === 0) return into;
    // A copy: callers may change what they get without changing the index.
    if (this.#fields.has('metadata')) into.metadata = record.metadata === null ? null : structuredClone(record.metadata);
    if (this.#fields.has('vector') || this.#fields.has('contents')) this.#pending.push({ record, into });
    return into;
  }

  /**
   * Reads the queued items' vectors and contents and sets them. Returns the items whose record
   * was deleted before it could be read: the caller leaves them out (they are gone).
   */
  async fill(open: OpenIndex): Promise<ReadonlySet<Item>> {
    const gone = new Set<Item>();
    if (this.#pending.length === 0) return gone;
    const vector = this.#fields.has('vector');
    const contents = this.#fields.has('contents');
    const payloads = await open.payloads(
      this.#pending.map(({ record }) => record),
      { vector, contents },
    );
    for (const { record, into } of this.#pending) {
      const payload = payloads.get(record);
      if (payload === undefined) {
        gone.add(into);
        continue;
      }
      if (vector && payload.vector !== undefined) into.vector = Array.from(payload.vector);
      if (contents) into.contents = payload.contents ?? null;
    }
    this.#pending.length = 0;
    return gone;
  }
}
