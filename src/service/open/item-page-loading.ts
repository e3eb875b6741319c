// Applies the item records an open reads, page by page, to the open index. With sealing workers,
// pages are decrypted, decoded and their text analysed in the workers (a few pages ahead), while
// the main thread indexes the pages already back, in the order they were read; without workers,
// or for a page a worker could not take (it died), the main thread opens the records itself. A
// record that fails authentication or does not decode fails the load either way, with the same
// error the main thread would have raised.

import type { StoredItem } from '../../storage/index.js';
import { SealIntegrityError } from '../../crypto/index.js';
import { itemAad } from '../records/associated-data.js';
import { ItemFormatError, decodeItem } from '../records/item-codec.js';
import { sealTagOf } from '../records/index-commitment.js';
import type { OpenedPageOf } from '../sealing/seal-workers.js';
import { TermTranslation } from '../text/term-translation.js';
import { OpenIndex, type ItemWrite, type SealerRegistration } from './open-index.js';

/** Pages handed to the workers ahead of the one being indexed, per worker. */
const PAGES_AHEAD_PER_WORKER = 2;
/**
 * A load expected to be smaller opens on the calling thread: it is about one page, so nothing
 * overlaps, and a worker's round trip (or its start, about a second under tsx) costs more than
 * decrypting it here (tens of microseconds an item).
 */
export const WORKER_OPEN_MIN_ITEMS = 2000;

/**
 * `expectedItems`: how many items the index will likely hold after the load (a size hint: the
 * term index makes room for them after the first page, and a load adding fewer than
 * WORKER_OPEN_MIN_ITEMS to what `open` holds opens on this thread; 0 for no hint).
 */
export async function applyItemPages(open: OpenIndex, pages: AsyncIterable<StoredItem[]>, sealer: SealerRegistration | null, expectedItems = 0): Promise<void> {
  let hinted = false;
  const reserveAfterFirstPage = (): void => {
    if (hinted) return;
    hinted = true;
    open.text?.reserve(expectedItems - open.size);
  };
  const small = expectedItems > 0 && expectedItems - open.size < WORKER_OPEN_MIN_ITEMS;
  if (sealer === null || sealer.workers.size === 0 || small) {
    for await (const page of pages) {
      open.applyUpserts(openOnMainThread(open, page));
      reserveAfterFirstPage();
    }
    return;
  }
  const { workers, handle } = sealer;
  const load = workers.beginLoad();
  const text = open.text === null ? null : open.text.config;
  const translations = new Map<number, TermTranslation>();
  const ahead: { page: StoredItem[]; opened: Promise<OpenedPageOf> }[] = [];
  const applyNext = async (): Promise<void> => {
    const { page, opened } = ahead.shift()!;
    let result: OpenedPageOf;
    try {
      result = await opened;
    } catch (error) {
      if (error instanceof SealIntegrityError || error instanceof ItemFormatError) throw error;
      open.applyUpserts(openOnMainThread(open, page));
      reserveAfterFirstPage();
      return;
    }
    const dimension = open.config.dimension;
    const writes = page.map(
      (item, i): ItemWrite => ({
        id: result.ids[i],
        token: item.token,
        revision: result.revisions[i],
        sealTag: sealTagOf(item.sealed).toString('latin1'),
        vector: result.vectors.subarray(i * dimension, (i + 1) * dimension),
        contents: null,
        metadata: result.metadata[i],
      }),
    );
    if (result.text === null || open.text === null) {
      open.applyUpserts(writes);
      reserveAfterFirstPage();
      return;
    }
    let translation = translations.get(result.numbering);
    if (translation === undefined) {
      translation = new TermTranslation();
      translations.set(result.numbering, translation);
    }
    translation.learn(result.text, open.text.terms);
    open.applyUpserts(writes, { counted: { terms: result.text, translation } });
    reserveAfterFirstPage();
  };
  try {
    for await (const page of pages) {
      const opened = workers.openPage(handle, load, page, open.config.dimension, text);
      // Awaited in order by applyNext; one failing after the load already failed must not go unhandled.
      opened.catch(() => undefined);
      ahead.push({ page, opened });
      if (ahead.length > workers.size * PAGES_AHEAD_PER_WORKER) await applyNext();
    }
    while (ahead.length > 0) await applyNext();
  } finally {
    workers.endLoad(load);
  }
}

function openOnMainThread(open: OpenIndex, page: readonly StoredItem[]): ItemWrite[] {
  return page.map((item) => OpenIndex.recordOf(decodeItem(open.cipher.open(item.sealed, itemAad(open.name, item.token))), item.token, item.sealed));
}
