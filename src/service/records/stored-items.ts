// Reads item records back from the store for what memory no longer keeps: the float32 vectors of
// IVF_SQ8 / IVF_PQ candidates to re-rank, and the vector and contents of the items and hits a
// request asks for. One store query per call (getItems with every token), each record opened and
// decoded by the same path as a load (cipher.open with the item's associated data, decodeItem),
// so every check made on a loaded record is made on these too. Vectors go through the shared
// VectorCache; contents are not cached.

import { setImmediate as nextTurn } from 'node:timers/promises';
import type { IndexCipher } from '../../crypto/index.js';
import type { CommitmentBase, StoredItem } from '../../storage/index.js';
import { toDomainError } from '../lower-layer-errors.js';
import { itemAad } from './associated-data.js';
import { sealTagOf } from './index-commitment.js';
import { decodeItem, type DecodedItem } from './item-codec.js';
import type { VectorCache } from './vector-cache.js';

/**
 * Records opened between turns of the event loop: a bulk read (an IVF_SQ8 training snapshot, a
 * segment set) opened tens of thousands at once and held the thread that answers queries for
 * 60 ms and more under load; 256 take about a millisecond.
 */
const OPENED_PER_TURN = 256;

/** The part of the store these reads need. */
export interface ItemReadStore {
  getItems(index: string, tokens: Buffer[]): Promise<StoredItem[]>;
  /** To tell a record the database changed from one another replica wrote (OpenIndex's read check). */
  readCommitment(index: string, tokens: Buffer[]): Promise<CommitmentBase | null>;
}

/** A record read back: decoded, with the tag of its sealed bytes (which version it is, latin1). */
export interface ReadItem {
  item: DecodedItem;
  sealTag: string;
}

export class StoredItems {
  readonly store: ItemReadStore;
  /** Shared by every index opened with this reader. */
  readonly vectors: VectorCache;

  constructor(store: ItemReadStore, vectors: VectorCache) {
    this.store = store;
    this.vectors = vectors;
  }

  /**
   * The records of `tokens` in `index`, decoded, by token (latin1); tokens not in the store are
   * absent. A record that fails authentication throws IntegrityError; a store fault its typed error.
   * Whether a record is the version memory holds is the caller's check (OpenIndex).
   */
  async read(index: string, cipher: IndexCipher, tokens: readonly Buffer[]): Promise<Map<string, ReadItem>> {
    const found = new Map<string, ReadItem>();
    if (tokens.length === 0) return found;
    let stored: StoredItem[];
    try {
      stored = await this.store.getItems(index, [...tokens]);
    } catch (error) {
      throw toDomainError(error, index);
    }
    for (let i = 0; i < stored.length; i++) {
      if (i > 0 && i % OPENED_PER_TURN === 0) await nextTurn();
      const item = stored[i];
      try {
        const decoded = decodeItem(cipher.open(item.sealed, itemAad(index, item.token)));
        found.set(item.token.toString('latin1'), { item: decoded, sealTag: sealTagOf(item.sealed).toString('latin1') });
      } catch (error) {
        throw toDomainError(error, index, `item record of index "${index}"`);
      }
    }
    return found;
  }
}
