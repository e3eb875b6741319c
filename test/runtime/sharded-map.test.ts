// ShardedMap behaves as a Map under any sequence of writes, keeps blocks of integer keys in order,
// and spreads string keys over its shards.
import { describe, expect, it } from 'vitest';
import { ShardedMap } from '../../src/runtime/sharded-map.js';
import { createRandom } from '../../src/engine/random.js';

describe('ShardedMap', () => {
  it('agrees with a Map over random sets, overwrites and deletes of integer and string keys', () => {
    const random = createRandom(11);
    const blocks = ShardedMap.byBlock<number>();
    const hashed = ShardedMap.byHash<number>();
    const model = new Map<number, number>();
    for (let op = 0; op < 50_000; op++) {
      const key = Math.floor(random() * 20_000);
      if (random() < 0.3) {
        const present = model.delete(key);
        expect(blocks.delete(key)).toBe(present);
        expect(hashed.delete(`id-${key}`)).toBe(present);
      } else {
        model.set(key, op);
        blocks.set(key, op);
        hashed.set(`id-${key}`, op);
      }
      expect(blocks.size).toBe(model.size);
      expect(hashed.size).toBe(model.size);
    }
    for (let key = 0; key < 20_000; key++) {
      expect(blocks.get(key)).toBe(model.get(key));
      expect(hashed.get(`id-${key}`)).toBe(model.get(key));
      expect(blocks.has(key)).toBe(model.has(key));
    }
    expect(new Map(blocks.entries())).toEqual(model);
    expect(new Map([...hashed].map(([id, value]) => [Number(id.slice(3)), value]))).toEqual(model);
    blocks.clear();
    expect(blocks.size).toBe(0);
    expect([...blocks.keys()]).toEqual([]);
  });

  it('iterates integer keys written in increasing order in that order, across blocks and after deletes', () => {
    const map = ShardedMap.byBlock<string>();
    const keys = Array.from({ length: 30_000 }, (_, i) => i * 3);
    for (const key of keys) map.set(key, `v${key}`);
    // A whole block deleted, and a few keys here and there.
    for (let key = 0; key < 4096 * 2; key++) map.delete(key);
    for (const key of [12_000, 30_003, 89_997]) map.delete(key);
    const kept = keys.filter((key) => key >= 8192 && ![12_000, 30_003, 89_997].includes(key));
    expect([...map.keys()]).toEqual(kept);
    expect([...map.values()]).toEqual(kept.map((key) => `v${key}`));
  });
});
