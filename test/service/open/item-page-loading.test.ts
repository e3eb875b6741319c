// Loading item records through the sealing workers (decrypted, decoded and analysed there) builds
// exactly the open index the main thread builds alone: the same records, vectors, commitment and
// term index (so the same BM25 scores), across pages that land on different workers. A record
// that fails authentication or does not decode fails the load with the main thread's error; a
// page no worker can take is opened on the main thread.
import { afterEach, describe, expect, it } from 'vitest';
import { IndexCipher, SealIntegrityError, generateDataKey } from '../../../src/crypto/index.js';
import { createRandom } from '../../../src/engine/random.js';
import type { StoredItem } from '../../../src/storage/index.js';
import { AcceptedKeys } from '../../../src/service/open/accepted-keys.js';
import { applyItemPages, WORKER_OPEN_MIN_ITEMS } from '../../../src/service/open/item-page-loading.js';
import { OpenIndex } from '../../../src/service/open/open-index.js';
import { itemAad } from '../../../src/service/records/associated-data.js';
import { ItemFormatError, encodeItem } from '../../../src/service/records/item-codec.js';
import type { IndexConfig } from '../../../src/service/records/index-config-record.js';
import { ITEM_TOKEN_DOMAIN } from '../../../src/service/records/item-token.js';
import { SealWorkers } from '../../../src/service/sealing/seal-workers.js';
import type { JsonObject } from '../../../src/service/types.js';
import { seededVectors } from '../reference-search.js';

const DIM = 4;
const CONFIG: IndexConfig = { dimension: DIM, metric: 'euclidean', type: 'ivf_flat', nLists: null, textSearch: true, textFields: ['title', 'tags'], textLanguage: 'english' };
const WORDS = ['running', 'runner', 'the', 'Café', 'cafe', 'zebra', 'Zebras', 'ICD-10', 'naïve', '東京', 'Ελληνικά', 'e.g.', '3.14', 'quartz', 'of', 'files'];

