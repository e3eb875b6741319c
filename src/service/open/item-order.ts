// The items of an open index in token order, for paging. A page continues after the token of the
// previous page's last item, so an item that exists throughout a walk is returned exactly once,
// whatever is upserted or deleted meanwhile: its token never changes and the order never depends
// on slots (which change on every write). Tokens are keyed hashes, so the order says nothing
// about ids. Writes only append to a pending list; the sorted array is merged lazily by the next
// reader, so upserts stay cheap and a walk with no writes in between pays nothing.

export interface OrderEntry {
  id: string;
  token: Buffer;
  /** The token's first 48 bits: most comparisons end here. */
  key: number;
}

export function orderEntry(id: string, token: Buffer): OrderEntry {
  return { id, token, key: token.readUIntBE(0, 6) };
}

export function compareEntries(a: OrderEntry, b: OrderEntry): number {
  return a.key - b.key || Buffer.compare(a.token, b.token);
}

/** Compares an entry with a bare token (a cursor's). */
export function compareToToken(entry: OrderEntry, token: Buffer): number {
  return entry.key - token.readUIntBE(0, 6) || Buffer.compare(entry.token, token);
}

export class ItemOrder {
  #sorted: OrderEntry[] = [];
  #added: OrderEntry[] = [];
  #removed = 0;

  /** An id new to the index (a replacement keeps its place: same id, same token). */
  add(id: string, token: Buffer): void {
    this.#added.push(orderEntry(id, token));
  }

  /** An id left the index; its entry is dropped at the next merge. */
  noteRemoved(): void {
    this.#removed++;
  }

  /**
   * Every live entry in token order (entries of items deleted since the last merge may remain:
   * callers check `isLive`). Merges pending additions first, and compacts when many are dead.
   */
  entries(isLive: (id: string, token: Buffer) => boolean): readonly OrderEntry[] {
    if (this.#added.length > 0 || this.#removed > this.#sorted.length / 4) this.#merge(isLive);
    return this.#sorted;
  }

  /** Position of the first entry after `token` (binary search). */
  static after(entries: readonly OrderEntry[], token: Buffer): number {
    let low = 0;
    let high = entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (compareToToken(entries[mid], token) <= 0) low = mid + 1;
      else high = mid;
    }
    return low;
  }

  /** Bytes held, by structure (an estimate: an entry object of about 48 bytes and its array slot). */
  estimateBytes(): number {
    return (this.#sorted.length + this.#added.length) * 56;
  }

  clear(): void {
    this.#sorted = [];
    this.#added = [];
    this.#removed = 0;
  }

  #merge(isLive: (id: string, token: Buffer) => boolean): void {
    const added = this.#added.sort(compareEntries);
    const sorted = this.#sorted;
    const merged: OrderEntry[] = [];
    let i = 0;
    let j = 0;
    const push = (entry: OrderEntry): void => {
      // A deleted and re-added id appears twice (old and new entry): keep one.
      const last = merged[merged.length - 1];
      if (last !== undefined && last.id === entry.id) return;
      if (isLive(entry.id, entry.token)) merged.push(entry);
    };
    while (i < sorted.length || j < added.length) {
      if (j >= added.length || (i < sorted.length && compareEntries(sorted[i], added[j]) <= 0)) push(sorted[i++]);
      else push(added[j++]);
    }
    this.#sorted = merged;
    this.#added = [];
    this.#removed = 0;
  }
}
