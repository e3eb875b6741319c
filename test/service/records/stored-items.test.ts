// Bulk reads open their records a slice at a time, letting the event loop turn between slices
// (queries are answered meanwhile), and still return every record exactly.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { IndexCipher } from '../../../src/crypto/index-cipher.js';
import { itemAad } from '../../../src/service/records/associated-data.js';
import { encodeItem } from '../../../src/service/records/item-codec.js';
import { StoredItems } from '../../../src/service/records/stored-items.js';
import { VectorCache } from '../../../src/service/records/vector-cache.js';
import type { StoredItem } from '../../../src/storage/index.js';

function sealedItems(cipher: IndexCipher, index: string, count: number): StoredItem[] {
  return Array.from({ length: count }, (_, i) => {
    const token = randomBytes(32);
    const vector = Float32Array.from({ length: 4 }, (_, j) => i + j / 10);
    return { token, sealed: cipher.seal(encodeItem({ id: `item-${i}`, vector, contents: null, metadataJson: null }, i), itemAad(index, token)) };
  });
}

describe('StoredItems.read', () => {
  const index = 'reads';
  const cipher = new IndexCipher(randomBytes(32));
  /** Reads `count` sealed items back, and whether a turn of the event loop came while it did. */
  async function readAll(count: number): Promise<{ items: StoredItem[]; found: Awaited<ReturnType<StoredItems['read']>>; turned: boolean }> {
    const items = sealedItems(cipher, index, count);
    const reads = new StoredItems({ getItems: async () => items, readCommitment: async () => null }, new VectorCache(1 << 20));
    let turned = false;
    setImmediate(() => (turned = true));
    const found = await reads.read(index, cipher, items.map((item) => item.token));
    return { items, found, turned };
  }

  it('lets the event loop turn while it opens a bulk read, and returns every record', async () => {
    const { items, found, turned } = await readAll(1000);
    expect(turned).toBe(true);
    expect(found.size).toBe(1000);
    items.forEach((item, i) => {
      const read = found.get(item.token.toString('latin1'));
      expect(read?.item.id).toBe(`item-${i}`);
      expect(Array.from(read!.item.vector)).toEqual(Array.from(Float32Array.from({ length: 4 }, (_, j) => i + j / 10)));
    });
  });

  it('opens a small read in one go', async () => {
    const { found, turned } = await readAll(100);
    expect(turned).toBe(false);
    expect(found.size).toBe(100);
  });
});