const pools: SealWorkers[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

interface Source {
  id: string;
  vector: Float32Array;
  contents: string | null;
  metadata: JsonObject | null;
}

/** Seeded items whose words repeat across pages, some in other scripts, some with no term at all. */
function sources(n: number): Source[] {
  const vectors = seededVectors(n, DIM, 3);
  const random = createRandom(7);
  const next = () => Math.floor(random() * 1000);
  const text = (words: number) => Array.from({ length: words }, () => WORDS[next() % WORDS.length]).join(next() % 5 === 0 ? ', ' : ' ');
  return vectors.map((vector, i) => ({
    id: `item-${i}`,
    vector: Float32Array.from(vector),
    contents: i % 11 === 0 ? null : i % 13 === 0 ? 'the of' : text(1 + (next() % 20)),
    metadata: i % 7 === 0 ? null : { title: text(2), tags: [text(1), 3, text(2)], other: 'hidden' },
  }));
}

function sealedPages(dataKey: Buffer, items: Source[], pageSize: number): StoredItem[][] {
  const cipher = new IndexCipher(dataKey);
  const stored = items.map((item, i) => {
    const token = cipher.token(ITEM_TOKEN_DOMAIN, item.id);
    const metadataJson = item.metadata === null ? null : JSON.stringify(item.metadata);
    return { token, sealed: cipher.seal(encodeItem({ ...item, metadataJson }, i * 17, 0), itemAad('docs', token)) };
  });
  const pages: StoredItem[][] = [];
  for (let start = 0; start < stored.length; start += pageSize) pages.push(stored.slice(start, start + pageSize));
  return pages;
}

async function* scan(pages: StoredItem[][]): AsyncIterable<StoredItem[]> {
  for (const page of pages) yield page;
}

/** Loads `pages` into a new open index, through `pool`'s workers when given. */
async function load(dataKey: Buffer, pool: SealWorkers | null, pages: StoredItem[][], expectedItems = 0): Promise<OpenIndex> {
  const sealer = pool === null ? null : { workers: pool, handle: pool.register('docs', dataKey) };
  const open = new OpenIndex('docs', CONFIG, new Date(0), new IndexCipher(dataKey), new AcceptedKeys('docs', Buffer.alloc(60)), sealer);
  await applyItemPages(open, scan(pages), sealer, expectedItems);
  return open;
}

/** Everything a load decides, in comparable form. */
function snapshot(open: OpenIndex, items: Source[]) {
  const text = open.text!;
  text.flush();
  const queries = [...WORDS, 'zebra runner', 'cafe quartz files', 'hidden', 'tokyo'];
  return {
    records: items.map((item) => open.record(item.id)),
    commitment: Array.from(open.commitment.sum),
    vectors: open.engine.search(items[5].vector, { topK: 10 }),
    documents: text.terms.documentCount,
    averageLength: text.terms.averageLength,
    termCount: text.terms.termCount,
    frequencies: WORDS.flatMap((word) => text.analyzer.terms(word)).map((term) => [term, text.terms.documentFrequency(term)]),
    hits: queries.map((query) => text.search(query, 20)),
  };
}

describe('applyItemPages', () => {
  it('opens a load expected to be small on the calling thread, the same as the workers would', async () => {
    const dataKey = generateDataKey();
    const items = sources(60);
    const pages = sealedPages(dataKey, items, 23);
    const pool = new SealWorkers(1);
    pools.push(pool);
    const small = await load(dataKey, pool, pages, WORKER_OPEN_MIN_ITEMS - 1);
    expect(pool.openedItems).toBe(0);
    const large = await load(dataKey, pool, pages, WORKER_OPEN_MIN_ITEMS);
    expect(pool.openedItems).toBe(items.length);
    expect(snapshot(small, items)).toEqual(snapshot(large, items));
  });

  it('opens a small load into an index already holding many items (a tail after a segment set) on the calling thread', async () => {
    const dataKey = generateDataKey();
    const items = sources(WORKER_OPEN_MIN_ITEMS + 20);
    const pages = sealedPages(dataKey, items, 500);
    const tail = pages.pop()!;
    expect(tail).toHaveLength(20);
    const pool = new SealWorkers(1);
    pools.push(pool);
    const sealer = { workers: pool, handle: pool.register('docs', dataKey) };
    const open = new OpenIndex('docs', CONFIG, new Date(0), new IndexCipher(dataKey), new AcceptedKeys('docs', Buffer.alloc(60)), sealer);
    await applyItemPages(open, scan(pages), null);
    await applyItemPages(open, scan([tail]), sealer, open.size + tail.length);
    expect(pool.openedItems).toBe(0);
    expect(open.size).toBe(items.length);
    expect(snapshot(open, items)).toEqual(snapshot(await load(dataKey, null, [...pages, tail]), items));
  });

  it('builds with the workers exactly what the main thread builds alone, over pages of both workers', async () => {
    const dataKey = generateDataKey();
    const items = sources(300);
    const pages = sealedPages(dataKey, items, 23);
    const alone = await load(dataKey, null, pages);
    const pool = new SealWorkers(2);
    pools.push(pool);
    const shared = await load(dataKey, pool, pages);
    expect(pool.openedItems).toBe(items.length);
    const expected = snapshot(alone, items);
    expect(expected.hits.filter((hits) => hits.length > 0).length).toBeGreaterThan(10);
    expect(snapshot(shared, items)).toEqual(expected);
    // Writes after the load use the same term ids.
    for (const open of [alone, shared]) {
      open.applyDeletes(['item-1', 'item-2']);
      open.applyUpserts([{ ...items[3], id: 'new', token: Buffer.alloc(32, 1), revision: 1, sealTag: 'x'.repeat(16) }]);
    }
    expect(snapshot(shared, items)).toEqual(snapshot(alone, items));
  });

  it('reports a record that fails authentication, or does not decode, as the main thread does', async () => {
    const dataKey = generateDataKey();
    const items = sources(60);
    const pool = new SealWorkers(1);
    pools.push(pool);
    // In the first page and in a later one (read while the worker still holds others).
    for (const [page, at] of [[0, 5], [2, 5]]) {
      const tampered = sealedPages(dataKey, items, 20);
      const altered = Buffer.from(tampered[page][at].sealed);
      altered[altered.length >> 1] ^= 1;
      tampered[page][at] = { token: tampered[page][at].token, sealed: altered };
      await expect(load(dataKey, null, tampered), `page ${page}`).rejects.toBeInstanceOf(SealIntegrityError);
      await expect(load(dataKey, pool, tampered), `page ${page}`).rejects.toBeInstanceOf(SealIntegrityError);
    }

    // Authentic but not an item record of this format.
    const cipher = new IndexCipher(dataKey);
    const broken = sealedPages(dataKey, items, 20);
    broken[1][0] = { token: broken[1][0].token, sealed: cipher.seal(Buffer.from('not an item'), itemAad('docs', broken[1][0].token)) };
    await expect(load(dataKey, null, broken)).rejects.toBeInstanceOf(ItemFormatError);
    await expect(load(dataKey, pool, broken)).rejects.toBeInstanceOf(ItemFormatError);
  });

  it('opens on the main thread the pages no worker can take', async () => {
    const dataKey = generateDataKey();
    const items = sources(80);
    const pages = sealedPages(dataKey, items, 30);
    const alone = await load(dataKey, null, pages);
    const pool = new SealWorkers(1);
    pools.push(pool);
    const open = new OpenIndex('docs', CONFIG, new Date(0), new IndexCipher(dataKey), new AcceptedKeys('docs', Buffer.alloc(60)), null);
    // A handle the pool does not know: every page is refused by the pool and opened here instead.
    await applyItemPages(open, scan(pages), { workers: pool, handle: 999 });
    expect(pool.openedItems).toBe(0);
    expect(snapshot(open, items)).toEqual(snapshot(alone, items));
  });
});
