// Makes an open index's memory match the store for some items, read back from the store. Used when
// a write turns out to have committed earlier (an idempotent retry whose first attempt's reply was
// lost): that attempt never reached memory here, and on a shared store this replica's own writes
// are not replayed from the change log, so memory is set from what the store holds now.

import type { Store } from '../../storage/index.js';
import { itemAad } from '../records/associated-data.js';
import { decodeItem } from '../records/item-codec.js';
import { OpenIndex, type ItemWrite } from './open-index.js';

/** Call under the index's write lock, so no write of this replica interleaves with the read. */
export async function refreshFromStore(store: Store, open: OpenIndex, items: ReadonlyArray<{ id: string; token: Buffer }>): Promise<void> {
  if (items.length === 0) return;
  const stored = await store.getItems(
    open.name,
    items.map((item) => item.token),
  );
  const present = new Map(stored.map((item) => [item.token.toString('latin1'), item]));
  const records: ItemWrite[] = [];
  const gone: string[] = [];
  for (const { id, token } of items) {
    const item = present.get(token.toString('latin1'));
    if (item === undefined) {
      if (open.record(id) !== undefined) gone.push(id);
      continue;
    }
    const decoded = decodeItem(open.cipher.open(item.sealed, itemAad(open.name, item.token)));
    if (open.record(decoded.id)?.revision !== decoded.revision) records.push(OpenIndex.recordOf(decoded, item.token, item.sealed));
  }
  if (records.length > 0) open.applyUpserts(records);
  if (gone.length > 0) open.applyDeletes(gone);
}
